// The way back, as careful as the way forward (same bounded locks, same batches):
//   not yet swapped  drop the trigger, checks and `<col>_tz` columns; the text was never touched
//   swapped          a reverse trigger keeps `<col>_legacy` right for new writes, batches fix the
//                    rows written or changed since the swap (portcullis_legacy_text: original bytes
//                    while they still denote the value, else ISO 8601 UTC), then one short
//                    transaction swaps the names back and drops the timestamptz column.
import type { Knex } from 'knex';
import { boundedTransaction, NON_BLOCKING_LOCK_TIMEOUT_MS } from './bounded.js';
import { runBatches } from './batches.js';
import { hasConstraint } from './convert.js';
import {
  filledCheck,
  legacyColumn,
  parsedCheck,
  pendingColumn,
  SYNC_TRIGGER,
  syncFunction,
  type TimestampTable,
} from './naming.js';
import {
  dropConversionFunctions,
  ident,
  installConversionFunctions,
  LEGACY_TEXT_FUNCTION,
  literal,
} from './sql-functions.js';
import { readStates, setPhase, STATE_TABLE, type TableState } from './state.js';
import type { MigrationContext } from './types.js';

export async function revertTimestamps(knex: Knex, tables: TimestampTable[], context: MigrationContext): Promise<void> {
  await installConversionFunctions(knex);
  const states = await readStates(knex);
  for (const spec of [...tables].reverse()) {
    const state = states.get(spec.table);
    if (state) await revertTable(knex, spec, state, context);
  }
  if ((await readStates(knex)).size === 0) {
    await knex.raw(`drop table if exists ${STATE_TABLE}`);
    await dropConversionFunctions(knex);
  }
}

async function revertTable(
  knex: Knex,
  spec: TimestampTable,
  state: TableState,
  context: MigrationContext,
): Promise<void> {
  const step = async (name: string, work: () => Promise<void>) => {
    await context.report({ type: 'step', table: spec.table, step: name });
    await work();
  };
  let phase = state.phase;
  if (phase === 'pending' || phase === 'expanded' || phase === 'backfilled') {
    await step('remove expansion', () => removeExpansion(knex, spec, context));
    return;
  }
  if (phase === 'swapped') {
    await step('reverse trigger', () => reverseTrigger(knex, spec, state.legacy_time_zone, context));
    phase = 'reverting';
  }
  if (phase === 'reverting') {
    await step('backfill legacy text', () => backfillLegacy(knex, spec, { ...state, phase }, context));
    phase = 'reverted';
  }
  await step('validate', () => validateFilled(knex, spec, context));
  await step('swap back', () => swapBack(knex, spec, context));
}

async function removeExpansion(knex: Knex, spec: TimestampTable, context: MigrationContext): Promise<void> {
  const table = ident(spec.table);
  await boundedTransaction(knex, context, { step: 'removing the expansion', table: spec.table }, async (trx) => {
    await trx.raw(`drop trigger if exists ${SYNC_TRIGGER} on ${table}`);
    await trx.raw(`drop function if exists ${ident(syncFunction(spec.table))}()`);
    const drops = spec.columns.flatMap(({ name }) => [
      `drop constraint if exists ${ident(parsedCheck(name))}`,
      `drop column if exists ${ident(pendingColumn(name))}`,
    ]);
    await trx.raw(`alter table ${table} ${drops.join(', ')}`);
    await trx(STATE_TABLE).where({ table_name: spec.table }).delete();
  });
}

const legacyText = (name: string, zone: string, row: string) =>
  `${LEGACY_TEXT_FUNCTION}(${row}.${ident(legacyColumn(name))}, ${row}.${ident(name)}, ${literal(zone)})`;

async function reverseTrigger(
  knex: Knex,
  spec: TimestampTable,
  zone: string,
  context: MigrationContext,
): Promise<void> {
  const table = ident(spec.table);
  const assignments = spec.columns
    .map(({ name }) => `new.${ident(legacyColumn(name))} := ${legacyText(name, zone, 'new')};`)
    .join('\n    ');
  await boundedTransaction(knex, context, { step: 'reverse trigger', table: spec.table }, async (trx) => {
    await trx.raw(`create or replace function ${ident(syncFunction(spec.table))}() returns trigger language plpgsql as $fn$
  begin
    ${assignments}
    return new;
  end $fn$`);
    await trx.raw(`drop trigger if exists ${SYNC_TRIGGER} on ${table}`);
    const columns = spec.columns.map(({ name }) => ident(name)).join(', ');
    await trx.raw(
      `create trigger ${SYNC_TRIGGER} before insert or update of ${columns} on ${table} for each row execute function ${ident(syncFunction(spec.table))}()`,
    );
    await setPhase(trx, spec.table, 'reverting');
  });
}

async function backfillLegacy(
  knex: Knex,
  spec: TimestampTable,
  state: TableState,
  context: MigrationContext,
): Promise<void> {
  const zone = state.legacy_time_zone;
  const set = spec.columns
    .map(({ name }) => `${ident(legacyColumn(name))} = ${legacyText(name, zone, 't')}`)
    .join(', ');
  // Rows whose text already matches are skipped: usually all but those written since the swap.
  const where = spec.columns
    .map(({ name }) => `t.${ident(legacyColumn(name))} is distinct from ${legacyText(name, zone, 't')}`)
    .join(' or ');
  await runBatches(knex, context, { table: spec.table, direction: 'down', set, where }, state);
  await setPhase(knex, spec.table, 'reverted');
}

/** NOT NULL columns get a validated `is not null` check, so SET NOT NULL in the swap skips its scan. */
async function validateFilled(knex: Knex, spec: TimestampTable, context: MigrationContext): Promise<void> {
  const table = ident(spec.table);
  const required = spec.columns.filter((column) => !column.nullable);
  await boundedTransaction(knex, context, { step: 'adding check constraints', table: spec.table }, async (trx) => {
    for (const { name } of required) {
      if (await hasConstraint(trx, spec.table, filledCheck(name))) continue;
      await trx.raw(
        `alter table ${table} add constraint ${ident(filledCheck(name))} check (${ident(legacyColumn(name))} is not null) not valid`,
      );
    }
  });
  for (const { name } of required) {
    await boundedTransaction(
      knex,
      context,
      { step: 'validate', table: spec.table, lockTimeoutMs: NON_BLOCKING_LOCK_TIMEOUT_MS },
      (trx) => trx.raw(`alter table ${table} validate constraint ${ident(filledCheck(name))}`),
    );
  }
}

async function swapBack(knex: Knex, spec: TimestampTable, context: MigrationContext): Promise<void> {
  const table = ident(spec.table);
  await boundedTransaction(knex, context, { step: 'swap back', table: spec.table }, async (trx) => {
    await trx.raw(`lock table ${table} in access exclusive mode`);
    await trx.raw(`drop trigger if exists ${SYNC_TRIGGER} on ${table}`);
    await trx.raw(`drop function if exists ${ident(syncFunction(spec.table))}()`);
    for (const { name, nullable } of spec.columns) {
      const [column, legacy, pending] = [ident(name), ident(legacyColumn(name)), ident(pendingColumn(name))];
      await trx.raw(`alter table ${table} rename column ${column} to ${pending}`);
      await trx.raw(`alter table ${table} rename column ${legacy} to ${column}`);
      if (!nullable) {
        // Separate statements: in one ALTER the DROP would run first and SET NOT NULL would scan.
        await trx.raw(`alter table ${table} alter column ${column} set not null`);
        await trx.raw(`alter table ${table} drop constraint ${ident(filledCheck(name))}`);
      }
      await trx.raw(`alter table ${table} drop column ${pending}`);
      await trx.raw(`comment on column ${table}.${column} is 'Legacy text timestamp'`);
    }
    await trx(STATE_TABLE).where({ table_name: spec.table }).delete();
  });
}
