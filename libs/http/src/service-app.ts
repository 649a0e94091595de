import Router from '@koa/router';
import Koa from 'koa';
import { installRequestObservability, type Logger, type ServiceMetrics } from '@portcullis/observability';
import type { ErrorPages } from './error-pages.js';
import { koaErrorHandler } from './koa-error-handler.js';
import { koaSecurityHeaders } from './koa-security-headers.js';
import { proxyTrust } from './proxy-trust.js';
import { routeTable } from './route-table.js';

export interface ServiceAppOptions {
  logger: Logger;
  metrics: ServiceMetrics;
  /** Proxies in front of the service (TRUSTED_PROXY_HOPS); 0 or unset trusts no X-Forwarded-* header. */
  trustedProxyHops?: number;
  /** The service's routers, mounted in order. */
  routers: Router[];
  /** Error pages for browsers (console services); without them every error is JSON. */
  errorPages?: ErrorPages;
  /** Counts every refusal (4xx) by its code. */
  onRefused?: (code: string) => void;
  /** Middleware between the security headers and the routers (sessions, body parsing, CSRF). */
  beforeRoutes?: (app: Koa) => Koa.Middleware[];
}

/**
 * The request path every service shares: request id, metrics and request log → errors (JSON or
 * pages, 501 as 405) → security headers → the service's middleware and routes.
 */
export function createServiceApp({
  logger,
  metrics,
  trustedProxyHops = 0,
  routers,
  errorPages,
  onRefused,
  beforeRoutes,
}: ServiceAppOptions): Koa {
  const app = new Koa(proxyTrust(trustedProxyHops));
  // Koa's default handler prints errors to stderr; ours are already mapped and logged.
  app.silent = true;
  app.use(installRequestObservability(app, logger, metrics));
  app.use(koaErrorHandler({ ...(errorPages ? { pages: errorPages } : {}), ...(onRefused ? { onRefused } : {}) }));
  app.use(koaSecurityHeaders());
  for (const middleware of beforeRoutes?.(app) ?? []) app.use(middleware);
  // One router holding every route (their layers are copied in): one match and one
  // allowedMethods per request instead of one of each per router, and a 405's Allow header
  // names the methods of every router that has the path. Literal paths are looked up in a table.
  const all = new Router();
  for (const router of routers) all.use(router.routes());
  app.use(routeTable(all));
  app.use(all.allowedMethods());
  return app;
}

/** Liveness on the public port too, so the gateway and ingress can be checked end to end. */
export function healthRoutes(prefix: string): Router {
  const router = new Router({ prefix });
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  return router;
}

/** What every service serves without a session: its stylesheet and, when it has one, its OpenAPI document. */
export function staticRoutes(
  prefix: string,
  { stylesheet, openApiDocument }: { stylesheet: string; openApiDocument?: unknown },
): Router {
  const router = new Router({ prefix });
  router.get('/assets/style.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('cache-control', 'public, max-age=3600');
    ctx.remove('pragma');
    ctx.body = stylesheet;
  });
  if (openApiDocument !== undefined) {
    router.get('/openapi.json', (ctx) => {
      ctx.body = openApiDocument;
    });
  }
  return router;
}
