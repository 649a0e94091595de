// Production stores every timestamp as text (see the legacy baseline); the application needs
// timestamptz. A plain ALTER COLUMN ... TYPE would rewrite each table under an ACCESS EXCLUSIVE
// lock for its whole run, so this converts by expand/contract (migrations/runner/convert.ts):
// a synced `<col>_tz` column, batched backfill, validation, then a short swap that leaves the
// original text in `<col>_legacy` for the way back. The contract migration 20261124000300 drops it.
// Runs outside a transaction: the batches commit as they go, and every step can be resumed.
import type { Knex } from 'knex';
import { convertTimestamps } from './runner/convert.js';
import type { TimestampTable } from './runner/naming.js';
import { planConversion } from './runner/plan.js';
import { revertTimestamps } from './runner/revert.js';
import { readStates, stateTableExists } from './runner/state.js';
import type { MigrationContext, PlanItem } from './runner/types.js';

const adminColumns = [
  { name: 'mfa_enrolled_at', nullable: true },
  { name: 'locked_until', nullable: true },
  { name: 'password_changed_at', nullable: true },
  { name: 'disabled_at', nullable: true },
  { name: 'created_at', nullable: false },
  { name: 'updated_at', nullable: false },
];

/** Every text timestamp of the baseline, parents first (the way back walks it in reverse). */
export const timestampTables: TimestampTable[] = [
  {
    table: 'tenants',
    columns: [
      { name: 'created_at', nullable: false },
      { name: 'updated_at', nullable: false },
    ],
  },
  { table: 'platform_admins', columns: adminColumns },
  { table: 'tenant_admins', columns: adminColumns },
  {
    table: 'tenant_admin_mfa_reset_logs',
    columns: [
      { name: 'created_at', nullable: false },
      { name: 'rolled_back_at', nullable: true },
    ],
  },
];

export const description =
  'text timestamps → timestamptz (expand, backfill, validate, swap; legacy text kept until contract)';
export const transaction = false;

export function up(knex: Knex, context: MigrationContext): Promise<void> {
  return convertTimestamps(knex, timestampTables, context);
}

export function down(knex: Knex, context: MigrationContext): Promise<void> {
  return revertTimestamps(knex, timestampTables, context);
}

export function started(knex: Knex): Promise<boolean> {
  return stateTableExists(knex);
}

export async function progress(knex: Knex): Promise<string[]> {
  const states = await readStates(knex);
  return [...states.values()].map(
    (state) =>
      `${state.table_name}: ${state.phase}${Number(state.rows_done) > 0 ? ` (${Number(state.rows_done).toLocaleString('en-US')} rows done)` : ''}, ` +
      `legacy time zone ${state.legacy_time_zone}${state.backup ? `, backup ${state.backup}` : ''}`,
  );
}

export function plan(knex: Knex, context: MigrationContext): Promise<PlanItem[]> {
  return planConversion(knex, timestampTables, context);
}
