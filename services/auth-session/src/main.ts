// config → dependencies → app → listen; SIGTERM drains requests, then closes the pool.
import { exitOnConfigError, loadConfigWithSecrets } from '@portcullis/config';
import { createDatabase, pingDatabase } from '@portcullis/db';
import { runService } from '@portcullis/http';
import { createLogger, createMetrics } from '@portcullis/observability';
import { createApp } from './app.js';

const name = 'auth-session';
const config = await loadConfigWithSecrets().catch(exitOnConfigError);
const logger = createLogger({ service: name, level: config.LOG_LEVEL });
const db = createDatabase({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX });
const metrics = createMetrics(name);
const app = createApp({ db, logger, metrics, proxy: config.TRUST_PROXY });

await runService({
  name,
  app,
  logger,
  metrics,
  config,
  checks: { database: () => pingDatabase(db) },
  closers: [() => db.destroy()],
});
