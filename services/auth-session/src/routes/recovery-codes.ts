import type Router from '@koa/router';
import { csrfTokenFor, requireAal2, requireRecentAuth, requireSession, signedInAdmin } from '@portcullis/session-auth';
import type { ServiceContext } from '../context.js';
import { recoveryCodesPage, recoveryStatusPage } from '../pages/auth-pages.js';
import { requestInfo, respond, withFormErrors } from './http-helpers.js';

/** Self-service recovery codes: how many are left, and a new set (after a recent re-authentication). */
export default function recoveryCodeRoutes(router: Router, c: ServiceContext): void {
  const guards = [requireSession(c.policy), requireAal2()];

  router.get('/recovery-codes', ...guards, async (ctx) => {
    const admin = signedInAdmin(ctx);
    const remaining = await c.enrolment.recoveryCodesLeft(admin.kind, admin.id);
    respond(ctx, { remaining }, () => recoveryStatusPage(csrfTokenFor(ctx), remaining, admin.kind));
  });

  // The old codes stop working, so a stolen session alone cannot swap them: a fresh password + code first.
  router.post('/recovery-codes', ...guards, requireRecentAuth(c.clock, c.settings.reauthMaxAgeMs), async (ctx) => {
    const admin = signedInAdmin(ctx);
    // Computed first: the error page renders synchronously.
    const remaining = await c.enrolment.recoveryCodesLeft(admin.kind, admin.id);
    await withFormErrors(
      ctx,
      (message) => recoveryStatusPage(csrfTokenFor(ctx), remaining, admin.kind, message),
      async () => {
        const recoveryCodes = await c.enrolment.regenerateRecoveryCodes(admin.kind, admin.id, requestInfo(ctx));
        respond(ctx, { recoveryCodes }, () => recoveryCodesPage(recoveryCodes, '/auth/recovery-codes'));
      },
    );
  });
}
