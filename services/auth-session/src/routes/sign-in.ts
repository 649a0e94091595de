import type Router from '@koa/router';
import { z } from 'zod';
import { consoleReturnPath, csrfTokenFor, requireSession, signedInAdmin } from '@portcullis/session-auth';
import type { ServiceContext } from '../context.js';
import { loginPage, signOutPage } from '../pages/auth-pages.js';
import { loginCsrfToken } from './login-csrf.js';
import {
  bodyOf,
  emailField,
  nextStepOf,
  redirectOrJson,
  respond,
  signInRequestInfo,
  startAdminSession,
  withFormErrors,
} from './http-helpers.js';

const loginBody = z.object({
  tenant: z
    .string()
    .trim()
    .max(63, 'must have at most 63 characters')
    .regex(/^([a-z0-9][a-z0-9-]*)?$/i, 'must be a tenant slug (letters, digits, dashes)')
    .optional()
    .transform((value) => value || undefined),
  email: emailField,
  password: z.string({ error: 'is required' }).min(1, 'is required').max(256, 'must have at most 256 characters'),
});

export default function signInRoutes(router: Router, c: ServiceContext): void {
  router.get('/login', (ctx) => {
    const returnTo = consoleReturnPath(ctx.query.next);
    // No session yet: the form's token lives in a signed cookie (login-csrf.ts), so a page view writes nothing to the store.
    const token = loginCsrfToken(ctx, c.settings);
    respond(ctx, { csrfToken: token }, () => loginPage(token, undefined, { returnTo }));
  });

  router.post('/login', async (ctx) => {
    const typed = (ctx.request as { body?: { tenant?: string; email?: string; next?: unknown } }).body ?? {};
    const returnTo = consoleReturnPath(typed.next);
    await withFormErrors(
      ctx,
      (message) =>
        loginPage(loginCsrfToken(ctx, c.settings), message, { tenant: typed.tenant, email: typed.email, returnTo }),
      async () => {
        const input = bodyOf(ctx, loginBody);
        const signedIn = await c.signIn.verifyPassword(input, signInRequestInfo(ctx, c));
        const session = await startAdminSession(ctx, c, signedIn, 1);
        if (returnTo) session.returnTo = returnTo;
        const { next, location } = nextStepOf(ctx, session);
        ctx.log.info({ adminId: signedIn.admin.id, adminKind: signedIn.kind, next }, 'password accepted');
        redirectOrJson(ctx, { assurance: 1, next }, location);
      },
    );
  });

  router.get('/logout', requireSession(c.policy), (ctx) => {
    respond(ctx, { signedIn: true }, () => signOutPage(csrfTokenFor(ctx)));
  });

  router.post('/logout', requireSession(c.policy), async (ctx) => {
    const admin = signedInAdmin(ctx);
    await c.audit.record({
      tenantId: admin.tenantId,
      actorType: `${admin.kind}_admin`,
      actorId: admin.id,
      action: 'auth.logout',
      ip: ctx.ip,
      requestId: ctx.requestId,
    });
    ctx.session = null;
    redirectOrJson(ctx, { signedOut: true }, '/auth/login');
  });
}
