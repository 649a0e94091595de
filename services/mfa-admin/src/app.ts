import Router from '@koa/router';
import type Koa from 'koa';
import { countedAudit } from '@portcullis/audit';
import { createConsoleApp } from '@portcullis/http';
import {
  installSessions,
  koaCsrf,
  requireAal2,
  requireRecentAuth,
  requireRole,
  requireSession,
} from '@portcullis/session-auth';
import { createServiceContext, type AppDependencies, type ServiceContext } from './context.js';
import { openApiDocument } from './openapi.js';
import liveSessionRoutes from './routes/live-sessions.js';
import mfaResetRoutes from './routes/mfa-resets.js';
import platformAdminRoutes from './routes/platform-admins.js';
import tenantRoutes from './routes/tenants.js';

export type { AppDependencies, MfaAdminSettings } from './context.js';

/** Every route of the console: platform admins at assurance level 2 only; reset and rollback also need a recent re-authentication. */
export function createAdminRouter(c: ServiceContext): Router {
  const router = new Router();
  const guards = [requireSession(c.policy), requireAal2(), requireRole('platform')];
  tenantRoutes(router, c, guards);
  mfaResetRoutes(router, c, guards, requireRecentAuth(c.clock, c.settings.reauthMaxAgeMs));
  liveSessionRoutes(router, c, guards);
  platformAdminRoutes(router, c, guards);
  return router;
}

/** Builds the mfa-admin app from explicit dependencies; no module-level state. */
export function createApp(deps: AppDependencies): Koa {
  const { audit, security } = countedAudit(deps.audit, deps.metrics.registry);
  const c = createServiceContext({ ...deps, audit });

  return createConsoleApp(
    {
      ...deps,
      prefix: '/admin',
      siteName: 'Portcullis admin',
      home: '/admin/tenants',
      openApiDocument: openApiDocument(),
      routers: [createAdminRouter(c)],
      sessions: (app) => installSessions(app, { ...deps.settings, store: deps.store }),
      csrf: koaCsrf(),
    },
    security,
  );
}
