// The app of a console service (auth-session, mfa-admin, audit-log): the shared request path
// (createServiceApp) with what all three mount the same way: health, stylesheet and OpenAPI
// document without a session, the root sending browsers on, error pages for browsers with the
// refusals counted, sessions, body parsing and CSRF. The session and CSRF middleware come from
// the caller (libs/session-auth depends on this lib, not the other way round).
import type Router from '@koa/router';
import type Koa from 'koa';
import type { Logger, SecurityCounters, ServiceMetrics } from '@portcullis/observability';
import { koaBodyParser } from './koa-body-parser.js';
import { pageStylesheet } from './html.js';
import { errorPages } from './error-pages.js';
import { createServiceApp, healthRoutes, staticRoutes } from './service-app.js';

export interface ConsoleAppOptions {
  logger: Logger;
  metrics: ServiceMetrics;
  trustedProxyHops?: number | undefined;
  /** `/auth`, `/admin`, `/audit`. */
  prefix: string;
  /** Shown in page titles ("Portcullis admin"). */
  siteName: string;
  /** Where the service's root sends a browser. */
  home: string;
  openApiDocument: unknown;
  /** The service's routers (full paths), mounted after the static ones. */
  routers: Router[];
  /** The session middleware (installSessions of libs/session-auth), built on the app. */
  sessions: (app: Koa) => Koa.Middleware;
  /** The CSRF check of the service's form posts. */
  csrf: Koa.Middleware;
}

/**
 * Builds a console service's app; `security` are its security counters (audited actions,
 * refusals by code), which the caller also hands its audit writer.
 */
export function createConsoleApp(options: ConsoleAppOptions, security: SecurityCounters): Koa {
  const { prefix } = options;
  const open = staticRoutes(prefix, { stylesheet: pageStylesheet, openApiDocument: options.openApiDocument });
  open.get('/', (ctx) => ctx.redirect(options.home));
  return createServiceApp({
    logger: options.logger,
    metrics: options.metrics,
    trustedProxyHops: options.trustedProxyHops ?? 0,
    routers: [healthRoutes(prefix), open, ...options.routers],
    errorPages: errorPages({ stylesheetHref: `${prefix}/assets/style.css`, siteName: options.siteName }),
    onRefused: (code) => security.refusals.inc({ code }),
    beforeRoutes: (app) => [options.sessions(app), forWrites(koaBodyParser(), options.csrf)],
  });
}

/** Methods that change nothing: no body to parse, no CSRF token to check. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What only a write needs, body parsing then the CSRF check, as one middleware a read skips:
 * most requests are reads, and each middleware is a step of Koa's chain on every request.
 */
function forWrites(parseBody: Koa.Middleware, csrf: Koa.Middleware): Koa.Middleware {
  return (ctx, next) => (SAFE_METHODS.has(ctx.method) ? next() : parseBody(ctx, () => csrf(ctx, next)));
}
