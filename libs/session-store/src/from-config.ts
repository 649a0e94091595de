// Builds the configured backend: SESSION_STORE_DRIVER, and for `dual` the two stores it joins.
import { Redis } from 'ioredis';
import knex, { type Knex } from 'knex';
import { createSessionIdHasher } from '@portcullis/crypto';
import type { SessionBackend } from './backend.js';
import { createDualBackend, type DualBackendOptions } from './drivers/dual.js';
import { createDynamoBackend, createDynamoClient } from './drivers/dynamodb.js';
import { createKnexBackend } from './drivers/knex.js';
import { createMemoryBackend } from './drivers/memory.js';
import { createRedisBackend } from './drivers/redis.js';
import { startConsistencySampler } from './consistency-sampler.js';
import { exportSessionPhase, instrumentBackend, type PhaseLabels, type SessionStoreMetrics } from './metrics.js';
import { createSessionStore, systemClock, type Clock } from './session-store.js';

type Driver = 'memory' | 'redis' | 'knex' | 'dynamodb';

/**
 * What every Redis client on the request path uses (the session store, the login throttle).
 * ioredis' defaults retry a command for over a minute while Redis is down and wait forever on
 * one that stops answering without closing the connection (frozen, partitioned: TCP keeps it
 * open, and a reconnect to a frozen server connects but is never ready, so `socketTimeout`
 * alone does not bound the wait). Here a command fails within about 2 s, which the error
 * middleware answers as a 503 with Retry-After (the session guard fails closed).
 */
export const BOUNDED_REDIS_OPTIONS = {
  maxRetriesPerRequest: 1,
  commandTimeout: 2000,
  connectTimeout: 2000,
} as const;

/**
 * The session store's client: bounded, and auto-pipelined (the commands of concurrent requests
 * issued in one tick go out in one write: under load, far fewer syscalls per request,
 * docs/performance.md). Dual mode counts a failed secondary write and repairs it.
 */
export const SESSION_REDIS_CLIENT_OPTIONS = { ...BOUNDED_REDIS_OPTIONS, enableAutoPipelining: true } as const;

/** The slice of the service configuration the session store reads. */
export interface SessionStoreSettings {
  SESSION_SECRET: readonly string[];
  SESSION_STORE_DRIVER: Driver | 'dual';
  SESSION_STORE_PRIMARY?: Driver | undefined;
  SESSION_STORE_SECONDARY?: Driver | undefined;
  SESSION_DUAL_READ_REPAIR: boolean;
  SESSION_DUAL_FALLBACK_ON_MISS: boolean;
  SESSION_RETIRING_STORE_TTL_SECONDS?: number | undefined;
  SESSION_CONSISTENCY_SAMPLE_SECONDS: number;
  SESSION_CONSISTENCY_SAMPLE_SIZE: number;
  SESSION_TABLE_NAME: string;
  SESSION_KNEX_CLIENT: 'pg' | 'mysql2';
  SESSION_DATABASE_URL?: string | undefined;
  DATABASE_URL: string;
  REDIS_URL?: string | undefined;
  REDIS_KEY_PREFIX: string;
  DYNAMODB_SESSION_TABLE: string;
  DYNAMODB_TABLE_PREFIX: string;
  DYNAMODB_ENDPOINT?: string | undefined;
  DYNAMODB_CONSISTENT_READ: boolean;
  AWS_REGION: string;
  SESSION_IDLE_TIMEOUT_SECONDS: number;
}

export interface BuiltBackend {
  backend: SessionBackend;
  /** Named single stores, for per-store metrics and the CLI. */
  stores: Partial<Record<Driver, SessionBackend>>;
  close(): Promise<void>;
}

export function createSingleBackend(
  driver: Driver,
  settings: SessionStoreSettings,
  options: { metrics?: SessionStoreMetrics; clock?: Clock } = {},
): { backend: SessionBackend; close(): Promise<void> } {
  const clock = options.clock ?? systemClock;
  const instrument = (backend: SessionBackend) =>
    options.metrics ? instrumentBackend(backend, options.metrics) : backend;
  switch (driver) {
    case 'memory': {
      const backend = instrument(createMemoryBackend({ clock }));
      return { backend, close: () => backend.close() };
    }
    case 'redis': {
      if (!settings.REDIS_URL) throw new Error('REDIS_URL is required by the redis session store');
      const client = new Redis(settings.REDIS_URL, SESSION_REDIS_CLIENT_OPTIONS);
      const backend = instrument(createRedisBackend({ client, keyPrefix: `${settings.REDIS_KEY_PREFIX}sess:`, clock }));
      return {
        backend,
        close: async () => {
          await backend.close();
          client.disconnect();
        },
      };
    }
    case 'knex': {
      const connection: Knex = knex({
        client: settings.SESSION_KNEX_CLIENT,
        connection: settings.SESSION_DATABASE_URL ?? settings.DATABASE_URL,
        pool: { min: 0, max: 10 },
      });
      const backend = instrument(
        createKnexBackend({ knex: connection, tableName: settings.SESSION_TABLE_NAME, clock }),
      );
      return {
        backend,
        close: async () => {
          await backend.close();
          await connection.destroy();
        },
      };
    }
    case 'dynamodb': {
      options.metrics?.throttles.inc({ store: 'dynamodb' }, 0); // the series exists before the first throttle
      const { client, tableName } = dynamoSessionTableOf(settings);
      const backend = instrument(
        createDynamoBackend({
          client,
          tableName,
          consistentRead: settings.DYNAMODB_CONSISTENT_READ,
          clock,
          onThrottle: () => options.metrics?.throttles.inc({ store: 'dynamodb' }),
        }),
      );
      return { backend, close: () => backend.close() };
    }
  }
}

/** The DynamoDB client (SDK retries off: the driver retries) and the session table the settings name. */
export function dynamoSessionTableOf(
  settings: Pick<
    SessionStoreSettings,
    'AWS_REGION' | 'DYNAMODB_ENDPOINT' | 'DYNAMODB_TABLE_PREFIX' | 'DYNAMODB_SESSION_TABLE'
  >,
) {
  return {
    client: createDynamoClient({
      region: settings.AWS_REGION,
      ...(settings.DYNAMODB_ENDPOINT ? { endpoint: settings.DYNAMODB_ENDPOINT } : {}),
    }),
    tableName: `${settings.DYNAMODB_TABLE_PREFIX}${settings.DYNAMODB_SESSION_TABLE}`,
  };
}

/**
 * The dual backend's behaviour from the derived settings (SESSION_STORE_PHASE in libs/config):
 * one mapping, used by the services and by mixed-phase.test.ts, which proves each phase safe.
 */
export function dualOptionsOf(
  settings: Pick<
    SessionStoreSettings,
    'SESSION_DUAL_READ_REPAIR' | 'SESSION_DUAL_FALLBACK_ON_MISS' | 'SESSION_RETIRING_STORE_TTL_SECONDS'
  >,
): Pick<DualBackendOptions, 'readRepair' | 'fallbackOnMiss' | 'secondaryMaxTtlMs'> {
  const ttl = settings.SESSION_RETIRING_STORE_TTL_SECONDS;
  return {
    readRepair: settings.SESSION_DUAL_READ_REPAIR,
    fallbackOnMiss: settings.SESSION_DUAL_FALLBACK_ON_MISS,
    ...(ttl ? { secondaryMaxTtlMs: ttl * 1000 } : {}),
  };
}

/** The backend SESSION_STORE_DRIVER names; `dual` joins SESSION_STORE_PRIMARY and _SECONDARY. */
export function createBackendFromSettings(
  settings: SessionStoreSettings,
  options: {
    metrics?: SessionStoreMetrics;
    clock?: Clock;
    onSecondaryFailure?: (op: string, error: unknown) => void;
  } = {},
): BuiltBackend {
  if (settings.SESSION_STORE_DRIVER !== 'dual') {
    const single = createSingleBackend(settings.SESSION_STORE_DRIVER, settings, options);
    return {
      backend: single.backend,
      stores: { [settings.SESSION_STORE_DRIVER]: single.backend },
      close: single.close,
    };
  }
  if (!settings.SESSION_STORE_PRIMARY || !settings.SESSION_STORE_SECONDARY)
    throw new Error('dual needs SESSION_STORE_PRIMARY and SESSION_STORE_SECONDARY');
  const primary = createSingleBackend(settings.SESSION_STORE_PRIMARY, settings, options);
  const secondary = createSingleBackend(settings.SESSION_STORE_SECONDARY, settings, options);
  const dual = dualOptionsOf(settings);
  const { secondaryMaxTtlMs } = dual;
  const backend = createDualBackend({
    primary: primary.backend,
    secondary: secondary.backend,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...dual,
    ...(options.onSecondaryFailure ? { onSecondaryFailure: options.onSecondaryFailure } : {}),
  });
  const sampler =
    options.metrics && settings.SESSION_CONSISTENCY_SAMPLE_SECONDS > 0
      ? startConsistencySampler({
          primary: primary.backend,
          secondary: secondary.backend,
          metrics: options.metrics,
          sampleSize: settings.SESSION_CONSISTENCY_SAMPLE_SIZE,
          intervalMs: settings.SESSION_CONSISTENCY_SAMPLE_SECONDS * 1000,
          ...(secondaryMaxTtlMs !== undefined ? { secondaryMaxTtlMs } : {}),
          ...(options.clock ? { clock: options.clock } : {}),
        })
      : undefined;
  return {
    backend,
    stores: {
      [settings.SESSION_STORE_PRIMARY]: primary.backend,
      [settings.SESSION_STORE_SECONDARY]: secondary.backend,
    },
    close: async () => {
      sampler?.stop();
      await backend.close();
      await Promise.all([primary.close(), secondary.close()]);
    },
  };
}

/**
 * The koa-session store for a service: the configured backend and one id hasher per
 * SESSION_SECRET. With `phase` (sessionPhaseInfo(config)) and metrics, the pod exports its phase.
 */
export function createSessionStoreFromSettings(
  settings: SessionStoreSettings,
  options: {
    metrics?: SessionStoreMetrics;
    clock?: Clock;
    onSecondaryFailure?: (op: string, error: unknown) => void;
    phase?: PhaseLabels;
  } = {},
) {
  if (options.metrics && options.phase) exportSessionPhase(options.metrics, options.phase);
  const built = createBackendFromSettings(settings, options);
  const store = createSessionStore({
    backend: built.backend,
    hashers: settings.SESSION_SECRET.map((secret) => createSessionIdHasher(secret)),
    ...(options.clock ? { clock: options.clock } : {}),
    defaultTtlMs: settings.SESSION_IDLE_TIMEOUT_SECONDS * 1000,
  });
  return { store, stores: built.stores, close: built.close };
}
