import type Koa from 'koa';
import { createAdminApp, type Logger, type ReadinessCheck, type ServiceMetrics } from '@portcullis/observability';
import { installGracefulShutdown, listen, type RunningServer } from './service-lifecycle.js';
import { deprioritiseThreadPool } from './thread-pool-priority.js';

export interface RunServiceOptions {
  name: string;
  app: Koa;
  logger: Logger;
  metrics: ServiceMetrics;
  checks: Record<string, ReadinessCheck>;
  closers: (() => Promise<unknown>)[];
  config: {
    HTTP_HOST: string;
    HTTP_PORT: number;
    ADMIN_HOST: string;
    ADMIN_PORT: number;
    SHUTDOWN_GRACE_MS: number;
    REQUEST_TIMEOUT_MS: number;
    READINESS_TIMEOUT_MS: number;
  };
}

export interface RunningService {
  public: RunningServer;
  admin: RunningServer;
  shutdown: () => Promise<void>;
}

/** Listens on the public and admin ports and drains both on SIGTERM. */
export async function runService({
  name,
  app,
  logger,
  metrics,
  checks,
  closers,
  config,
}: RunServiceOptions): Promise<RunningService> {
  const lowPriorityThreads = await deprioritiseThreadPool();
  const adminApp = createAdminApp({ registry: metrics.registry, checks, timeoutMs: config.READINESS_TIMEOUT_MS });
  const publicServer = await listen(app, {
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
  });
  const adminServer = await listen(adminApp, { host: config.ADMIN_HOST, port: config.ADMIN_PORT });
  const shutdown = installGracefulShutdown({
    logger,
    servers: [publicServer, adminServer],
    graceMs: config.SHUTDOWN_GRACE_MS,
    closers,
  });
  logger.info({ url: publicServer.url, adminUrl: adminServer.url, lowPriorityThreads }, `${name} listening`);
  // Out now, not with the next batch of buffered lines: probes, tests and people wait for it.
  logger.flush();
  return { public: publicServer, admin: adminServer, shutdown };
}
