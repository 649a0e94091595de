import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { redirectOrJson, respond, route, type RouteContext } from '@portcullis/http';
import { signedInAdmin } from '@portcullis/session-auth';
import {
  accountSessionsQuery,
  api,
  encodeAccountCursor,
  type AccountSessionsQuery,
  type AccountSessionView,
  type LiveSessionView,
} from '../api.js';
import type { ServiceContext } from '../context.js';
import { allSessionsPage, confirmPage, liveSessionsPage } from '../pages/admin-pages.js';
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
      const ask = (session: LiveSessionView) => (fields: Record<string, string>) =>
        confirmPage(csrf(ctx), {
          title: `End this session of ${session.adminEmail}?`,
          consequence: `The browser at ${session.ip ?? 'an unknown address'} is signed out now. The account stays enabled: they can sign in again.`,
          action: ctx.path,
          button: 'End this session',
          back: `/admin/tenants/${tenantId}/sessions`,
          fields,
        });
      if (target && !confirmedOrAsk(ctx, ask(target))) return;
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

  // Platform-wide: every admin's sessions, in pages (see listAll for what a page costs).
  const loadAllSessions = async (ctx: RouteContext, query: AccountSessionsQuery, error?: string) => {
    const found = await liveSessions.listAll(query.after, query.limit);
    const nextCursor = found.next && encodeAccountCursor(found.next);
    const view = { sessions: found.sessions, hasNext: !!nextCursor, nextCursor };
    const nextHref =
      nextCursor &&
      `/admin/sessions?${new URLSearchParams({ limit: String(query.limit), after: nextCursor }).toString()}`;
    const notice = ctx.query.done === 'ended' ? 'Session ended: that browser is signed out.' : undefined;
    const page = () =>
      allSessionsPage(csrf(ctx), {
        sessions: view.sessions,
        selfId: signedInAdmin(ctx).id,
        nextHref,
        paged: !!query.after,
        notice,
        error,
      });
    return { view, page };
  };

  route(router, api.listAllSessions, guards, async (ctx, { query }) => {
    const { view, page } = await loadAllSessions(ctx, query);
    respond(ctx, api.listAllSessions, view, page);
  });

  route(
    router,
    api.endAccountSession,
    guards,
    async (ctx, { params: { id: adminId, session: sessionId } }) => {
      const target = await liveSessions.findOfAdmin(adminId, sessionId);
      const own = target?.adminId === signedInAdmin(ctx).id;
      const ask = (session: AccountSessionView) => (fields: Record<string, string>) =>
        confirmPage(csrf(ctx), {
          title: `End this session of ${session.adminEmail}?`,
          consequence: `The browser at ${session.ip ?? 'an unknown address'} (${session.tenantSlug ? `tenant ${session.tenantSlug}` : 'platform admin'}) is signed out now. The account stays enabled: they can sign in again.${own ? ' This is your own account: if it is this browser, you are signed out too.' : ''}`,
          action: ctx.path,
          button: 'End this session',
          back: '/admin/sessions',
          fields,
        });
      // An unknown session is the library's 404 below, before anything is asked.
      if (target && !confirmedOrAsk(ctx, ask(target))) return;
      const ended = await liveSessions.endOfAdmin(actorOf(ctx), adminId, sessionId);
      redirectOrJson(ctx, api.endAccountSession, { ended }, '/admin/sessions?done=ended');
    },
    { formPage: async (ctx, message) => (await loadAllSessions(ctx, accountSessionsQuery.parse({}), message)).page() },
  );
}
