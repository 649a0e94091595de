import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { api, sessionParams, tenantParams } from '../api.js';
import type { ServiceContext } from '../context.js';
import { createLiveSessionLibrary } from '../libraries/live-sessions.js';
import { confirmPage, liveSessionsPage } from '../pages/admin-pages.js';
import { createTenantAdminQueries } from '../queries/tenant-admins.js';
import { tenantView } from '../present.js';
import {
  actorOf,
  confirmedOrAsk,
  csrf,
  paramsOf,
  redirectOrJson,
  respond,
  withFormErrors,
  type RouteContext,
} from './http.js';

export default function liveSessionRoutes(router: Router, c: ServiceContext, guards: Middleware[]): void {
  const sessions = createLiveSessionLibrary({ store: c.store, admins: createTenantAdminQueries(c.db), audit: c.audit });
  const render = async (ctx: RouteContext, tenantId: string, error: string) =>
    liveSessionsPage(
      csrf(ctx),
      tenantView(await c.tenantsLib.get(tenantId)),
      await sessions.listForTenant(tenantId),
      undefined,
      error,
    );

  router.get(api.listSessions.path, ...guards, async (ctx) => {
    const { tenant: tenantId } = paramsOf(ctx, tenantParams);
    const tenant = tenantView(await c.tenantsLib.get(tenantId));
    const list = await sessions.listForTenant(tenantId);
    const notice = ctx.query.done === 'ended' ? 'Session ended: that browser is signed out.' : undefined;
    respond(ctx, api.listSessions.response, { sessions: list }, () =>
      liveSessionsPage(csrf(ctx), tenant, list, notice),
    );
  });

  router.post(api.endSession.path, ...guards, async (ctx) => {
    const { tenant: tenantId, session: sessionId } = paramsOf(ctx, sessionParams);
    await withFormErrors(
      ctx,
      (message) => render(ctx, tenantId, message),
      async () => {
        const target = (await sessions.listForTenant(tenantId)).find((candidate) => candidate.id === sessionId);
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
        const ended = await sessions.end(actorOf(ctx), tenantId, sessionId);
        redirectOrJson(ctx, api.endSession.response, { ended }, `/admin/tenants/${tenantId}/sessions?done=ended`);
      },
    );
  });
}
