import Router from '@koa/router';
import type Koa from 'koa';
import { createServiceApp, healthRoutes, koaBodyParser, staticRoutes } from '@portcullis/http';
import { installSessions, koaCsrf } from '@portcullis/session-auth';
import { createServiceContext, type AppDependencies } from './context.js';
import { openApiDocument } from './openapi.js';
import { stylesheet } from './pages/html.js';
import accountRoutes from './routes/account.js';
import mfaRoutes from './routes/mfa.js';
import sessionRoutes from './routes/sessions.js';
import signInRoutes from './routes/sign-in.js';

export type { AppDependencies, AuthSettings } from './context.js';

/** Builds the auth-session app from explicit dependencies; no module-level state. */
export function createApp(deps: AppDependencies): Koa {
  const c = createServiceContext(deps);
  const router = new Router({ prefix: '/auth' });
  signInRoutes(router, c);
  mfaRoutes(router, c);
  accountRoutes(router, c);
  sessionRoutes(router, c);

  return createServiceApp({
    logger: deps.logger,
    metrics: deps.metrics,
    trustedProxyHops: deps.trustedProxyHops ?? 0,
    routers: [healthRoutes('/auth'), staticRoutes('/auth', { stylesheet, openApiDocument: openApiDocument() }), router],
    beforeRoutes: (app) => [
      installSessions(app, { store: deps.store, secrets: deps.settings.secrets, cookieName: deps.settings.cookieName, production: deps.settings.production, idleTimeoutMs: deps.settings.idleTimeoutMs }),
      koaBodyParser(),
      koaCsrf(),
    ],
  });
}
