// operational_job_runs on real PostgreSQL: what the CLI records, what a scrape exports, how
// often the database is asked, and which rows the pruning keeps.
import createKnex, { type Knex } from 'knex';
import { Registry } from 'prom-client';
import { createJobRunMetrics, createJobRunQueries, sessionJobsInUse, type JobOutcome } from '@portcullis/session-store';
import { testPostgres, type TestDatabase } from '../../../test/support/index.js';
// The table exactly as its migration creates it (migrations depends on this lib, not the reverse).
import { up as createJobRunsTable } from '../../../migrations/20261203000000_operational_job_runs.js';

let db: TestDatabase;
let knex: Knex;
beforeAll(async () => {
  db = await testPostgres();
  knex = createKnex({ client: 'pg', connection: db.url, pool: { min: 0, max: 4 } });
  await createJobRunsTable(knex);
});
afterAll(async () => {
  await knex.destroy();
  await db.drop();
});
beforeEach(() => knex('operational_job_runs').delete());

const at = (iso: string) => new Date(iso);
const run = (outcome: JobOutcome, finishedAt: string, rows = 0) => ({
  job: 'sessions-cleanup' as const,
  startedAt: at(finishedAt),
  finishedAt: at(finishedAt),
  outcome,
  figures: { rows_removed: rows, table: 'sessions' },
});

it("exports the newest run of each outcome and the newest run's figures", async () => {
  const queries = createJobRunQueries(knex);
  const now = Date.now();
  const iso = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  await queries.record(run('success', iso(120), 10));
  await queries.record(run('success', iso(60), 20));
  await queries.record(run('failure', iso(5), 7));
  const registry = new Registry();
  createJobRunMetrics(registry, { latest: queries.latest, cleanup: true, verify: true, cacheMs: 0 });
  const text = await registry.metrics();
  expect(text).toContain(
    `portcullis_job_last_run_timestamp_seconds{job="sessions-cleanup",outcome="success"} ${(now - 60 * 60_000) / 1000}`,
  );
  expect(text).toContain(
    `portcullis_job_last_run_timestamp_seconds{job="sessions-cleanup",outcome="failure"} ${(now - 5 * 60_000) / 1000}`,
  );
  expect(text).toMatch(/^portcullis_session_cleanup_rows_removed\{table="sessions"\} 7$/m);
  // No verify run recorded: its gauges have no series yet.
  expect(text).not.toMatch(/^portcullis_sessions_verify_ok\{/m);
});

it('asks the database once per cache period however many gauges and scrapes, and keeps the last figures while it fails', async () => {
  const queries = createJobRunQueries(knex);
  await queries.record(run('success', new Date().toISOString(), 42));
  let reads = 0;
  let failing = false;
  const errors: unknown[] = [];
  const registry = new Registry();
  createJobRunMetrics(registry, {
    latest: async () => {
      reads += 1;
      if (failing) throw new Error('connection refused');
      return queries.latest();
    },
    cleanup: true,
    verify: true,
    cacheMs: 60_000,
    onError: (error) => errors.push(error),
  });
  await registry.metrics();
  await Promise.all([registry.metrics(), registry.metrics()]);
  expect(reads).toBe(1);

  const failingRegistry = new Registry();
  createJobRunMetrics(failingRegistry, {
    latest: async () => {
      reads += 1;
      if (failing) throw new Error('connection refused');
      return queries.latest();
    },
    cleanup: true,
    verify: false,
    cacheMs: 0,
    onError: (error) => errors.push(error),
  });
  expect(await failingRegistry.metrics()).toMatch(/rows_removed\{table="sessions"\} 42$/m);
  failing = true;
  expect(await failingRegistry.metrics()).toMatch(/rows_removed\{table="sessions"\} 42$/m);
  expect(errors).toHaveLength(1);
});

it("prunes a job's rows past the retention except the newest of each outcome", async () => {
  const queries = createJobRunQueries(knex);
  const old = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
  await knex('operational_job_runs').insert([
    { job: 'sessions-cleanup', started_at: old(90), finished_at: old(90), outcome: 'success', figures: {} },
    { job: 'sessions-cleanup', started_at: old(80), finished_at: old(80), outcome: 'success', figures: {} },
    { job: 'sessions-cleanup', started_at: old(70), finished_at: old(70), outcome: 'no_go', figures: {} },
    { job: 'sessions-verify', started_at: old(90), finished_at: old(90), outcome: 'success', figures: {} },
    { job: 'sessions-verify', started_at: old(85), finished_at: old(85), outcome: 'success', figures: {} },
  ]);
  await queries.record(run('failure', old(0)));
  const left = await knex('operational_job_runs')
    .orderBy(['job', 'finished_at'])
    .select('job', 'outcome', 'finished_at');
  expect(
    left.map(
      (row) =>
        `${row.job} ${row.outcome} ${Math.round((Date.now() - new Date(row.finished_at).getTime()) / 86_400_000)}`,
    ),
  ).toEqual([
    'sessions-cleanup success 80',
    'sessions-cleanup no_go 70',
    'sessions-cleanup failure 0',
    // Another job's rows wait for that job's next record.
    'sessions-verify success 90',
    'sessions-verify success 85',
  ]);
});

it('says which jobs apply to a store configuration', () => {
  expect(sessionJobsInUse({ SESSION_STORE_DRIVER: 'knex' })).toEqual({ cleanup: true, verify: false });
  expect(sessionJobsInUse({ SESSION_STORE_DRIVER: 'redis' })).toEqual({ cleanup: false, verify: false });
  expect(
    sessionJobsInUse({ SESSION_STORE_DRIVER: 'dual', SESSION_STORE_PRIMARY: 'redis', SESSION_STORE_SECONDARY: 'knex' }),
  ).toEqual({ cleanup: true, verify: true });
  expect(
    sessionJobsInUse({
      SESSION_STORE_DRIVER: 'dual',
      SESSION_STORE_PRIMARY: 'redis',
      SESSION_STORE_SECONDARY: 'dynamodb',
    }),
  ).toEqual({ cleanup: false, verify: true });
});
