import type Router from '@koa/router';
import { apiError, redirectOrJson, respond, route, wantsJson } from '@portcullis/http';
import { csrfTokenFor, requireSession, sessionOf, signedInAdmin, signInStep } from '@portcullis/session-auth';
import { api } from '../api.js';
import type { ServiceContext } from '../context.js';
import { enrolPage, messagePage, mfaPage, recoveryCodesPage } from '../pages/auth-pages.js';
import { nextStepOf, signInRequestInfo, stepUp } from './http-helpers.js';

export default function mfaRoutes(router: Router, c: ServiceContext): void {
  const session = [requireSession(c.policy)];

  route(router, api.mfaPage, session, (ctx) => {
    respond(ctx, api.mfaPage, signInStep(sessionOf(ctx)), () => mfaPage(csrfTokenFor(ctx)));
  });

  route(
    router,
    api.verifyMfa,
    session,
    async (ctx, { body }) => {
      const admin = signedInAdmin(ctx);
      if (admin.assurance === 2) throw apiError('mfa.already_verified');
      // The catalogue's words: no API path in what a page shows (GET /auth/mfa tells clients the next step).
      if (sessionOf(ctx).mustEnrollMfa) throw apiError('mfa.not_enrolled');
      const result = await c.secondFactor.verify(
        admin.kind,
        admin.id,
        body.code,
        admin.userId,
        signInRequestInfo(ctx, c),
      );
      const raised = await stepUp(ctx, c);
      const { next, location } = nextStepOf(ctx, raised);
      redirectOrJson(
        ctx,
        api.verifyMfa,
        {
          assurance: 2,
          next,
          method: result.method,
          ...(result.remainingRecoveryCodes !== undefined
            ? { remainingRecoveryCodes: result.remainingRecoveryCodes }
            : {}),
        },
        location,
      );
    },
    { formPage: (ctx, message) => mfaPage(csrfTokenFor(ctx), message) },
  );

  route(router, api.enrolmentOffer, session, async (ctx) => {
    const admin = signedInAdmin(ctx);
    const current = sessionOf(ctx);
    const offer = await c.enrolment.offer(admin.kind, admin.id, current.pendingTotpSecret);
    current.pendingTotpSecret = offer.pendingSecret;
    respond(
      ctx,
      api.enrolmentOffer,
      {
        otpauthUri: offer.otpauthUri,
        qrCodeDataUrl: offer.qrCodeDataUrl,
        secret: offer.secret,
        ...(offer.resetAt ? { mfaResetAt: offer.resetAt.toISOString() } : {}),
      },
      () => enrolPage(csrfTokenFor(ctx), offer),
    );
  });

  route(
    router,
    api.enrol,
    session,
    async (ctx, { body }) => {
      const admin = signedInAdmin(ctx);
      const current = sessionOf(ctx);
      const recoveryCodes = await c.enrolment.activate(
        admin.kind,
        admin.id,
        current.pendingTotpSecret,
        body.code,
        signInRequestInfo(ctx, c),
      );
      const raised = await stepUp(ctx, c, { pendingTotpSecret: undefined, mustEnrollMfa: false });
      const { next, location } = nextStepOf(ctx, raised);
      respond(ctx, api.enrol, { assurance: 2, next, recoveryCodes }, () => recoveryCodesPage(recoveryCodes, location));
    },
    {
      // Browsers get the same QR back with the error.
      formPage: async (ctx, message) => {
        const admin = signedInAdmin(ctx);
        const offer = wantsJson(ctx)
          ? undefined
          : await c.enrolment.offer(admin.kind, admin.id, sessionOf(ctx).pendingTotpSecret).catch(() => undefined);
        return offer ? enrolPage(csrfTokenFor(ctx), offer, message) : messagePage('Authenticator', message);
      },
    },
  );
}
