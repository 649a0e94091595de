// config → dependencies → app → listen; SIGTERM drains requests, stops the key-usage gauge,
// then closes the session store and the pool.
import { createAuditWriter } from '@portcullis/audit';
import { exitOnConfigError, keyRingOf } from '@portcullis/config';
import { createServiceBase } from '@portcullis/config/service';
import { createResetLogJobs } from '@portcullis/mfa-reset-log';
import { sessionCookieSettings } from '@portcullis/session-auth';
import { createApp } from './app.js';
import { createKeyUsageGauge } from './key-usage-gauge.js';

const base = await createServiceBase('audit-log').catch(exitOnConfigError);
const { config, logger, db, metrics } = base;
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
  ...base.appDeps,
  audit: createAuditWriter({ db, keys: detailsKeys }),
  detailsKeys,
  clock: { now: () => Date.now() },
  settings: {
    ...sessionCookieSettings(config),
  },
});

await base.run({ app, closers: [async () => gauge?.stop()] });
