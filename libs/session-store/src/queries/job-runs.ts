// operational_job_runs (migration 20261203000000): one row per run of a scheduled job, written
// by the CLI and read by auth-session's /metrics (job-metrics.ts). CronJob pods are not
// scraped and there is no Pushgateway, so the database carries the result to Prometheus. The
// only module that speaks SQL to that table.
import type { Knex } from 'knex';

export const JOB_RUNS_TABLE = 'operational_job_runs';

/** The jobs that record their runs; the names are the `job` label of the metrics. */
export type JobName = 'sessions-cleanup' | 'sessions-verify';

/**
 * success: did all of its work (verify: go). stopped_early: cleanup hit --max-seconds; exit 0,
 * the next run goes on. no_go: verify compared and the stores disagree. failure: could not do
 * its work (database down, stopped by a signal).
 */
export type JobOutcome = 'success' | 'stopped_early' | 'no_go' | 'failure';
export const JOB_OUTCOMES: readonly JobOutcome[] = ['success', 'stopped_early', 'no_go', 'failure'];

/** Plain figures only (counts, flags, store names): never a session, a hash or an error text with data. */
export type JobFigures = Record<string, number | boolean | string | Record<string, number>>;

export interface JobRun {
  job: JobName;
  startedAt: Date;
  finishedAt: Date;
  outcome: JobOutcome;
  figures: JobFigures;
}

/** Rows older than this are pruned when a job records, except the newest of each outcome. */
export const JOB_RUN_RETENTION_DAYS = 30;

interface Row {
  job: JobName;
  started_at: Date;
  finished_at: Date;
  outcome: JobOutcome;
  figures: JobFigures;
}

export function createJobRunQueries(db: Knex) {
  return {
    /** Inserts the run and prunes the job's old rows in one transaction. */
    async record(run: JobRun): Promise<void> {
      await db.transaction(async (trx) => {
        await trx(JOB_RUNS_TABLE).insert({
          job: run.job,
          started_at: run.startedAt,
          finished_at: run.finishedAt,
          outcome: run.outcome,
          figures: JSON.stringify(run.figures),
        });
        // The newest row of each outcome stays whatever its age, so "last success" never vanishes.
        await trx.raw(
          `delete from ?? where job = ? and finished_at < now() - make_interval(days => ?)
             and id not in (select distinct on (outcome) id from ?? where job = ? order by outcome, finished_at desc)`,
          [JOB_RUNS_TABLE, run.job, JOB_RUN_RETENTION_DAYS, JOB_RUNS_TABLE, run.job],
        );
      });
    },
    /** The newest run of each (job, outcome): one read of the (job, outcome, finished_at desc) index. */
    async latest(): Promise<JobRun[]> {
      const result = await db.raw<{ rows: Row[] }>(
        'select distinct on (job, outcome) job, started_at, finished_at, outcome, figures from ?? order by job, outcome, finished_at desc',
        [JOB_RUNS_TABLE],
      );
      return result.rows.map((row) => ({
        job: row.job,
        startedAt: row.started_at,
        finishedAt: row.finished_at,
        outcome: row.outcome,
        figures: row.figures,
      }));
    },
  };
}

export type JobRunQueries = ReturnType<typeof createJobRunQueries>;
