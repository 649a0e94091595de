import type Router from '@koa/router';
import { redirectOrJson, respond, route } from '@portcullis/http';
import { consoleReturnPath, csrfTokenFor, requireSession, signedInAdmin } from '@portcullis/session-auth';
import { api } from '../api.js';
import type { ServiceContext } from '../context.js';
import { loginPage, signOutPage } from '../pages/auth-pages.js';
import { loginCsrfToken } from './login-csrf.js';
import { nextStepOf, requestInfo, signInRequestInfo, startAdminSession } from './http-helpers.js';

/** What a browser typed, kept when its form is shown again (never the password). */
const typedOf = (ctx: { request: unknown }) =>
  ((ctx.request as { body?: { tenant?: string; email?: string; next?: unknown } }).body ?? {}) as {
    tenant?: string;
    email?: string;
    next?: unknown;
  };

export default function signInRoutes(router: Router, c: ServiceContext): void {
  const session = [requireSession(c.policy)];

  route(router, api.loginPage, [], (ctx) => {
    const returnTo = consoleReturnPath(ctx.query.next);
    // No session yet: the form's token lives in a signed cookie (login-csrf.ts), so a page view writes nothing to the store.
    const token = loginCsrfToken(ctx, c.settings);
    respond(ctx, api.loginPage, { csrfToken: token }, () => loginPage(token, undefined, { returnTo }));
  });

  route(
    router,
    api.login,
    [],
    async (ctx, { body }) => {
      const returnTo = consoleReturnPath(typedOf(ctx).next);
      const signedIn = await c.signIn.verifyPassword(body, signInRequestInfo(ctx, c));
      const started = await startAdminSession(ctx, c, signedIn, 1);
      if (returnTo) started.returnTo = returnTo;
      const { next, location } = nextStepOf(ctx, started);
      ctx.log.info({ adminId: signedIn.admin.id, adminKind: signedIn.kind, next }, 'password accepted');
      redirectOrJson(ctx, api.login, { assurance: 1, next }, location);
    },
    {
      formPage: (ctx, message) => {
        const typed = typedOf(ctx);
        return loginPage(loginCsrfToken(ctx, c.settings), message, {
          tenant: typed.tenant,
          email: typed.email,
          returnTo: consoleReturnPath(typed.next),
        });
      },
    },
  );

  route(router, api.logoutPage, session, (ctx) => {
    respond(ctx, api.logoutPage, { signedIn: true }, () => signOutPage(csrfTokenFor(ctx)));
  });

  route(router, api.logout, session, async (ctx) => {
    await c.sessions.signOut(signedInAdmin(ctx), requestInfo(ctx));
    ctx.session = null;
    redirectOrJson(ctx, api.logout, { signedOut: true }, '/auth/login');
  });
}
