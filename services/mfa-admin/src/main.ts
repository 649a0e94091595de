// config → dependencies → app → listen; SIGTERM drains requests, stops the revoke retries, then
// closes the session store and the pool.
import { createAuditWriter } from '@portcullis/audit';
import {
  ConfigError,
  exitOnConfigError,
  keyRingOf,
  loadConfigWithSecrets,
  type KeyRingVariable,
  sessionPhaseInfo,
} from '@portcullis/config';
import { createDatabase, pingDatabase } from '@portcullis/db';
import { runService } from '@portcullis/http';
import { createLogger, createMetrics } from '@portcullis/observability';
import { createSessionStoreFromSettings, createSessionStoreMetrics } from '@portcullis/session-store';
import { createApp } from './app.js';
import { createPasswordHasher } from '@portcullis/crypto';
import { createSessionRevoker } from './libraries/session-revoker.js';
import { createRevocationQueries } from './queries/revocations.js';
import { sessionCookieSettings } from '@portcullis/session-auth';

const name = 'mfa-admin';
const config = await loadConfigWithSecrets().catch(exitOnConfigError);
const logger = createLogger({ service: name, level: config.LOG_LEVEL });

const required: KeyRingVariable[] = [
  'MFA_SECRET_ENCRYPTION_KEY',
  'MFA_RESET_LOG_ENCRYPTION_KEY',
  'AUDIT_DETAILS_ENCRYPTION_KEY',
];
const missing = required.filter((variable) => !config[variable]);
if (missing.length > 0)
  exitOnConfigError(
    new ConfigError(
      missing.map((variable) => ({
        variable,
        message: `is required by ${name} (generate one with \`portcullis keys generate\`)`,
      })),
    ),
  );
// The keys were checked by loadConfig and are all set: this cannot throw or miss any more.
const ring = (primary: KeyRingVariable) => keyRingOf(config, primary)!;

const clock = { now: () => Date.now() };
const db = createDatabase({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX });
const metrics = createMetrics(name);
const sessions = createSessionStoreFromSettings(config, {
  metrics: createSessionStoreMetrics(metrics.registry),
  onSecondaryFailure: (op, error) =>
    logger.warn({ op, err: error }, 'session store: secondary write failed, queued for repair'),
  phase: sessionPhaseInfo(config), // session_store_phase_info on /metrics, as on every pod
});
const revoker = createSessionRevoker({
  queries: createRevocationQueries(db),
  store: sessions.store,
  clock,
  logger,
  absoluteTimeoutMs: config.SESSION_ABSOLUTE_TIMEOUT_SECONDS * 1000,
});
revoker.start(config.SESSION_REVOKE_RETRY_SECONDS * 1000);

const app = createApp({
  db,
  store: sessions.store,
  resetLogKeys: ring('MFA_RESET_LOG_ENCRYPTION_KEY'),
  totpKeys: ring('MFA_SECRET_ENCRYPTION_KEY'),
  audit: createAuditWriter({ db, keys: ring('AUDIT_DETAILS_ENCRYPTION_KEY') }),
  revoker,
  passwords: createPasswordHasher(),
  logger,
  metrics,
  clock,
  trustedProxyHops: config.TRUSTED_PROXY_HOPS,
  settings: {
    ...sessionCookieSettings(config),
    reauthMaxAgeMs: config.REAUTH_MAX_AGE_SECONDS * 1000,
  },
});

await runService({
  name,
  app,
  logger,
  metrics,
  config,
  checks: { database: () => pingDatabase(db), sessionStore: () => sessions.store.get('readiness-probe') },
  closers: [() => revoker.stop(), () => sessions.close(), () => db.destroy()],
});
