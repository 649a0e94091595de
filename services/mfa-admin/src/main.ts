// config → dependencies → app → listen; SIGTERM drains requests, stops the revoke retries, then
// closes the session store and the pool.
import { createAuditWriter } from '@portcullis/audit';
import { exitOnConfigError } from '@portcullis/config';
import { createServiceBase } from '@portcullis/config/service';
import { createPasswordHasher } from '@portcullis/crypto';
import { sessionCookieSettings } from '@portcullis/session-auth';
import { createApp } from './app.js';
import { createSessionRevoker } from './libraries/session-revoker.js';
import { createRevocationQueries } from './queries/revocations.js';

const base = await createServiceBase('mfa-admin', [
  'MFA_SECRET_ENCRYPTION_KEY',
  'MFA_RESET_LOG_ENCRYPTION_KEY',
  'AUDIT_DETAILS_ENCRYPTION_KEY',
]).catch(exitOnConfigError);
const { config, keys, logger, db, sessions } = base;
const clock = { now: () => Date.now() };
const revoker = createSessionRevoker({
  queries: createRevocationQueries(db),
  store: sessions.store,
  clock,
  logger,
  absoluteTimeoutMs: config.SESSION_ABSOLUTE_TIMEOUT_SECONDS * 1000,
});
revoker.start(config.SESSION_REVOKE_RETRY_SECONDS * 1000);

const app = createApp({
  ...base.appDeps,
  resetLogKeys: keys.MFA_RESET_LOG_ENCRYPTION_KEY,
  totpKeys: keys.MFA_SECRET_ENCRYPTION_KEY,
  audit: createAuditWriter({ db, keys: keys.AUDIT_DETAILS_ENCRYPTION_KEY }),
  revoker,
  passwords: createPasswordHasher(),
  clock,
  settings: {
    ...sessionCookieSettings(config),
    reauthMaxAgeMs: config.REAUTH_MAX_AGE_SECONDS * 1000,
  },
});

await base.run({ app, closers: [() => revoker.stop()] });
