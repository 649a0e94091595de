import Router from '@koa/router';
import type Koa from 'koa';
import { countedAuditWriter } from '@portcullis/audit';
import { securityCounters } from '@portcullis/observability';
import { createServiceApp, healthRoutes, koaBodyParser, koaHtmlErrors, staticRoutes } from '@portcullis/http';
import { installSessions, koaCsrf, requireAal2, requireSession } from '@portcullis/session-auth';
import { createServiceContext, type AppDependencies } from './context.js';
import { openApiDocument } from './openapi.js';
import { stylesheet } from './pages/html.js';
import eventRoutes from './routes/events.js';

export type { AppDependencies, AuditLogSettings } from './context.js';

/** Builds the audit-log app from explicit dependencies; no module-level state. */
export function createApp(deps: AppDependencies): Koa {
  // Security counters for the "Auth service" dashboard: audited actions once committed, refusals by code.
  const security = securityCounters(deps.metrics.registry);
  const c = createServiceContext({
    ...deps,
    audit: countedAuditWriter(deps.audit, (action) => security.auditEvents.inc({ action })),
  });
  const open = staticRoutes('/audit', { stylesheet, openApiDocument: openApiDocument() });
  open.get('/', (ctx) => ctx.redirect('/audit/events'));
  // Every reader route: signed in at assurance level 2; tenant admins are held to their tenant by the library.
  const router = new Router();
  eventRoutes(router, c, [requireSession(c.policy), requireAal2()]);

  return createServiceApp({
    logger: deps.logger,
    metrics: deps.metrics,
    trustedProxyHops: deps.trustedProxyHops ?? 0,
    routers: [healthRoutes('/audit'), open, router],
    // Reads are GETs; the one POST (export, itself audited) is a form or JSON, CSRF-checked.
    beforeRoutes: (app) => [
      koaHtmlErrors({
        stylesheetHref: '/audit/assets/style.css',
        siteName: 'Portcullis audit',
        onRefused: (code) => security.refusals.inc({ code }),
      }),
      installSessions(app, {
        store: deps.store,
        secrets: deps.settings.secrets,
        cookieName: deps.settings.cookieName,
        production: deps.settings.production,
        idleTimeoutMs: deps.settings.idleTimeoutMs,
      }),
      koaBodyParser(),
      koaCsrf(),
    ],
  });
}
