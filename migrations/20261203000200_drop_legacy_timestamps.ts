// The contract half of 20261124000200: drops the `<col>_legacy` text columns the way back
// relies on. Gated: `migrate latest` stops before it until the operator asks for it with
// `--contract`, after verifying the converted values (docs/db-migration.md). Its down brings
// the columns back empty; the original text then comes from the backup.
import type { Knex } from 'knex';
import { timestampTables } from './20261124000200_timestamps_to_timestamptz.js';
import { dropLegacyColumns, restoreLegacyColumns } from './runner/contract.js';
import type { MigrationContext } from './runner/types.js';

export const description = 'drop the legacy text timestamp columns (contract; run with --contract after verifying)';
export const gate = 'contract';
// Each table in its own short, lock-bounded transaction rather than all of them in one.
export const transaction = false;

export function up(knex: Knex, context: MigrationContext): Promise<void> {
  return dropLegacyColumns(knex, timestampTables, context);
}

export function down(knex: Knex, context: MigrationContext): Promise<void> {
  return restoreLegacyColumns(knex, timestampTables, context);
}
