// Records a scheduled job's run in operational_job_runs (DATABASE_URL), where auth-session's
// /metrics reads it: CronJob pods are not scraped and no Pushgateway is available
// (docs/session-store.md, "Job results in Prometheus").
import type { Config } from '@portcullis/config';
import { createDatabase } from '@portcullis/db';
import { createJobRunQueries, type JobRun } from '@portcullis/session-store';
import { CliError, EXIT, messageOf } from '../cli-error.js';

export async function recordRun(config: Pick<Config, 'DATABASE_URL'>, run: JobRun, verdict = ''): Promise<void> {
  const db = createDatabase({ url: config.DATABASE_URL, poolMax: 1 });
  try {
    await createJobRunQueries(db).record(run);
  } catch (error) {
    throw new CliError(
      `${verdict}could not record the ${run.job} run in operational_job_runs (${messageOf(error)}): Prometheus will not see it; check DATABASE_URL and run \`portcullis migrate latest\`.`,
      EXIT.failure,
    );
  } finally {
    await db.destroy();
  }
}
