// Text → timestamptz by expand/contract, every step idempotent and recorded (state.ts):
//   backup    once, before anything changes (backup.ts)
//   expand    per table: add `<col>_tz` and a trigger that fills it from every write of `<col>`
//   backfill  per table: batches in key order (batches.ts), then VACUUM so no autovacuum
//             of the rewritten rows queues the swap
//   report    every unparseable value of every table, before any table is swapped
//   validate  per table: a NOT VALID check + VALIDATE (which writers do not wait for)
//   swap      per table, one short transaction: `<col>` → `<col>_legacy` (nullable),
//             `<col>_tz` → `<col>`
// The legacy column stays until the contract migration; `down` (revert.ts) uses it.
import type { Knex } from 'knex';
import { boundedTransaction, NON_BLOCKING_LOCK_TIMEOUT_MS, pgErrorCode } from './bounded.js';
import { runBatches } from './batches.js';
import { takeBackup } from './backup.js';
import { MigrationStateError, UnparseableTimestampsError, type UnparseableValue } from './errors.js';
import { legacyColumn, parsedCheck, pendingColumn, SYNC_TRIGGER, syncFunction, type TimestampTable } from './naming.js';
import { ident, installConversionFunctions, isBlank, literal, PARSE_FUNCTION } from './sql-functions.js';
import { assertSameZone, ensureStateTable, readStates, setPhase, STATE_TABLE, type TableState } from './state.js';
import type { MigrationContext } from './types.js';

/** At most this many unparseable values are listed; the total is always given. */
export const REPORT_LIMIT = 10_000;

export async function convertTimestamps(
  knex: Knex,
  tables: TimestampTable[],
  context: MigrationContext,
): Promise<void> {
  await installConversionFunctions(knex);
  await ensureStateTable(knex);
  let states = await readStates(knex);
  assertSameZone(states, context.legacyTimeZone);
  if (states.size === 0) {
    await assertTimeZone(knex, context.legacyTimeZone);
    // A fresh start: the legacy columns are untouched, so this is the moment to copy them.
    const backup = await takeBackup(knex, tables, context);
    await knex(STATE_TABLE).insert(
      tables.map((spec) => ({
        table_name: spec.table,
        phase: 'pending',
        legacy_time_zone: context.legacyTimeZone,
        backup,
      })),
    );
    states = await readStates(knex);
  }
  const rows = tables.map((spec) => {
    const state = states.get(spec.table);
    if (!state)
      throw new MigrationStateError(
        `${STATE_TABLE} has no row for ${spec.table}: roll the conversion back with \`portcullis migrate down\` and run it again`,
      );
    if (state.phase === 'reverting' || state.phase === 'reverted') {
      throw new MigrationStateError(
        `A rollback of ${spec.table} is half done: finish it with \`portcullis migrate down\`, then migrate again`,
      );
    }
    return { spec, state };
  });
  const step = async (table: string, name: string, work: () => Promise<void>) => {
    await context.report({ type: 'step', table, step: name });
    await work();
  };
  for (const { spec, state } of rows) {
    if (state.phase === 'pending') await step(spec.table, 'expand', () => expand(knex, spec, context));
    if (state.phase === 'pending' || state.phase === 'expanded') {
      await step(spec.table, 'backfill', () => backfill(knex, spec, state, context));
      await step(spec.table, 'vacuum', () => vacuum(knex, spec.table));
    }
  }
  // Every table is checked before any is swapped, so one report lists every bad value.
  const unswapped = rows.filter(({ state }) => state.phase !== 'swapped').map(({ spec }) => spec);
  await reportUnparseable(knex, unswapped);
  for (const spec of unswapped) {
    await step(spec.table, 'validate', () => validate(knex, spec, context));
    await step(spec.table, 'swap', () => swap(knex, spec, context));
  }
}

async function assertTimeZone(knex: Knex, zone: string): Promise<void> {
  const result = await knex.raw<{ rows: unknown[] }>('select 1 from pg_timezone_names where name = ?', [zone]);
  if (result.rows.length === 0) {
    throw new MigrationStateError(
      `Legacy time zone "${zone}" is not a time zone PostgreSQL knows: pass an IANA name such as UTC or Europe/Paris`,
    );
  }
}

function syncFunctionSql(spec: TimestampTable, zone: string): string {
  const assignments = spec.columns
    .map(({ name }) => `new.${ident(pendingColumn(name))} := ${PARSE_FUNCTION}(new.${ident(name)}, ${literal(zone)});`)
    .join('\n    ');
  return `create or replace function ${ident(syncFunction(spec.table))}() returns trigger language plpgsql as $fn$
  begin
    ${assignments}
    return new;
  end $fn$`;
}

async function expand(knex: Knex, spec: TimestampTable, context: MigrationContext): Promise<void> {
  const table = ident(spec.table);
  const columns = spec.columns.map(({ name }) => ident(name)).join(', ');
  // One transaction: no row can be written between the new column and its trigger.
  await boundedTransaction(knex, context, { step: 'expand', table: spec.table }, async (trx) => {
    await trx.raw(
      `alter table ${table} ${spec.columns.map(({ name }) => `add column if not exists ${ident(pendingColumn(name))} timestamptz`).join(', ')}`,
    );
    await trx.raw(syncFunctionSql(spec, context.legacyTimeZone));
    await trx.raw(`drop trigger if exists ${SYNC_TRIGGER} on ${table}`);
    await trx.raw(
      `create trigger ${SYNC_TRIGGER} before insert or update of ${columns} on ${table} for each row execute function ${ident(syncFunction(spec.table))}()`,
    );
    await setPhase(trx, spec.table, 'expanded');
  });
}

async function backfill(knex: Knex, spec: TimestampTable, state: TableState, context: MigrationContext): Promise<void> {
  // A cursor saved by an earlier run counts only once the expansion exists (phase expanded).
  const resumeFrom = state.phase === 'expanded' ? state : { ...state, cursor: null, rows_done: '0' };
  const zone = literal(context.legacyTimeZone);
  const set = spec.columns
    .map(({ name }) => `${ident(pendingColumn(name))} = ${PARSE_FUNCTION}(t.${ident(name)}, ${zone})`)
    .join(', ');
  await runBatches(knex, context, { table: spec.table, direction: 'up', set }, resumeFrom);
  await setPhase(knex, spec.table, 'backfilled');
}

/** SKIP_LOCKED: if an autovacuum already holds the table, it does this work; never wait. */
export async function vacuum(knex: Knex, table: string): Promise<void> {
  await knex.raw(`vacuum (analyze, skip_locked) ${ident(table)}`);
}

/** A legacy value that did not parse: blank is acceptable only where the column allows NULL. */
function unparsedCondition(name: string, nullable: boolean): string {
  const missing = `${ident(pendingColumn(name))} is null and ${ident(name)} is not null`;
  return nullable ? `${missing} and not ${isBlank(ident(name))}` : missing;
}

export async function findUnparseable(
  knex: Knex,
  spec: TimestampTable,
): Promise<{ values: UnparseableValue[]; total: number }> {
  const selects = spec.columns.map(
    ({ name, nullable }) =>
      `select id, ${literal(name)} as column_name, ${ident(name)} as raw from ${ident(spec.table)} where ${unparsedCondition(name, nullable)}`,
  );
  const result = await knex.raw<{ rows: { id: string; column_name: string; raw: string; total: string }[] }>(
    `select id::text, column_name, raw, count(*) over () as total from (${selects.join(' union all ')}) bad order by bad.id, column_name limit ?`,
    [REPORT_LIMIT],
  );
  const values = result.rows.map((row) => ({ table: spec.table, id: row.id, column: row.column_name, raw: row.raw }));
  return { values, total: Number(result.rows[0]?.total ?? 0) };
}

async function reportUnparseable(knex: Knex, tables: TimestampTable[]): Promise<void> {
  const found = await Promise.all(tables.map((spec) => findUnparseable(knex, spec)));
  const total = found.reduce((sum, one) => sum + one.total, 0);
  if (total > 0)
    throw new UnparseableTimestampsError(
      found.flatMap((one) => one.values),
      total,
    );
}

async function validate(knex: Knex, spec: TimestampTable, context: MigrationContext): Promise<void> {
  const table = ident(spec.table);
  // From here on a write of an unparseable value is refused, so the swap cannot let one in.
  await boundedTransaction(knex, context, { step: 'adding check constraints', table: spec.table }, async (trx) => {
    for (const { name, nullable } of spec.columns) {
      if (await hasConstraint(trx, spec.table, parsedCheck(name))) continue;
      const condition = nullable
        ? `${ident(pendingColumn(name))} is not null or ${ident(name)} is null or ${isBlank(ident(name))}`
        : `${ident(pendingColumn(name))} is not null`;
      await trx.raw(`alter table ${table} add constraint ${ident(parsedCheck(name))} check (${condition}) not valid`);
    }
  });
  // VALIDATE scans under SHARE UPDATE EXCLUSIVE: writers go on meanwhile.
  for (const { name } of spec.columns) {
    try {
      await boundedTransaction(
        knex,
        context,
        { step: 'validate', table: spec.table, lockTimeoutMs: NON_BLOCKING_LOCK_TIMEOUT_MS },
        (trx) => trx.raw(`alter table ${table} validate constraint ${ident(parsedCheck(name))}`),
      );
    } catch (error) {
      if (pgErrorCode(error) === '23514') await reportUnparseable(knex, [spec]); // a bad value slipped in before the check existed
      throw error;
    }
  }
}

export async function hasConstraint(
  knex: Knex | Knex.Transaction,
  table: string,
  constraint: string,
): Promise<boolean> {
  const result = await knex.raw<{ rows: unknown[] }>(
    'select 1 from pg_constraint where conrelid = to_regclass(?) and conname = ?',
    [table, constraint],
  );
  return result.rows.length > 0;
}

async function swap(knex: Knex, spec: TimestampTable, context: MigrationContext): Promise<void> {
  const table = ident(spec.table);
  await boundedTransaction(knex, context, { step: 'swap', table: spec.table }, async (trx) => {
    await trx.raw(`lock table ${table} in access exclusive mode`);
    await trx.raw(`drop trigger if exists ${SYNC_TRIGGER} on ${table}`);
    await trx.raw(`drop function if exists ${ident(syncFunction(spec.table))}()`);
    for (const { name, nullable } of spec.columns) {
      const [column, legacy, pending] = [ident(name), ident(legacyColumn(name)), ident(pendingColumn(name))];
      await trx.raw(`alter table ${table} rename column ${column} to ${legacy}`);
      await trx.raw(`alter table ${table} rename column ${pending} to ${column}`);
      // New rows set only the timestamptz column, so the legacy one must accept NULL.
      if (!nullable)
        await trx.raw(`alter table ${table} alter column ${legacy} drop not null, alter column ${column} set not null`);
      await trx.raw(`alter table ${table} drop constraint ${ident(parsedCheck(name))}`);
      await trx.raw(`comment on column ${table}.${column} is 'Converted from legacy text (migration 20261124000200)'`);
      await trx.raw(
        `comment on column ${table}.${legacy} is 'Original legacy text, for the way back; NULL for rows written after the swap; dropped by migration 20261124000300'`,
      );
    }
    await setPhase(trx, spec.table, 'swapped');
  });
}
