// Where the scheduled jobs leave their results for Prometheus. CronJob pods live for seconds
// and are not scraped, and no Pushgateway is available, so `portcullis sessions cleanup` and
// `portcullis sessions verify --record` write one row per run here and auth-session exports
// the newest run of each (job, outcome) on /metrics (libs/session-store: queries/job-runs.ts,
// job-metrics.ts; docs/session-store.md). The CLI prunes rows past 30 days, so the table stays
// a few thousand rows. A new, empty table: nothing to convert, one short transaction.
import type { Knex } from 'knex';

export const description = 'operational_job_runs: results of the scheduled jobs, exported by auth-session on /metrics';

const OUTCOMES = ['success', 'stopped_early', 'no_go', 'failure'];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('operational_job_runs', (table) => {
    table.comment(
      'One row per run of a scheduled job (portcullis sessions cleanup, sessions verify --record); read by /metrics',
    );
    table.bigIncrements('id');
    table
      .text('job')
      .notNullable()
      .comment(
        'Job name, the `job` label of portcullis_job_last_run_timestamp_seconds (sessions-cleanup, sessions-verify)',
      );
    table.specificType('started_at', 'timestamptz').notNullable();
    table.specificType('finished_at', 'timestamptz').notNullable();
    table
      .text('outcome')
      .notNullable()
      .comment(`${OUTCOMES.join(' | ')}`);
    table
      .jsonb('figures')
      .notNullable()
      .defaultTo('{}')
      .comment('Counts and flags of the run (rows removed, verdict, mismatches); never session data');
  });
  // DDL takes no bind parameters; the list is the constant above.
  await knex.raw(
    `alter table operational_job_runs add constraint operational_job_runs_outcome check (outcome in (${OUTCOMES.map((outcome) => `'${outcome}'`).join(', ')}))`,
  );
  // The scrape reads the newest row of each (job, outcome): this index answers it without sorting.
  await knex.raw('create index operational_job_runs_latest on operational_job_runs (job, outcome, finished_at desc)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('operational_job_runs');
}
