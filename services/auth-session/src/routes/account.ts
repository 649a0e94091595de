import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { apiError, redirectOrJson, respond, route } from '@portcullis/http';
import {
  consoleReturnPath,
  csrfTokenFor,
  requireAal2,
  requireRecentAuth,
  requireSession,
  sessionOf,
  signedInAdmin,
} from '@portcullis/session-auth';
import { api } from '../api.js';
import type { ServiceContext } from '../context.js';
import { homePage, passwordPage, reauthenticatePage } from '../pages/auth-pages.js';
import { currentSessionHash, nextStepOf, requestInfo, stepUp } from './http-helpers.js';

export default function accountRoutes(router: Router, c: ServiceContext): void {
  const session = requireSession(c.policy);
  // Level 2, but reachable while a password change is required (that is its purpose).
  const fullLevel: Middleware = (ctx, next) => {
    if (sessionOf(ctx).aal !== 2) throw apiError('auth.mfa_required');
    return next();
  };

  route(router, api.me, [session, requireAal2()], async (ctx) => {
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
    respond(ctx, api.me, me, () => homePage(csrfTokenFor(ctx), me));
  });

  route(router, api.passwordPage, [session, fullLevel], (ctx) => {
    const mustChangePassword = !!sessionOf(ctx).mustChangePassword;
    respond(ctx, api.passwordPage, { mustChangePassword }, () => passwordPage(csrfTokenFor(ctx), mustChangePassword));
  });

  // A recent confirmation too (a fresh sign-in is one): a stolen older cookie cannot change it.
  route(
    router,
    api.changePassword,
    [session, fullLevel, requireRecentAuth(c.clock, c.settings.reauthMaxAgeMs)],
    async (ctx, { body }) => {
      const admin = signedInAdmin(ctx);
      await c.account.changePassword(admin.kind, admin.id, body.currentPassword, body.newPassword, requestInfo(ctx));
      // Every other session is now void (the revocation marker); this one continues under a new id.
      const { cutOff } = await c.sessions.revokeOthers(admin, currentSessionHash(ctx, c));
      const raised = await stepUp(ctx, c, { mustChangePassword: false, createdAt: cutOff });
      const { next, location } = nextStepOf(ctx, raised);
      redirectOrJson(ctx, api.changePassword, { passwordChanged: true, next }, location);
    },
    {
      formPage: (ctx, message) => passwordPage(csrfTokenFor(ctx), !!sessionOf(ctx).mustChangePassword, message),
    },
  );

  // `next` comes from mfa-admin and audit-log forms; only a path of this product is followed.
  const nextOf = (value: unknown) => consoleReturnPath(value) ?? '/auth/me';
  const postedNext = (ctx: { request: unknown }) => nextOf((ctx.request as { body?: { next?: unknown } }).body?.next);

  route(router, api.reauthenticatePage, [session, requireAal2()], (ctx, { query }) => {
    const next = nextOf(query.next);
    respond(ctx, api.reauthenticatePage, { next }, () => reauthenticatePage(csrfTokenFor(ctx), next));
  });

  route(
    router,
    api.reauthenticate,
    [session, requireAal2()],
    async (ctx, { body }) => {
      const { kind, id, userId } = signedInAdmin(ctx);
      await c.account.reauthenticate(kind, id, body.password, body.code, userId, requestInfo(ctx));
      await stepUp(ctx, c);
      redirectOrJson(
        ctx,
        api.reauthenticate,
        { reauthenticatedAt: new Date(c.clock.now()).toISOString() },
        postedNext(ctx),
      );
    },
    { formPage: (ctx, message) => reauthenticatePage(csrfTokenFor(ctx), postedNext(ctx), message) },
  );
}
