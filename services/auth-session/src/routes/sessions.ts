import type Router from '@koa/router';
import { redirectOrJson, respond, route, type RouteContext } from '@portcullis/http';
import { csrfTokenFor, requireAal2, requireSession, signedInAdmin } from '@portcullis/session-auth';
import { api } from '../api.js';
import type { ServiceContext } from '../context.js';
import { sessionsPage } from '../pages/auth-pages.js';
import { currentSessionHash, reissueSession, requestInfo } from './http-helpers.js';

export default function sessionRoutes(router: Router, c: ServiceContext): void {
  const guards = [requireSession(c.policy), requireAal2()];

  route(router, api.listSessions, guards, async (ctx) => {
    const sessions = await c.sessions.list(signedInAdmin(ctx).userId, currentSessionHash(ctx, c));
    respond(ctx, api.listSessions, { sessions }, () => sessionsPage(csrfTokenFor(ctx), sessions));
  });

  const revokeOne = async (ctx: RouteContext, id: string) => {
    await c.sessions.revoke(signedInAdmin(ctx), id, requestInfo(ctx));
    if (id === currentSessionHash(ctx, c)) ctx.session = null;
  };

  route(router, api.endSession, guards, async (ctx, { params }) => {
    await revokeOne(ctx, params.id);
    ctx.status = 204;
  });

  // HTML forms cannot send DELETE.
  route(router, api.endSessionForm, guards, async (ctx, { params }) => {
    await revokeOne(ctx, params.id);
    redirectOrJson(ctx, api.endSessionForm, { revoked: true }, '/auth/sessions');
  });

  route(router, api.endOtherSessions, guards, async (ctx) => {
    const { revoked, cutOff } = await c.sessions.endOthers(
      signedInAdmin(ctx),
      currentSessionHash(ctx, c),
      requestInfo(ctx),
    );
    // This browser goes on under a new id created after the cut-off.
    await reissueSession(ctx, { createdAt: cutOff });
    redirectOrJson(ctx, api.endOtherSessions, { revoked }, '/auth/sessions');
  });
}
