// config → dependencies → app → listen; SIGTERM drains requests, stops the key-usage gauge,
// then closes the session store and the pool.
import { createAuditWriter } from '@portcullis/audit';
import { exitOnConfigError, keyRingOf, loadConfigWithSecrets, sessionPhaseInfo } from '@portcullis/config';
import { createDatabase, pingDatabase } from '@portcullis/db';
import { runService } from '@portcullis/http';
import { createLogger, createMetrics } from '@portcullis/observability';
import { createSessionStoreFromSettings, createSessionStoreMetrics } from '@portcullis/session-store';
import { createApp } from './app.js';
import { createResetLogJobs } from '@portcullis/mfa-reset-log';
import { createKeyUsageGauge } from './key-usage-gauge.js';
import { sessionCookieSettings } from '@portcullis/session-auth';

const name = 'audit-log';
const config = await loadConfigWithSecrets().catch(exitOnConfigError);
const logger = createLogger({ service: name, level: config.LOG_LEVEL });
const db = createDatabase({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX });
const metrics = createMetrics(name);
const sessions = createSessionStoreFromSettings(config, {
  metrics: createSessionStoreMetrics(metrics.registry),
  onSecondaryFailure: (op, error) =>
    logger.warn({ op, err: error }, 'session store: secondary write failed, queued for repair'),
  phase: sessionPhaseInfo(config), // session_store_phase_info on /metrics, as on every pod
});
// Keys were checked by loadConfig; a missing one only narrows what this service can show.
const detailsKeys = keyRingOf(config, 'AUDIT_DETAILS_ENCRYPTION_KEY');
if (!detailsKeys)
  logger.warn(
    'AUDIT_DETAILS_ENCRYPTION_KEY is not set: sealed audit details (reasons, tickets) are shown as [sealed] and keyed chains cannot be verified',
  );
const resetLogKeys = keyRingOf(config, 'MFA_RESET_LOG_ENCRYPTION_KEY');
const gauge = resetLogKeys
  ? createKeyUsageGauge({
      registry: metrics.registry,
      count: () => createResetLogJobs({ db, ring: resetLogKeys }).keyUsage(),
      logger,
    })
  : undefined;
gauge?.start(config.MFA_RESET_LOG_USAGE_REFRESH_SECONDS * 1000);

const app = createApp({
  db,
  store: sessions.store,
  audit: createAuditWriter({ db, keys: detailsKeys }),
  detailsKeys,
  logger,
  metrics,
  clock: { now: () => Date.now() },
  trustedProxyHops: config.TRUSTED_PROXY_HOPS,
  settings: {
    ...sessionCookieSettings(config),
  },
});

await runService({
  name,
  app,
  logger,
  metrics,
  config,
  checks: { database: () => pingDatabase(db), sessionStore: () => sessions.store.get('readiness-probe') },
  closers: [async () => gauge?.stop(), () => sessions.close(), () => db.destroy()],
});
