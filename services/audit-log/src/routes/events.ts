import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { verifyChain } from '@portcullis/audit';
import { csrfTokenFor, signedInAdmin } from '@portcullis/session-auth';
import { api, eventsQuery, exportRequest, verifyQuery } from '../api.js';
import type { ServiceContext } from '../context.js';
import type { RequestedFilter } from '../libraries/events.js';
import { exportStream } from '../libraries/export.js';
import { eventsPage, verifyPage } from '../pages/audit-pages.js';

/** API clients send `Accept: application/json`; browsers get pages. */
const wantsJson = (ctx: Context) => ctx.accepts('html', 'json') === 'json';

const requested = (query: {
  tenant?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}): RequestedFilter => ({
  ...(query.tenant ? { tenant: query.tenant } : {}),
  ...(query.actor ? { actorId: query.actor } : {}),
  ...(query.action ? { action: query.action } : {}),
  ...(query.from ? { from: new Date(query.from) } : {}),
  ...(query.to ? { to: new Date(query.to) } : {}),
});

export default function eventRoutes(router: Router, c: ServiceContext, guards: Middleware[]): void {
  router.get(api.listEvents.path, ...guards, async (ctx) => {
    const query = eventsQuery.parse(ctx.query);
    const session = signedInAdmin(ctx);
    const page = await c.events.page(c.events.scope(session, requested(query)), query.cursor, query.limit);
    if (wantsJson(ctx)) {
      ctx.body = api.listEvents.response.parse(page);
      return;
    }
    const { limit: _limit, ...filters } = query;
    const pickers = await c.events.pickers(session, query.tenant);
    ctx.type = 'html';
    ctx.body = eventsPage({
      ...page,
      ...pickers,
      filters: { ...filters, limit: String(query.limit) },
      platform: session.kind === 'platform',
      csrf: csrfTokenFor(ctx),
    });
  });

  router.post(api.exportEvents.path, ...guards, async (ctx) => {
    const query = exportRequest.parse((ctx.request as { body?: unknown }).body ?? {});
    const session = signedInAdmin(ctx);
    const filter = c.events.scope(session, requested(query));
    // Who took a copy of the log is itself on record, before the first byte leaves.
    await c.audit.record({
      tenantId: session.kind === 'tenant' ? session.tenantId : null,
      actorType: `${session.kind}_admin`,
      actorId: session.id,
      action: 'audit.exported',
      requestId: ctx.requestId,
      ip: ctx.ip,
      userAgent: ctx.get('user-agent').slice(0, 256),
      details: {
        format: query.format,
        tenant: query.tenant ?? null,
        actor: query.actor ?? null,
        action: query.action ?? null,
        from: query.from ?? null,
        to: query.to ?? null,
      },
    });
    const stamp = new Date(c.clock.now()).toISOString().replace(/[:.]/g, '-');
    ctx.set('content-disposition', `attachment; filename="audit-events-${stamp}.${query.format}"`);
    ctx.set('cache-control', 'no-store');
    ctx.type = query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8';
    ctx.body = exportStream(c.events.all(filter), query.format);
  });

  router.get(api.verifyChain.path, ...guards, async (ctx) => {
    const { tenant } = verifyQuery.parse(ctx.query);
    const report = await verifyChain(c.db, c.events.chainFor(signedInAdmin(ctx), tenant), { keys: c.detailsKeys });
    if (wantsJson(ctx)) {
      ctx.body = api.verifyChain.response.parse(report);
      return;
    }
    ctx.type = 'html';
    ctx.body = verifyPage(report);
  });
}
