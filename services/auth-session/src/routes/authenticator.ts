import type Router from '@koa/router';
import type { Context } from 'koa';
import { redirectOrJson, respond, route } from '@portcullis/http';
import {
  csrfTokenFor,
  requireAal2,
  requireRecentAuth,
  requireSession,
  sessionOf,
  signedInAdmin,
} from '@portcullis/session-auth';
import { api } from '../api.js';
import type { ServiceContext } from '../context.js';
import { authenticatorPage, replacedPage, replacementPage } from '../pages/auth-pages.js';
import { currentSessionHash, reissueSession, requestInfo } from './http-helpers.js';

/**
 * Self-service replacement of one's own authenticator. Starting and confirming need a recent
 * password + code (the old factor): a stolen session alone cannot swap in an attacker's app.
 */
export default function authenticatorRoutes(router: Router, c: ServiceContext): void {
  const guards = [requireSession(c.policy), requireAal2()];
  const recent = requireRecentAuth(c.clock, c.settings.reauthMaxAgeMs);

  const statusPage = async (ctx: Context, message?: string) => {
    const admin = signedInAdmin(ctx);
    const enrolledAt = await c.enrolment.enrolledAt(admin.kind, admin.id);
    return authenticatorPage(
      csrfTokenFor(ctx),
      admin.kind,
      { enrolledAt, replacementPending: !!sessionOf(ctx).pendingReplacement },
      message,
    );
  };

  route(router, api.authenticatorPage, guards, async (ctx) => {
    const admin = signedInAdmin(ctx);
    const enrolledAt = await c.enrolment.enrolledAt(admin.kind, admin.id);
    const replacementPending = !!sessionOf(ctx).pendingReplacement;
    respond(ctx, api.authenticatorPage, { enrolledAt: enrolledAt?.toISOString() ?? null, replacementPending }, () =>
      authenticatorPage(csrfTokenFor(ctx), admin.kind, { enrolledAt, replacementPending }),
    );
  });

  // A new start replaces a pending one (a fresh QR code): the admin may have scanned the wrong one.
  route(
    router,
    api.startReplacement,
    [...guards, recent],
    async (ctx) => {
      const admin = signedInAdmin(ctx);
      const { offer, pending } = await c.enrolment.startReplacement(admin.kind, admin.id);
      sessionOf(ctx).pendingReplacement = pending;
      respond(
        ctx,
        api.startReplacement,
        { otpauthUri: offer.otpauthUri, qrCodeDataUrl: offer.qrCodeDataUrl, secret: offer.secret },
        () => replacementPage(csrfTokenFor(ctx), admin.kind, offer),
      );
    },
    { formPage: (ctx, message) => statusPage(ctx, message) },
  );

  route(
    router,
    api.confirmReplacement,
    [...guards, recent],
    async (ctx, { body }) => {
      const admin = signedInAdmin(ctx);
      const session = sessionOf(ctx);
      await c.enrolment.confirmReplacement(
        admin.kind,
        admin.id,
        session.pendingReplacement,
        body.code,
        requestInfo(ctx),
      );
      // Decision (docs/console.md): every other session of the admin ends; this one continues under a new id.
      const { revoked, cutOff } = await c.sessions.revokeOthers(admin, currentSessionHash(ctx, c));
      delete session.pendingReplacement;
      await reissueSession(ctx, { createdAt: cutOff });
      respond(ctx, api.confirmReplacement, { replaced: true, otherSessionsEnded: revoked }, () =>
        replacedPage(admin.kind, revoked),
      );
    },
    {
      // A wrong code: the same QR code again with the message (the old authenticator still works).
      formPage: async (ctx, message) => {
        const admin = signedInAdmin(ctx);
        const pending = sessionOf(ctx).pendingReplacement;
        const offer = pending
          ? await c.enrolment.replacementOffer(admin.kind, admin.id, pending).catch(() => undefined)
          : undefined;
        return offer ? replacementPage(csrfTokenFor(ctx), admin.kind, offer, message) : statusPage(ctx, message);
      },
    },
  );

  route(router, api.cancelReplacement, guards, (ctx) => {
    delete sessionOf(ctx).pendingReplacement;
    redirectOrJson(ctx, api.cancelReplacement, { cancelled: true }, '/auth/authenticator');
  });
}
