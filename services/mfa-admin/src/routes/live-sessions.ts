import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { redirectOrJson, respond, route } from '@portcullis/http';
import { api } from '../api.js';
import type { ServiceContext } from '../context.js';
import { confirmPage, liveSessionsPage } from '../pages/admin-pages.js';
import { tenantView } from '../present.js';
import { actorOf, confirmedOrAsk, csrf } from './http.js';

export default function liveSessionRoutes(router: Router, c: ServiceContext, guards: Middleware[]): void {
  const { liveSessions } = c;

  route(router, api.listSessions, guards, async (ctx, { params: { tenant: tenantId } }) => {
    const tenant = tenantView(await c.tenantsLib.get(tenantId));
    const list = await liveSessions.listForTenant(tenantId);
    const notice = ctx.query.done === 'ended' ? 'Session ended: that browser is signed out.' : undefined;
    respond(ctx, api.listSessions, { sessions: list }, () => liveSessionsPage(csrf(ctx), tenant, list, notice));
  });

  route(
    router,
    api.endSession,
    guards,
    async (ctx, { params: { tenant: tenantId, session: sessionId } }) => {
      const target = (await liveSessions.listForTenant(tenantId)).find((candidate) => candidate.id === sessionId);
      const ask = (fields: Record<string, string>) =>
        confirmPage(csrf(ctx), {
          title: `End ${target?.adminEmail ?? 'this'} session?`,
          consequence: `The browser at ${target?.ip ?? 'an unknown address'} is signed out now. The account stays enabled: they can sign in again.`,
          action: ctx.path,
          button: 'End this session',
          back: `/admin/tenants/${tenantId}/sessions`,
          fields,
        });
      if (target && !confirmedOrAsk(ctx, ask)) return;
      const ended = await liveSessions.end(actorOf(ctx), tenantId, sessionId);
      redirectOrJson(ctx, api.endSession, { ended }, `/admin/tenants/${tenantId}/sessions?done=ended`);
    },
    {
      formPage: async (ctx, message) => {
        const tenantId = ctx.params.tenant!;
        const tenant = tenantView(await c.tenantsLib.get(tenantId));
        return liveSessionsPage(csrf(ctx), tenant, await liveSessions.listForTenant(tenantId), undefined, message);
      },
    },
  );
}
