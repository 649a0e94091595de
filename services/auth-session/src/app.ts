import Router from '@koa/router';
import type Koa from 'koa';
import { countedAudit } from '@portcullis/audit';
import { createConsoleApp } from '@portcullis/http';
import { installSessions } from '@portcullis/session-auth';
import { createServiceContext, type AppDependencies } from './context.js';
import { openApiDocument } from './openapi.js';
import accountRoutes from './routes/account.js';
import authenticatorRoutes from './routes/authenticator.js';
import { koaCsrfWithSignIn } from './routes/login-csrf.js';
import mfaRoutes from './routes/mfa.js';
import recoveryCodeRoutes from './routes/recovery-codes.js';
import sessionRoutes from './routes/sessions.js';
import signInRoutes from './routes/sign-in.js';

export type { AppDependencies, AuthSettings } from './context.js';

/** Builds the auth-session app from explicit dependencies; no module-level state. */
export function createApp(deps: AppDependencies): Koa {
  const { audit, security } = countedAudit(deps.audit, deps.metrics.registry);
  const c = createServiceContext({ ...deps, audit });
  const router = new Router();
  signInRoutes(router, c);
  mfaRoutes(router, c);
  accountRoutes(router, c);
  sessionRoutes(router, c);
  recoveryCodeRoutes(router, c);
  authenticatorRoutes(router, c);

  return createConsoleApp(
    {
      ...deps,
      prefix: '/auth',
      siteName: 'Portcullis',
      // The service's root is the signed-in home (which sends a visitor on to the sign-in page).
      home: '/auth/me',
      openApiDocument: openApiDocument(),
      routers: [router],
      sessions: (app) => installSessions(app, { ...deps.settings, store: deps.store }),
      csrf: koaCsrfWithSignIn(deps.settings),
    },
    security,
  );
}
