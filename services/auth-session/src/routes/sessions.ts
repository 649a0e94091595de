import type Router from '@koa/router';
import type { RouteContext } from './http-helpers.js';
import { z } from 'zod';
import { csrfTokenFor, requireAal2, requireSession, sessionOf } from '@portcullis/session-auth';
import type { ServiceContext } from '../context.js';
import { sessionsPage } from '../pages/auth-pages.js';
import { currentSessionHash, redirectOrJson, respond } from './http-helpers.js';

const sessionId = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/, 'must be a session id from GET /auth/sessions') });

export default function sessionRoutes(router: Router, c: ServiceContext): void {
  const guards = [requireSession(c.policy), requireAal2()];

  router.get('/sessions', ...guards, async (ctx) => {
    const sessions = await c.sessions.list(sessionOf(ctx).userId!, currentSessionHash(ctx, c));
    respond(ctx, { sessions }, () => sessionsPage(csrfTokenFor(ctx), sessions));
  });

  const revokeOne = async (ctx: RouteContext) => {
    const { id } = sessionId.parse(ctx.params);
    const current = sessionOf(ctx);
    await c.sessions.revoke(current.userId!, id);
    await c.audit.record({ tenantId: current.tenantId ?? null, actorType: `${current.kind!}_admin`, actorId: current.adminId!, action: 'session.revoked', targetType: 'session', targetId: id.slice(0, 16), ip: ctx.ip, requestId: ctx.requestId });
    if (id === currentSessionHash(ctx, c)) ctx.session = null;
  };

  router.delete('/sessions/:id', ...guards, async (ctx) => {
    await revokeOne(ctx);
    ctx.status = 204;
  });

  // HTML forms cannot send DELETE.
  router.post('/sessions/:id/revoke', ...guards, async (ctx) => {
    await revokeOne(ctx);
    redirectOrJson(ctx, { revoked: true }, '/auth/sessions');
  });

  router.post('/sessions/revoke-others', ...guards, async (ctx) => {
    const current = sessionOf(ctx);
    const revoked = await c.sessions.revokeOthers(current.userId!, currentSessionHash(ctx, c));
    await c.audit.record({ tenantId: current.tenantId ?? null, actorType: `${current.kind!}_admin`, actorId: current.adminId!, action: 'session.revoked_others', ip: ctx.ip, requestId: ctx.requestId, details: { revoked } });
    redirectOrJson(ctx, { revoked }, '/auth/sessions');
  });
}
