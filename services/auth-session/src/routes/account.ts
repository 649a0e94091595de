import type Router from '@koa/router';
import type { RouteContext } from './http-helpers.js';
import { z } from 'zod';
import { ApiError } from '@portcullis/http';
import { consoleReturnPath, csrfTokenFor, requireAal2, requireRecentAuth, requireSession, sessionOf } from '@portcullis/session-auth';
import type { ServiceContext } from '../context.js';
import { homePage, passwordPage, reauthenticatePage } from '../pages/auth-pages.js';
import { bodyOf, codeField, currentSessionHash, nextStepOf, redirectOrJson, requestInfo, respond, stepUp, withFormErrors } from './http-helpers.js';

const passwordBody = z.object({
  currentPassword: z.string({ error: 'is required' }).min(1, 'is required').max(256, 'must have at most 256 characters'),
  newPassword: z.string({ error: 'is required' }).min(1, 'is required').max(256, 'must have at most 256 characters'),
});
const reauthBody = z.object({ password: z.string({ error: 'is required' }).min(1, 'is required').max(256, 'must have at most 256 characters'), code: codeField });

export default function accountRoutes(router: Router, c: ServiceContext): void {
  const session = requireSession(c.policy);
  const fullLevel = (ctx: RouteContext, next: () => Promise<unknown>) => {
    if (sessionOf(ctx).aal !== 2) throw new ApiError('auth.mfa_required', 403, 'Complete the second factor first.');
    return next();
  };

  router.get('/me', session, requireAal2(), async (ctx) => {
    const current = sessionOf(ctx);
    const admin = await c.admins.findById(current.kind!, current.adminId!);
    if (!admin) throw new ApiError('auth.session_expired', 401, 'Your session has ended. Sign in again.');
    const me = { id: admin.id, kind: current.kind!, email: admin.email, tenantId: admin.tenant_id, assurance: current.aal!, mfaEnrolled: admin.mfa_enabled, sessionCreatedAt: new Date(current.createdAt!).toISOString() };
    respond(ctx, me, () => homePage(csrfTokenFor(ctx), me));
  });

  // Reachable while a password change is required (that is its purpose), but only at level 2.
  router.get('/password', session, fullLevel, (ctx) => {
    respond(ctx, { mustChangePassword: !!sessionOf(ctx).mustChangePassword }, () => passwordPage(csrfTokenFor(ctx), !!sessionOf(ctx).mustChangePassword));
  });

  // A recent confirmation too (a fresh sign-in is one): a stolen older cookie cannot change it.
  router.post('/password', session, fullLevel, requireRecentAuth(c.clock, c.settings.reauthMaxAgeMs), async (ctx) => {
    await withFormErrors(ctx, (message) => passwordPage(csrfTokenFor(ctx), !!sessionOf(ctx).mustChangePassword, message), async () => {
      const current = sessionOf(ctx);
      const { currentPassword, newPassword } = bodyOf(ctx, passwordBody);
      await c.account.changePassword(current.kind!, current.adminId!, currentPassword, newPassword, requestInfo(ctx));
      // Every other session is now void (sessions_revoked_at); this one continues under a new id.
      await c.sessions.revokeOthers(current.userId!, currentSessionHash(ctx, c));
      const raised = await stepUp(ctx, c, { mustChangePassword: false, createdAt: c.clock.now() });
      const { next, location } = nextStepOf(ctx, raised);
      redirectOrJson(ctx, { passwordChanged: true, next }, location);
    });
  });

  // `next` comes from mfa-admin and audit-log forms; only a path of this product is followed.
  const nextOf = (value: unknown) => consoleReturnPath(value) ?? '/auth/me';

  router.get('/reauthenticate', session, requireAal2(), (ctx) => {
    const next = nextOf(ctx.query.next);
    respond(ctx, { next }, () => reauthenticatePage(csrfTokenFor(ctx), next));
  });

  router.post('/reauthenticate', session, requireAal2(), async (ctx) => {
    const next = nextOf((ctx.request as { body?: { next?: unknown } }).body?.next);
    await withFormErrors(ctx, (message) => reauthenticatePage(csrfTokenFor(ctx), next, message), async () => {
      const current = sessionOf(ctx);
      const { password, code } = bodyOf(ctx, reauthBody);
      const admin = await c.admins.findById(current.kind!, current.adminId!);
      const info = requestInfo(ctx);
      if (!admin || !(await c.signIn.verifyPasswordOf(current.kind!, admin, password, info))) throw new ApiError('auth.invalid_credentials', 401, 'The password or code is not right.');
      await c.secondFactor.verify(current.kind!, admin.id, code, `${current.kind}:${admin.id}`, info);
      await stepUp(ctx, c);
      redirectOrJson(ctx, { reauthenticatedAt: new Date(c.clock.now()).toISOString() }, next);
    });
  });
}
