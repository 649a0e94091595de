import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { requestLineWriter } from './logger.js';
import type { ServiceMetrics } from './metrics.js';

declare module 'koa' {
  interface DefaultContext {
    requestId: string;
    /** A logger carrying the request id, made on first use: most requests log one line only. */
    log: Logger;
  }
}

// A caller-supplied id is kept only if it is short and plain, so it cannot inject into logs.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const CHILD_LOGGER = Symbol('portcullis.requestLogger');

/**
 * What every request gets, in one middleware (one async frame, one clock read each side): the
 * `x-request-id` it came with (or a new one), `ctx.log`, the duration histogram labelled by the
 * route template (never the raw path: one series per id otherwise), and one log line with
 * method, route template, status and duration — never headers or bodies.
 */
export function installRequestObservability(
  app: Koa,
  logger: Logger,
  { httpDuration }: ServiceMetrics,
): Koa.Middleware {
  Object.defineProperty(app.context, 'log', {
    configurable: true,
    get(this: Koa.Context & { [CHILD_LOGGER]?: Logger }) {
      return (this[CHILD_LOGGER] ??= logger.child({ requestId: this.requestId }));
    },
  });
  const writeRequestLine = requestLineWriter(logger);
  // The histogram's child per label set, so an observation does not hash its labels again.
  const series = new Map<string, ReturnType<typeof httpDuration.labels>>();
  const seriesOf = (method: string, route: string, status: number) => {
    const key = `${method} ${status} ${route}`;
    let child = series.get(key);
    if (!child) series.set(key, (child = httpDuration.labels({ method, route, status: String(status) })));
    return child;
  };
  return async (ctx, next) => {
    const started = performance.now();
    const incoming = ctx.get('x-request-id');
    ctx.requestId = ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
    // Straight to Node: Koa's ctx.set builds arrays to accept every form of header.
    ctx.res.setHeader('x-request-id', ctx.requestId);
    try {
      await next();
    } finally {
      const durationMs = performance.now() - started;
      const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      const route = typeof matched === 'string' ? matched : undefined;
      const status = ctx.status;
      seriesOf(ctx.method, route ?? 'unmatched', status).observe(durationMs / 1000);
      writeRequestLine({
        requestId: ctx.requestId,
        method: ctx.method,
        route,
        status,
        durationMs: Math.round(durationMs * 10) / 10,
      });
    }
  };
}
