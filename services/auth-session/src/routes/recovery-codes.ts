import type Router from '@koa/router';
import { respond, route } from '@portcullis/http';
import { csrfTokenFor, requireAal2, requireRecentAuth, requireSession, signedInAdmin } from '@portcullis/session-auth';
import { api } from '../api.js';
import type { ServiceContext } from '../context.js';
import { recoveryCodesPage, recoveryStatusPage } from '../pages/auth-pages.js';
import { requestInfo } from './http-helpers.js';

/** Self-service recovery codes: how many are left, and a new set (after a recent re-authentication). */
export default function recoveryCodeRoutes(router: Router, c: ServiceContext): void {
  const guards = [requireSession(c.policy), requireAal2()];

  route(router, api.recoveryCodesLeft, guards, async (ctx) => {
    const admin = signedInAdmin(ctx);
    const remaining = await c.enrolment.recoveryCodesLeft(admin.kind, admin.id);
    respond(ctx, api.recoveryCodesLeft, { remaining }, () =>
      recoveryStatusPage(csrfTokenFor(ctx), remaining, admin.kind),
    );
  });

  // The old codes stop working, so a stolen session alone cannot swap them: a fresh password + code first.
  route(
    router,
    api.newRecoveryCodes,
    [...guards, requireRecentAuth(c.clock, c.settings.reauthMaxAgeMs)],
    async (ctx) => {
      const admin = signedInAdmin(ctx);
      const recoveryCodes = await c.enrolment.regenerateRecoveryCodes(admin.kind, admin.id, requestInfo(ctx));
      respond(ctx, api.newRecoveryCodes, { recoveryCodes }, () =>
        recoveryCodesPage(recoveryCodes, '/auth/recovery-codes'),
      );
    },
    {
      formPage: async (ctx, message) => {
        const admin = signedInAdmin(ctx);
        const remaining = await c.enrolment.recoveryCodesLeft(admin.kind, admin.id);
        return recoveryStatusPage(csrfTokenFor(ctx), remaining, admin.kind, message);
      },
    },
  );
}
