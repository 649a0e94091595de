import Koa from 'koa';
import type { Registry } from 'prom-client';

/** A dependency `/readyz` checks; it rejects when the dependency cannot serve. */
export type ReadinessCheck = () => Promise<unknown>;

export interface AdminAppOptions {
  registry: Registry;
  checks: Record<string, ReadinessCheck>;
  timeoutMs: number;
}

function withTimeout(check: ReadinessCheck, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
  });
  return Promise.race([check(), timeout]).finally(() => clearTimeout(timer));
}

/**
 * The admin server: `/healthz` (the process is alive), `/readyz` (its real dependencies
 * answer) and `/metrics`. It listens on its own port, which the ingress never exposes.
 */
export function createAdminApp({ registry, checks, timeoutMs }: AdminAppOptions): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.method !== 'GET') return;
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
    } else if (ctx.path === '/readyz') {
      const names = Object.keys(checks);
      const results = await Promise.allSettled(names.map((name) => withTimeout(checks[name]!, timeoutMs)));
      // Only names and up/down: error messages may carry connection strings.
      const status = Object.fromEntries(
        names.map((name, index) => [name, results[index]!.status === 'fulfilled' ? 'up' : 'down']),
      );
      const ready = results.every((result) => result.status === 'fulfilled');
      ctx.status = ready ? 200 : 503;
      ctx.body = { status: ready ? 'ready' : 'not ready', checks: status };
    } else if (ctx.path === '/metrics') {
      ctx.type = registry.contentType;
      ctx.body = await registry.metrics();
    }
  });
  return app;
}
