// Where the conversion records how far it got, one row per table. Every phase change is
// written in the same transaction as the DDL or batch it describes, so after a crash the row
// says exactly what is done and a re-run continues from there.
import type { Knex } from 'knex';
import { MigrationStateError } from './errors.js';

export const STATE_TABLE = 'portcullis_timestamp_conversion';

/**
 * Forward: pending → expanded (new column + sync trigger) → backfilled → swapped.
 * Way back from swapped: reverting (reverse trigger) → reverted (backfilled); the row goes
 * when the columns are swapped back.
 */
export type Phase = 'pending' | 'expanded' | 'backfilled' | 'swapped' | 'reverting' | 'reverted';

export interface TableState {
  table_name: string;
  phase: Phase;
  legacy_time_zone: string;
  backup: string | null;
  cursor: string | null;
  rows_done: string;
}

export async function ensureStateTable(knex: Knex): Promise<void> {
  await knex.raw(`create table if not exists ${STATE_TABLE} (
    table_name text primary key,
    phase text not null,
    legacy_time_zone text not null,
    backup text,
    cursor text,
    rows_done bigint not null default 0,
    updated_at timestamptz not null default now()
  )`);
  await knex.raw(
    `comment on table ${STATE_TABLE} is 'Progress of the text → timestamptz conversion (migration 20261124000200), one row per table; removed by its down or by the contract migration'`,
  );
}

export async function stateTableExists(knex: Knex): Promise<boolean> {
  const result = await knex.raw<{ rows: { present: boolean }[] }>('select to_regclass(?) is not null as present', [
    STATE_TABLE,
  ]);
  return result.rows[0]?.present === true;
}

export async function readStates(knex: Knex): Promise<Map<string, TableState>> {
  if (!(await stateTableExists(knex))) return new Map();
  const rows = await knex<TableState>(STATE_TABLE).select(
    'table_name',
    'phase',
    'legacy_time_zone',
    'backup',
    'cursor',
    'rows_done',
  );
  return new Map(rows.map((row) => [row.table_name, row]));
}

export async function setPhase(trx: Knex | Knex.Transaction, table: string, phase: Phase): Promise<void> {
  await trx(STATE_TABLE)
    .where({ table_name: table })
    .update({ phase, cursor: null, rows_done: 0, updated_at: trx.fn.now() });
}

export async function saveCursor(trx: Knex.Transaction, table: string, cursor: string, rows: number): Promise<void> {
  await trx(STATE_TABLE)
    .where({ table_name: table })
    .update({ cursor, rows_done: trx.raw('rows_done + ?', [rows]), updated_at: trx.fn.now() });
}

/** A resumed run must parse with the zone the first run used, or rows would disagree. */
export function assertSameZone(states: Map<string, TableState>, zone: string): void {
  for (const state of states.values()) {
    if (state.legacy_time_zone !== zone) {
      throw new MigrationStateError(
        `This conversion was started with legacy time zone ${state.legacy_time_zone}, not ${zone}: ` +
          `run it again with --legacy-time-zone ${state.legacy_time_zone}, or roll it back with \`portcullis migrate down\` first`,
      );
    }
  }
}
