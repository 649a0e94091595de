import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { respond, requestMeta, route, wantsJson } from '@portcullis/http';
import { csrfTokenFor, requireRole, signedInAdmin } from '@portcullis/session-auth';
import { api } from '../api.js';
import type { ServiceContext } from '../context.js';
import type { RequestedFilter } from '../libraries/events.js';
import { exportStream } from '../libraries/export.js';
import { eventsPage, verifyAllPage, verifyPage } from '../pages/audit-pages.js';

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
  route(router, api.listEvents, guards, async (ctx, { query }) => {
    const session = signedInAdmin(ctx);
    const page = await c.events.page(c.events.scope(session, requested(query)), query.cursor, query.limit);
    // The filter pickers are read for the page only.
    const pickers = wantsJson(ctx) ? undefined : await c.events.pickers(session, query.tenant);
    const { limit: _limit, ...filters } = query;
    respond(ctx, api.listEvents, page, () =>
      eventsPage({
        ...page,
        ...pickers!,
        filters: { ...filters, limit: String(query.limit) },
        platform: session.kind === 'platform',
        csrf: csrfTokenFor(ctx),
      }),
    );
  });

  route(router, api.exportEvents, guards, async (ctx, { body }) => {
    const session = signedInAdmin(ctx);
    const filter = c.events.scope(session, requested(body));
    await c.events.recordExport(session, requestMeta(ctx), {
      format: body.format,
      tenant: body.tenant ?? null,
      actor: body.actor ?? null,
      action: body.action ?? null,
      from: body.from ?? null,
      to: body.to ?? null,
    });
    const stamp = new Date(c.clock.now()).toISOString().replace(/[:.]/g, '-');
    ctx.set('content-disposition', `attachment; filename="audit-events-${stamp}.${body.format}"`);
    ctx.set('cache-control', 'no-store');
    ctx.type = body.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8';
    ctx.body = exportStream(c.events.all(filter), body.format);
  });

  route(router, api.verifyChain, guards, async (ctx, { query }) => {
    const report = await c.events.verify(signedInAdmin(ctx), query.tenant);
    respond(ctx, api.verifyChain, report, () => verifyPage(report));
  });

  // Every chain at once is a platform admin's check: tenant admins verify their own (above).
  route(router, api.verifyAllChains, [...guards, requireRole('platform')], async (ctx, { query }) => {
    const report = await c.events.verifyAll(query.after, query.limit);
    respond(ctx, api.verifyAllChains, report, () => verifyAllPage(report, query.limit));
  });
}
