// config → dependencies → app → listen; SIGTERM drains requests, then closes pools and stores.
import { Redis } from 'ioredis';
import { createAuditWriter } from '@portcullis/audit';
import { exitOnConfigError, keyRingOf } from '@portcullis/config';
import { createServiceBase } from '@portcullis/config/service';
import { createDatabase } from '@portcullis/db';
import {
  BOUNDED_REDIS_OPTIONS,
  createJobRunMetrics,
  createJobRunQueries,
  createSessionTableMetrics,
  sessionJobsInUse,
  startItemCounter,
  type SessionBackend,
} from '@portcullis/session-store';
import { sessionCookieSettings } from '@portcullis/session-auth';
import { createApp } from './app.js';
import { ensureDefaultPlatformAdmin } from './libraries/default-admin.js';
import { createLoginThrottle, type ThrottleStore } from './libraries/login-throttle.js';
import { createSignInPasswordHasher } from './libraries/passwords.js';

const base = await createServiceBase('auth-session', ['MFA_SECRET_ENCRYPTION_KEY']).catch(exitOnConfigError);
const { config, logger, db, metrics, storeMetrics, sessions } = base;
const counter = startItemCounter(sessions.stores as Record<string, SessionBackend>, storeMetrics);
// Results of the scheduled jobs (sessions cleanup, sessions verify --record) read from
// operational_job_runs on scrape; only auth-session exports them (docs/session-store.md).
createJobRunMetrics(metrics.registry, {
  latest: createJobRunQueries(db).latest,
  ...sessionJobsInUse(config),
  onError: (error) =>
    logger.warn(
      { errorCode: (error as { code?: string }).code ?? 'unknown' },
      'operational_job_runs: job results not readable for /metrics',
    ),
});
// The knex session table's size, dead rows and last vacuum (session_store_table_bytes, …): exported
// by auth-session only, so one pod per scrape reads the catalogue (docs/choosing-a-session-store.md).
const sessionDb = !sessionJobsInUse(config).cleanup
  ? undefined
  : config.SESSION_DATABASE_URL
    ? createDatabase({ url: config.SESSION_DATABASE_URL, client: config.SESSION_KNEX_CLIENT, poolMax: 1 })
    : db;
if (sessionDb) {
  createSessionTableMetrics(metrics.registry, {
    knex: sessionDb,
    tableName: config.SESSION_TABLE_NAME,
    onError: (error) =>
      logger.warn(
        { errorCode: (error as { code?: string }).code ?? 'unknown' },
        'session table statistics not readable for /metrics',
      ),
  });
}
const redis =
  config.RATE_LIMIT_STORE === 'redis' && config.REDIS_URL
    ? new Redis(config.REDIS_URL, BOUNDED_REDIS_OPTIONS)
    : undefined;
const throttleStore: ThrottleStore = redis
  ? { redis }
  : config.RATE_LIMIT_STORE === 'postgres'
    ? { postgres: db }
    : { memory: true };
// The audit key ring keys the hash chain (required in production by loadConfig).
const audit = createAuditWriter({ db, keys: keyRingOf(config, 'AUDIT_DETAILS_ENCRYPTION_KEY') });
const clock = { now: () => Date.now() };

if (config.DEFAULT_PLATFORM_ADMIN_EMAIL && config.DEFAULT_PLATFORM_ADMIN_PASSWORD) {
  const outcome = await ensureDefaultPlatformAdmin(
    { db, passwords: createSignInPasswordHasher(), audit, clock },
    config.DEFAULT_PLATFORM_ADMIN_EMAIL,
    config.DEFAULT_PLATFORM_ADMIN_PASSWORD,
  );
  logger.info({ outcome }, 'default platform admin');
}

const app = createApp({
  ...base.appDeps,
  totpKeys: base.keys.MFA_SECRET_ENCRYPTION_KEY,
  audit,
  throttle: createLoginThrottle({ store: throttleStore, keyPrefix: config.REDIS_KEY_PREFIX }),
  clock,
  settings: {
    ...sessionCookieSettings(config),
    maxConcurrent: config.SESSION_MAX_CONCURRENT,
    concurrencyMode: config.SESSION_CONCURRENCY_MODE,
    lockout: {
      threshold: config.LOCKOUT_THRESHOLD,
      baseSeconds: config.LOCKOUT_BASE_SECONDS,
      maxSeconds: config.LOCKOUT_MAX_SECONDS,
    },
    reauthMaxAgeMs: config.REAUTH_MAX_AGE_SECONDS * 1000,
  },
});

await base.run({
  app,
  checks: redis ? { redis: () => redis.ping() } : {},
  closers: [
    async () => counter.stop(),
    async () => redis?.disconnect(),
    async () => {
      if (sessionDb && sessionDb !== db) await sessionDb.destroy();
    },
  ],
});
