import type Koa from 'koa';
import type { Knex } from '@portcullis/db';
import { createServiceApp, healthRoutes } from '@portcullis/http';
import type { Logger, ServiceMetrics } from '@portcullis/observability';

export interface AppDependencies {
  db: Knex;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Trust X-Forwarded-* headers (behind the ingress). */
  proxy?: boolean;
}

/** Builds the audit-log app from explicit dependencies; no module-level state. */
export function createApp({ logger, metrics, proxy = false }: AppDependencies): Koa {
  return createServiceApp({ logger, metrics, proxy, routers: [healthRoutes('/audit')] });
}
