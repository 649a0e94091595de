// `migrate plan`: what the conversion would do on this database and how long it should take,
// from row counts and rates measured here on a sample, inside a transaction that is rolled
// back (the sample rows are rewritten and parsed exactly as a backfill batch would, then the
// rewrite is undone; the row locks last as long as one batch).
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { countRows } from './batches.js';
import type { TimestampTable } from './naming.js';
import { ident, installConversionFunctions, isBlank, literal, PARSE_FUNCTION } from './sql-functions.js';
import { readStates } from './state.js';
import type { MigrationContext, PlanItem } from './types.js';

export const PLAN_SAMPLE_ROWS = 20_000;
/**
 * The vacuum and validation scans after a backfill: about 10–16 % of the backfill's time in
 * bench/migrate.ts (1M rows). A short sample scan says nothing about them: they read the table
 * twice its size (every row has a dead version until the vacuum) and vacuum its indexes.
 */
const VACUUM_VALIDATE_SHARE = 0.16;

export interface SampleRates {
  sampled: number;
  /** Rows per second rewritten with their values parsed: the backfill's pace. */
  updateRate: number;
  /** Rows per second copied, for the backup. */
  copyRate: number;
  /** Sampled rows holding at least one value that does not parse. */
  unparseable: number;
}

const perSecond = (rows: number, ms: number) =>
  rows === 0 ? Number.POSITIVE_INFINITY : rows / Math.max(ms / 1000, 1e-3);

export async function measureSample(knex: Knex, spec: TimestampTable, context: MigrationContext): Promise<SampleRates> {
  const table = ident(spec.table);
  const zone = literal(context.legacyTimeZone);
  const parsed = (name: string) => `${PARSE_FUNCTION}(t.${ident(name)}, ${zone})`;
  const bad = spec.columns
    .map(
      ({ name, nullable }) =>
        `(${parsed(name)} is null and t.${ident(name)} is not null${nullable ? ` and not ${isBlank(`t.${ident(name)}`)}` : ''})`,
    )
    .join(' or ');
  const trx = await knex.transaction();
  try {
    await trx.raw(`set local lock_timeout = ${Math.round(context.lockTimeoutMs)}`);
    await installConversionFunctions(trx);
    let started = performance.now();
    const sample = await trx.raw<{ rows: { sampled: number; unparseable: number }[] }>(
      `with b as (select id from ${table} order by id limit ?),
        u as (update ${table} as t set ${spec.columns.map(({ name }) => `${ident(name)} = t.${ident(name)}`).join(', ')} from b where t.id = b.id returning ${bad} as bad)
        select count(*)::int as sampled, count(*) filter (where bad)::int as unparseable from u`,
      [PLAN_SAMPLE_ROWS],
    );
    const updateMs = performance.now() - started;
    started = performance.now();
    // A regular table, WAL-logged like the backup's (a temporary one is not, and copies faster).
    await trx.raw(`create table ${ident(`portcullis_plan_copy_${process.pid}`)} as select * from ${table} limit ?`, [
      PLAN_SAMPLE_ROWS,
    ]);
    const copyMs = performance.now() - started;
    const { sampled, unparseable } = sample.rows[0] ?? { sampled: 0, unparseable: 0 };
    return { sampled, unparseable, updateRate: perSecond(sampled, updateMs), copyRate: perSecond(sampled, copyMs) };
  } finally {
    await trx.rollback();
  }
}

async function tableExists(knex: Knex, table: string): Promise<boolean> {
  const result = await knex.raw<{ rows: { present: boolean }[] }>('select to_regclass(?) is not null as present', [
    table,
  ]);
  return result.rows[0]?.present === true;
}

const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')} rows/s`;
const secondsFor = (rows: number, perSecondRate: number) => (rows === 0 ? 0 : rows / perSecondRate);

export async function planConversion(
  knex: Knex,
  tables: TimestampTable[],
  context: MigrationContext,
): Promise<PlanItem[]> {
  const states = await readStates(knex);
  const items: PlanItem[] = [];
  let backupSeconds = 0;
  let backupRows = 0;
  for (const spec of tables) {
    const state = states.get(spec.table);
    if (state?.phase === 'swapped') continue;
    if (!(await tableExists(knex, spec.table))) {
      items.push({
        step: 'convert',
        detail: `${spec.table}: created empty by an earlier migration of this run`,
        seconds: 0,
      });
      continue;
    }
    const rows = await countRows(knex, spec.table);
    const sample = await measureSample(knex, spec, context);
    const phase = state?.phase ?? 'pending';
    const remaining =
      phase === 'pending' || phase === 'expanded' ? Math.max(0, rows - Number(state?.rows_done ?? 0)) : 0;
    backupRows += rows;
    backupSeconds += secondsFor(rows, sample.copyRate);
    items.push({
      step: 'expand',
      detail: `${spec.table}: add ${spec.columns.length} timestamptz columns and the sync trigger (lock_timeout ${context.lockTimeoutMs} ms)`,
      seconds: 0,
    });
    const backfill =
      remaining === 0
        ? 'no rows to backfill'
        : `${remaining.toLocaleString('en-US')} rows at ${rate(sample.updateRate)} (measured on ${sample.sampled} rows)`;
    items.push({
      step: 'backfill',
      detail: `${spec.table}: ${backfill}`,
      seconds: secondsFor(remaining, sample.updateRate),
    });
    const warning =
      sample.unparseable > 0
        ? `; ${sample.unparseable} of ${sample.sampled} sampled rows hold values that cannot be parsed: the run would stop here`
        : '';
    const scans =
      rows === 0 ? 'empty' : `vacuum and validation scans of ${rows.toLocaleString('en-US')} rows${warning}`;
    items.push({
      step: 'validate',
      detail: `${spec.table}: ${scans}`,
      seconds: VACUUM_VALIDATE_SHARE * secondsFor(rows, sample.updateRate),
    });
    items.push({
      step: 'swap',
      detail: `${spec.table}: rename in one transaction (lock_timeout ${context.lockTimeoutMs} ms)`,
      seconds: 0,
    });
  }
  if (states.size === 0 && context.backup !== 'none' && backupRows > 0) {
    items.unshift({
      step: 'backup',
      detail: `${context.backup === 'schema' ? 'copy to a backup schema' : 'pg_dump'} of ${backupRows.toLocaleString('en-US')} rows`,
      seconds: backupSeconds,
    });
  }
  return items;
}
