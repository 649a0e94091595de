import type Router from '@koa/router';
import { z } from 'zod';
import { ApiError } from '@portcullis/http';
import { csrfTokenFor, requireSession, sessionOf, signedInAdmin, signInStep } from '@portcullis/session-auth';
import type { ServiceContext } from '../context.js';
import { enrolPage, messagePage, mfaPage, recoveryCodesPage } from '../pages/auth-pages.js';
import {
  bodyOf,
  codeField,
  nextStepOf,
  redirectOrJson,
  respond,
  signInRequestInfo,
  stepUp,
  wantsJson,
  withFormErrors,
} from './http-helpers.js';

const codeBody = z.object({ code: codeField });

export default function mfaRoutes(router: Router, c: ServiceContext): void {
  const session = requireSession(c.policy);

  router.get('/mfa', session, (ctx) => {
    respond(ctx, signInStep(sessionOf(ctx)), () => mfaPage(csrfTokenFor(ctx)));
  });

  router.post('/mfa/verify', session, async (ctx) => {
    await withFormErrors(
      ctx,
      (message) => mfaPage(csrfTokenFor(ctx), message),
      async () => {
        const admin = signedInAdmin(ctx);
        if (admin.assurance === 2)
          throw new ApiError('mfa.already_verified', 409, 'This session has already passed the second factor.');
        if (sessionOf(ctx).mustEnrollMfa)
          throw new ApiError('mfa.not_enrolled', 409, 'Set up an authenticator first (GET /auth/mfa/enroll).');
        const { code } = bodyOf(ctx, codeBody);
        const result = await c.secondFactor.verify(admin.kind, admin.id, code, admin.userId, signInRequestInfo(ctx, c));
        const raised = await stepUp(ctx, c);
        const { next, location } = nextStepOf(ctx, raised);
        redirectOrJson(
          ctx,
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
    );
  });

  router.get('/mfa/enroll', session, async (ctx) => {
    const admin = signedInAdmin(ctx);
    const current = sessionOf(ctx);
    const offer = await c.enrolment.offer(admin.kind, admin.id, current.pendingTotpSecret);
    current.pendingTotpSecret = offer.pendingSecret;
    respond(ctx, { otpauthUri: offer.otpauthUri, qrCodeDataUrl: offer.qrCodeDataUrl, secret: offer.secret }, () =>
      enrolPage(csrfTokenFor(ctx), offer),
    );
  });

  router.post('/mfa/enroll', session, async (ctx) => {
    const admin = signedInAdmin(ctx);
    const current = sessionOf(ctx);
    // Browsers get the same QR back with the error; computed first because rendering is synchronous.
    const offer = wantsJson(ctx)
      ? undefined
      : await c.enrolment.offer(admin.kind, admin.id, current.pendingTotpSecret).catch(() => undefined);
    const render = (message: string) =>
      offer ? enrolPage(csrfTokenFor(ctx), offer, message) : messagePage('Authenticator', message);
    await withFormErrors(ctx, render, async () => {
      const { code } = bodyOf(ctx, codeBody);
      const recoveryCodes = await c.enrolment.activate(
        admin.kind,
        admin.id,
        current.pendingTotpSecret,
        code,
        signInRequestInfo(ctx, c),
      );
      const raised = await stepUp(ctx, c, { pendingTotpSecret: undefined, mustEnrollMfa: false });
      const { next, location } = nextStepOf(ctx, raised);
      respond(ctx, { assurance: 2, next, recoveryCodes }, () => recoveryCodesPage(recoveryCodes, location));
    });
  });
}
