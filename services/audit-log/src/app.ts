import Router from '@koa/router';
import type Koa from 'koa';
import { countedAudit } from '@portcullis/audit';
import { createConsoleApp } from '@portcullis/http';
import { installSessions, koaCsrf, requireAal2, requireSession } from '@portcullis/session-auth';
import { createServiceContext, type AppDependencies } from './context.js';
import { openApiDocument } from './openapi.js';
import eventRoutes from './routes/events.js';

export type { AppDependencies, AuditLogSettings } from './context.js';

/** Builds the audit-log app from explicit dependencies; no module-level state. */
export function createApp(deps: AppDependencies): Koa {
  const { audit, security } = countedAudit(deps.audit, deps.metrics.registry);
  const c = createServiceContext({ ...deps, audit });
  // Every reader route: signed in at assurance level 2; tenant admins are held to their tenant by the library.
  const router = new Router();
  eventRoutes(router, c, [requireSession(c.policy), requireAal2()]);

  return createConsoleApp(
    {
      ...deps,
      prefix: '/audit',
      siteName: 'Portcullis audit',
      home: '/audit/events',
      openApiDocument: openApiDocument(),
      routers: [router],
      sessions: (app) => installSessions(app, { ...deps.settings, store: deps.store }),
      // Reads are GETs; the one POST (export, itself audited) is a form or JSON, CSRF-checked.
      csrf: koaCsrf(),
    },
    security,
  );
}
