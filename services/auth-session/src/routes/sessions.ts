import type Router from '@koa/router';
import type { RouteContext } from './http-helpers.js';
import { z } from 'zod';
import { csrfTokenFor, requireAal2, requireSession, signedInAdmin } from '@portcullis/session-auth';
import type { ServiceContext } from '../context.js';
import { sessionsPage } from '../pages/auth-pages.js';
import { currentSessionHash, redirectOrJson, reissueSession, respond } from './http-helpers.js';

const sessionId = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/, 'must be a session id from GET /auth/sessions') });

export default function sessionRoutes(router: Router, c: ServiceContext): void {
  const guards = [requireSession(c.policy), requireAal2()];

  router.get('/sessions', ...guards, async (ctx) => {
    const sessions = await c.sessions.list(signedInAdmin(ctx).userId, currentSessionHash(ctx, c));
    respond(ctx, { sessions }, () => sessionsPage(csrfTokenFor(ctx), sessions));
  });

  const revokeOne = async (ctx: RouteContext) => {
    const { id } = sessionId.parse(ctx.params);
    const admin = signedInAdmin(ctx);
    await c.sessions.revoke(admin.userId, id);
    await c.audit.record({
      tenantId: admin.tenantId,
      actorType: `${admin.kind}_admin`,
      actorId: admin.id,
      action: 'session.revoked',
      targetType: 'session',
      targetId: id.slice(0, 16),
      ip: ctx.ip,
      requestId: ctx.requestId,
    });
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
    const admin = signedInAdmin(ctx);
    const { revoked, cutOff } = await c.sessions.revokeOthers(admin, currentSessionHash(ctx, c));
    // This browser goes on under a new id created after the cut-off.
    await reissueSession(ctx, { createdAt: cutOff });
    await c.audit.record({
      tenantId: admin.tenantId,
      actorType: `${admin.kind}_admin`,
      actorId: admin.id,
      action: 'session.revoked_others',
      ip: ctx.ip,
      requestId: ctx.requestId,
      details: { revoked },
    });
    redirectOrJson(ctx, { revoked }, '/auth/sessions');
  });
}
