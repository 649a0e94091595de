// The timestamp conversion on 1,000,000 legacy reset-log rows: the expand/contract runner vs the
// naive `ALTER COLUMN … TYPE timestamptz USING …` on a copy of the same data, in the same run,
// each with the same concurrent writer timing every statement it sends. Target: the writer
// never waits 200 ms under the runner, while the naive ALTER blocks it for its whole run.
//
//   npm run bench -- migrate [--rows 1000000] [--batch-ms 50]
//   (PORTCULLIS_BENCH_PG_URL: an admin URL to use instead of a throwaway local PostgreSQL)
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { createMigrator, defaultSettings, type MigrationEvent } from '@portcullis/migrations';
import { startPostgres } from '../test/infra/postgres.js';
import { RUN_DIR_ENV } from '../test/infra/state.js';
import { generateLegacyData, prepareLegacySchema } from './generate-legacy-data.js';
import { percentile, printResult, printTable, round } from './harness.js';

const CONVERSION = '20261124000200_timestamps_to_timestamptz';
const TARGET_MAX_WRITER_WAIT_MS = 200;

interface WriterStats {
  ops: number;
  maxMs: number;
  p99Ms: number;
  /** performance.now() when the slowest statement was sent. */
  slowestAt: number;
}

/** One connection alternating an insert and an update of a random existing row, every statement timed. */
function startWriter(url: string, table: string, ids: { min: number; max: number; tenantId: string; adminId: string }) {
  const client = new pg.Client({ connectionString: url, application_name: 'bench writer' });
  const latencies: number[] = [];
  let slowest = { ms: 0, at: 0 };
  let stopped = false;
  const running = (async () => {
    await client.connect();
    for (let n = 0; !stopped; n++) {
      const instant = new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(); // valid as text and as timestamptz
      const started = performance.now();
      if (n % 2 === 0) {
        await client.query(
          `insert into ${table} (tenant_id, tenant_admin_id, reset_by, reason, created_at) values ($1, $2, $2, 'bench writer', $3)`,
          [ids.tenantId, ids.adminId, instant],
        );
      } else {
        const id = ids.min + Math.floor(Math.random() * (ids.max - ids.min));
        await client.query(`update ${table} set rolled_back_at = $1 where id = $2`, [instant, id]);
      }
      const ms = performance.now() - started;
      latencies.push(ms);
      if (ms > slowest.ms) slowest = { ms, at: started };
    }
    await client.end();
  })();
  return {
    async stop(): Promise<WriterStats> {
      stopped = true;
      await running;
      return { ops: latencies.length, maxMs: slowest.ms, p99Ms: percentile(latencies, 99), slowestAt: slowest.at };
    },
  };
}

/** Runs `work` with the writer going from 300 ms before to 300 ms after it. */
async function withWriter(
  url: string,
  knex: Knex,
  table: string,
  work: () => Promise<void>,
): Promise<{ seconds: number; writer: WriterStats }> {
  const range = await knex.raw<{ rows: { min: number; max: number; tenant_id: string; tenant_admin_id: string }[] }>(
    `select min(id)::int as min, max(id)::int as max, (array_agg(tenant_id))[1] as tenant_id, (array_agg(tenant_admin_id))[1] as tenant_admin_id from ${table}`,
  );
  const { min, max, tenant_id: tenantId, tenant_admin_id: adminId } = range.rows[0]!;
  const writer = startWriter(url, table, { min, max, tenantId, adminId });
  await sleep(300);
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  await sleep(300);
  return { seconds, writer: await writer.stop() };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/** Wall time of each conversion step (summed over the four tables), from the runner's own events. */
function stepTimer() {
  const intervals: { step: string; from: number; to: number }[] = [];
  const batches: { ms: number; rows: number }[] = [];
  let current: { step: string; at: number } | undefined;
  const next = (step: string | undefined) => {
    const now = performance.now();
    if (current) intervals.push({ step: current.step, from: current.at, to: now });
    current = step === undefined ? undefined : { step, at: now };
  };
  return {
    onEvent(event: MigrationEvent) {
      if (event.type === 'migration-start' && event.name === CONVERSION) next('backup');
      if (event.type === 'step') next(event.step);
      if (event.type === 'batch') batches.push({ ms: event.batchMs, rows: event.batchRows });
      if (event.type === 'migration-done' && event.name === CONVERSION) next(undefined);
    },
    seconds(step: string): number {
      return intervals
        .filter((interval) => interval.step === step)
        .reduce((sum, interval) => sum + (interval.to - interval.from) / 1000, 0);
    },
    batches,
    /** The step running at `at`, to tell where the writer's longest wait came from. */
    at(at: number): string {
      return intervals.find((interval) => interval.from <= at && at < interval.to)?.step ?? 'outside the migration';
    },
  };
}

export default async function (): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(3),
    options: {
      rows: { type: 'string', default: '1000000' },
      'batch-ms': { type: 'string', default: String(defaultSettings.batchTargetMs) },
    },
  });
  const rows = Number(values.rows);
  const batchTargetMs = Number(values['batch-ms']);
  const external = process.env.PORTCULLIS_BENCH_PG_URL;
  const ownRunDir = !process.env[RUN_DIR_ENV]; // startPostgres() makes one outside jest
  const server = external ? undefined : await startPostgres();
  const adminUrl = external ?? server!.url;
  const database = `bench_migrate_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${database}`);
  const url = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
  const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 4 } });
  try {
    await prepareLegacySchema(knex);
    const generateSeconds = await timed(() => generateLegacyData(knex, { rows }));
    const copySeconds = await timed(async () => {
      await knex.raw('create table naive_reset_logs (like tenant_admin_mfa_reset_logs including all)');
      await knex.raw('insert into naive_reset_logs select * from tenant_admin_mfa_reset_logs');
      await knex.raw('vacuum analyze naive_reset_logs, tenant_admin_mfa_reset_logs');
    });
    const planItems =
      (await createMigrator(knex, { url }).plan()).find((migration) => migration.name === CONVERSION)?.items ?? [];
    const planned = (step: string) =>
      planItems.filter((item) => item.step === step).reduce((sum, item) => sum + item.seconds, 0);
    const estimate = planItems.reduce((sum, item) => sum + item.seconds, 0);

    const steps = stepTimer();
    const migrator = createMigrator(knex, { url, batchTargetMs, onEvent: (event) => steps.onEvent(event) });
    const runner = await withWriter(url, knex, 'tenant_admin_mfa_reset_logs', async () => {
      while (
        !(await migrator.status()).some((migration) => migration.name === CONVERSION && migration.state === 'done')
      )
        await migrator.up();
    });
    // The same parser, so the two runs differ only in how they take locks.
    const naive = await withWriter(url, knex, 'naive_reset_logs', async () => {
      await knex.raw(`alter table naive_reset_logs
        alter column created_at type timestamptz using portcullis_parse_legacy_timestamp(created_at, 'UTC'),
        alter column rolled_back_at type timestamptz using portcullis_parse_legacy_timestamp(rolled_back_at, 'UTC')`);
    });

    const row = (name: string, run: { seconds: number; writer: WriterStats }) => ({
      approach: name,
      'total s': round(run.seconds, 1),
      'rows/s': Math.round(rows / run.seconds),
      'writer ops': run.writer.ops,
      'writer max wait ms': round(run.writer.maxMs, 1),
      'writer p99 ms': round(run.writer.p99Ms, 1),
    });
    printTable(
      `Timestamp conversion, ${rows.toLocaleString('en-US')} reset-log rows (+ tenants and admins), one concurrent writer`,
      [row('expand/contract runner', runner), row('naive ALTER … TYPE', naive)],
    );
    printTable('Runner steps, seconds summed over the four tables: measured vs `migrate plan`', [
      {
        '': 'measured',
        backup: round(steps.seconds('backup'), 1),
        backfill: round(steps.seconds('backfill'), 1),
        'vacuum + validate': round(steps.seconds('vacuum') + steps.seconds('validate'), 1),
        'expand + swap': round(steps.seconds('expand') + steps.seconds('swap'), 2),
        total: round(runner.seconds, 1),
      },
      {
        '': 'planned',
        backup: round(planned('backup'), 1),
        backfill: round(planned('backfill'), 1),
        'vacuum + validate': round(planned('validate'), 1),
        'expand + swap': 0,
        total: round(estimate, 1),
      },
    ]);
    const batchMs = steps.batches.map((batch) => batch.ms);
    console.log(
      `Backfill batches: ${batchMs.length}, median ${percentile(
        steps.batches.map((batch) => batch.rows),
        50,
      )} rows, ` +
        `p50 ${round(percentile(batchMs, 50), 1)} ms, p99 ${round(percentile(batchMs, 99), 1)} ms, max ${round(Math.max(...batchMs), 1)} ms (target ${batchTargetMs} ms)`,
    );
    console.log(
      `The writer's longest wait (${round(runner.writer.maxMs, 1)} ms) began during: ${steps.at(runner.writer.slowestAt)}`,
    );
    printTable('Context', [
      {
        'generate s': round(generateSeconds, 1),
        'copy for naive s': round(copySeconds, 1),
        'plan estimate s': round(estimate, 1),
        'load avg (1 min)': round(loadavg()[0] ?? 0, 2),
      },
    ]);
    printResult({
      benchmark: 'migrate',
      rows,
      total_s: round(runner.seconds, 2),
      rows_s: Math.round(rows / runner.seconds),
      max_writer_wait_ms: round(runner.writer.maxMs, 1),
      max_writer_wait_step: steps.at(runner.writer.slowestAt),
      p99_writer_wait_ms: round(runner.writer.p99Ms, 1),
      writer_ops: runner.writer.ops,
      naive_total_s: round(naive.seconds, 2),
      naive_rows_s: Math.round(rows / naive.seconds),
      naive_max_writer_wait_ms: round(naive.writer.maxMs, 1),
      plan_estimate_s: round(estimate, 1),
      lock_timeout_ms: defaultSettings.lockTimeoutMs,
      batch_target_ms: batchTargetMs,
      target_max_writer_wait_ms: TARGET_MAX_WRITER_WAIT_MS,
      load_avg_1m: round(loadavg()[0] ?? 0, 2),
    });
  } finally {
    await knex.destroy();
    await admin.query(`drop database if exists ${database} with (force)`).catch(() => undefined);
    await admin.end();
    await server?.dispose();
    if (ownRunDir && process.env[RUN_DIR_ENV]) rmSync(process.env[RUN_DIR_ENV], { recursive: true, force: true });
  }
}
