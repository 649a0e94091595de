import type Router from '@koa/router';
import type { RouteContext } from './http-helpers.js';
import { z } from 'zod';
import { ApiError } from '@portcullis/http';
import {
  consoleReturnPath,
  csrfTokenFor,
  requireAal2,
  requireRecentAuth,
  requireSession,
  sessionOf,
  signedInAdmin,
} from '@portcullis/session-auth';
import type { ServiceContext } from '../context.js';
import { homePage, passwordPage, reauthenticatePage } from '../pages/auth-pages.js';
import {
  bodyOf,
  codeField,
  currentSessionHash,
  nextStepOf,
  redirectOrJson,
  requestInfo,
  respond,
  stepUp,
  withFormErrors,
} from './http-helpers.js';

const passwordBody = z.object({
  currentPassword: z
    .string({ error: 'is required' })
    .min(1, 'is required')
    .max(256, 'must have at most 256 characters'),
  newPassword: z.string({ error: 'is required' }).min(1, 'is required').max(256, 'must have at most 256 characters'),
});
const reauthBody = z.object({
  password: z.string({ error: 'is required' }).min(1, 'is required').max(256, 'must have at most 256 characters'),
  code: codeField,
});

export default function accountRoutes(router: Router, c: ServiceContext): void {
  const session = requireSession(c.policy);
  const fullLevel = (ctx: RouteContext, next: () => Promise<unknown>) => {
    if (sessionOf(ctx).aal !== 2) throw new ApiError('auth.mfa_required', 403, 'Complete the second factor first.');
    return next();
  };

  router.get('/me', session, requireAal2(), async (ctx) => {
    // From the session: a change to the admin that matters (reset, disable, suspension, new
    // password) revokes it, so nothing here needs a query.
    const admin = signedInAdmin(ctx);
    const email = admin.email ?? (await c.account.emailOf(admin.kind, admin.id));
    const me = {
      id: admin.id,
      kind: admin.kind,
      email,
      tenantId: admin.tenantId,
      assurance: admin.assurance,
      mfaEnrolled: true,
      sessionCreatedAt: new Date(admin.sessionCreatedAt).toISOString(),
    };
    respond(ctx, me, () => homePage(csrfTokenFor(ctx), me));
  });

  // Reachable while a password change is required (that is its purpose), but only at level 2.
  router.get('/password', session, fullLevel, (ctx) => {
    respond(ctx, { mustChangePassword: !!sessionOf(ctx).mustChangePassword }, () =>
      passwordPage(csrfTokenFor(ctx), !!sessionOf(ctx).mustChangePassword),
    );
  });

  // A recent confirmation too (a fresh sign-in is one): a stolen older cookie cannot change it.
  router.post('/password', session, fullLevel, requireRecentAuth(c.clock, c.settings.reauthMaxAgeMs), async (ctx) => {
    await withFormErrors(
      ctx,
      (message) => passwordPage(csrfTokenFor(ctx), !!sessionOf(ctx).mustChangePassword, message),
      async () => {
        const admin = signedInAdmin(ctx);
        const { currentPassword, newPassword } = bodyOf(ctx, passwordBody);
        await c.account.changePassword(admin.kind, admin.id, currentPassword, newPassword, requestInfo(ctx));
        // Every other session is now void (the revocation marker); this one continues under a new id.
        const { cutOff } = await c.sessions.revokeOthers(admin, currentSessionHash(ctx, c));
        const raised = await stepUp(ctx, c, { mustChangePassword: false, createdAt: cutOff });
        const { next, location } = nextStepOf(ctx, raised);
        redirectOrJson(ctx, { passwordChanged: true, next }, location);
      },
    );
  });

  // `next` comes from mfa-admin and audit-log forms; only a path of this product is followed.
  const nextOf = (value: unknown) => consoleReturnPath(value) ?? '/auth/me';

  router.get('/reauthenticate', session, requireAal2(), (ctx) => {
    const next = nextOf(ctx.query.next);
    respond(ctx, { next }, () => reauthenticatePage(csrfTokenFor(ctx), next));
  });

  router.post('/reauthenticate', session, requireAal2(), async (ctx) => {
    const next = nextOf((ctx.request as { body?: { next?: unknown } }).body?.next);
    await withFormErrors(
      ctx,
      (message) => reauthenticatePage(csrfTokenFor(ctx), next, message),
      async () => {
        const { kind, id, userId } = signedInAdmin(ctx);
        const { password, code } = bodyOf(ctx, reauthBody);
        const admin = await c.admins.findById(kind, id);
        const info = requestInfo(ctx);
        if (!admin || !(await c.signIn.verifyPasswordOf(kind, admin, password, info)))
          throw new ApiError('auth.invalid_credentials', 401, 'The password or code is not right.');
        await c.secondFactor.verify(kind, admin.id, code, userId, info);
        await stepUp(ctx, c);
        redirectOrJson(ctx, { reauthenticatedAt: new Date(c.clock.now()).toISOString() }, next);
      },
    );
  });
}
