// The contract step of the conversion: drop the `<col>_legacy` text columns once the operator
// has verified the timestamptz values. After it, the original bytes exist only in the backup.
import type { Knex } from 'knex';
import { boundedTransaction } from './bounded.js';
import { MigrationStateError } from './errors.js';
import { legacyColumn, type TimestampTable } from './naming.js';
import { dropConversionFunctions, ident, installConversionFunctions } from './sql-functions.js';
import { ensureStateTable, readStates, STATE_TABLE } from './state.js';
import type { MigrationContext } from './types.js';

export async function dropLegacyColumns(
  knex: Knex,
  tables: TimestampTable[],
  context: MigrationContext,
): Promise<void> {
  const states = await readStates(knex);
  const unfinished = tables.filter((spec) => states.get(spec.table)?.phase !== 'swapped');
  if (unfinished.length > 0) {
    throw new MigrationStateError(
      `The conversion of ${unfinished.map((spec) => spec.table).join(', ')} is not finished: run \`portcullis migrate latest\` first, verify, then contract`,
    );
  }
  for (const spec of tables) {
    await context.report({ type: 'step', table: spec.table, step: 'drop legacy columns' });
    // Metadata only: PostgreSQL marks the columns dropped; the space is reused as rows change.
    await boundedTransaction(knex, context, { step: 'dropping legacy columns', table: spec.table }, (trx) =>
      trx.raw(
        `alter table ${ident(spec.table)} ${spec.columns.map(({ name }) => `drop column if exists ${ident(legacyColumn(name))}`).join(', ')}`,
      ),
    );
  }
  await knex.raw(`drop table if exists ${STATE_TABLE}`);
  await dropConversionFunctions(knex);
}

/**
 * The contract's way back: empty legacy columns again, recorded as swapped, so the conversion's
 * own down can run next and write ISO 8601 UTC text for every row. The original bytes come back
 * from the backup only (docs/db-migration.md, "After the contract").
 */
export async function restoreLegacyColumns(
  knex: Knex,
  tables: TimestampTable[],
  context: MigrationContext,
): Promise<void> {
  await installConversionFunctions(knex);
  await ensureStateTable(knex);
  for (const spec of tables) {
    await context.report({ type: 'step', table: spec.table, step: 'add empty legacy columns' });
    await boundedTransaction(knex, context, { step: 'adding legacy columns', table: spec.table }, async (trx) => {
      const table = ident(spec.table);
      await trx.raw(
        `alter table ${table} ${spec.columns.map(({ name }) => `add column if not exists ${ident(legacyColumn(name))} text`).join(', ')}`,
      );
      for (const { name } of spec.columns) {
        await trx.raw(
          `comment on column ${table}.${ident(legacyColumn(name))} is 'Re-added empty by the down of migration 20261124000300'`,
        );
      }
      await trx(STATE_TABLE)
        .insert({ table_name: spec.table, phase: 'swapped', legacy_time_zone: context.legacyTimeZone, backup: null })
        .onConflict('table_name')
        .ignore();
    });
  }
}
