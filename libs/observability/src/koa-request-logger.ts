import type { Middleware } from 'koa';

/** One line per request: method, route template, status, duration. Never headers or bodies. */
export function koaRequestLogger(): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      ctx.log.info(
        {
          method: ctx.method,
          route: typeof route === 'string' ? route : undefined,
          status: ctx.status,
          durationMs: Math.round(durationMs * 10) / 10,
        },
        'request',
      );
    }
  };
}
