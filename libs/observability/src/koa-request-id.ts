import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';

declare module 'koa' {
  interface DefaultContext {
    requestId: string;
    log: Logger;
  }
}

// A caller-supplied id is kept only if it is short and plain, so it cannot inject into logs.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Propagates `x-request-id` (or makes one) and gives the request a child logger carrying it. */
export function koaRequestId(logger: Logger): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    ctx.requestId = ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
    ctx.set('x-request-id', ctx.requestId);
    ctx.log = logger.child({ requestId: ctx.requestId });
    await next();
  };
}
