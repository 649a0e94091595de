// @portcullis/config/service: what every service's main.ts wires the same way, written once:
// configuration (with SECRETS_SOURCE), the key rings it cannot start without, logger, pool,
// metrics, the shared session store, and the listen-and-drain with the readiness checks and
// closers they all have. A subpath of its own, so the CLI and the libs that read configuration
// do not load the servers' modules.
import type { KeyRing } from '@portcullis/crypto';
import { createDatabase, pingDatabase } from '@portcullis/db';
import { runService, type RunServiceOptions } from '@portcullis/http';
import { bufferedStdout, createLogger, createMetrics, type ReadinessCheck } from '@portcullis/observability';
import { createSessionStoreFromSettings, createSessionStoreMetrics } from '@portcullis/session-store';
import { requireKeyRings, type KeyRingVariable } from './key-rings.js';
import type { Environment } from './load-config.js';
import { loadConfigWithSecrets } from './secret-sources.js';
import { sessionPhaseInfo } from './session-phase.js';

export interface ServiceRunOptions {
  app: RunServiceOptions['app'];
  /** Readiness checks beside the database and the session store. */
  checks?: Record<string, ReadinessCheck>;
  /** Run on SIGTERM after the requests drained, before the session store and the pool close. */
  closers?: (() => Promise<unknown>)[];
}

/**
 * The service's base; throws ConfigError (main.ts exits on it with exitOnConfigError) when the
 * configuration is invalid or a key in `requiredKeys` is unset.
 */
export async function createServiceBase<K extends KeyRingVariable = never>(
  name: string,
  requiredKeys: readonly K[] = [],
  env: Environment = process.env,
) {
  const config = await loadConfigWithSecrets(env);
  const keys: Record<K, KeyRing> = requireKeyRings(config, requiredKeys, name);
  const logger = createLogger({ service: name, level: config.LOG_LEVEL, destination: bufferedStdout() });
  const db = createDatabase({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX });
  const metrics = createMetrics(name);
  const storeMetrics = createSessionStoreMetrics(metrics.registry);
  const sessions = createSessionStoreFromSettings(config, {
    metrics: storeMetrics,
    onSecondaryFailure: (op, error) =>
      logger.warn({ op, err: error }, 'session store: secondary write failed, queued for repair'),
    phase: sessionPhaseInfo(config), // session_store_phase_info on /metrics, as on every pod
  });
  const checks: Record<string, ReadinessCheck> = {
    database: () => pingDatabase(db),
    // One read of an id that cannot exist: cheap on every store, unlike a count.
    sessionStore: () => sessions.store.get('readiness-probe'),
  };
  const closers = [() => sessions.close(), () => db.destroy()];
  return {
    config,
    keys,
    logger,
    db,
    metrics,
    storeMetrics,
    sessions,
    checks,
    /** What every service's createApp takes alike; spread it, then add the service's own. */
    appDeps: { db, store: sessions.store, logger, metrics, trustedProxyHops: config.TRUSTED_PROXY_HOPS },
    /** Closes the session store and the pool (what `run` does last on SIGTERM). */
    close: async () => {
      for (const close of closers) await close();
    },
    /** Listens on the public and admin ports; SIGTERM drains, runs `closers`, then closes the store and pool. */
    run: (options: ServiceRunOptions) =>
      runService({
        name,
        app: options.app,
        logger,
        metrics,
        config,
        checks: { ...checks, ...options.checks },
        closers: [...(options.closers ?? []), ...closers],
      }),
  };
}

export type ServiceBase<K extends KeyRingVariable = never> = Awaited<ReturnType<typeof createServiceBase<K>>>;
