import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type Koa from 'koa';
import { ApiError, createServiceApp, healthRoutes, staticRoutes } from '@portcullis/http';
import { installSessions, koaCsrf } from '@portcullis/session-auth';
import { createServiceContext, type AppDependencies } from './context.js';
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
    routers: [healthRoutes('/auth'), staticRoutes('/auth', { stylesheet }), router],
    beforeRoutes: (app) => [
      installSessions(app, { store: deps.store, secrets: deps.settings.secrets, cookieName: deps.settings.cookieName, production: deps.settings.production, idleTimeoutMs: deps.settings.idleTimeoutMs }),
      bodyParser({
        enableTypes: ['json', 'form'],
        jsonLimit: '16kb',
        formLimit: '16kb',
        encoding: 'utf-8',
        // Parser errors carry library wording and sometimes no `expose`; answer in our words.
        onError: (error) => {
          const tooLarge = (error as { status?: number }).status === 413;
          throw tooLarge
            ? new ApiError('request.too_large', 400, 'The request body is too large (request bodies are limited to 16 KB).')
            : new ApiError('request.invalid_body', 400, 'The request body is not valid JSON or form data.');
        },
      }),
      koaCsrf(),
    ],
  });
}
