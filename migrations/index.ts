// The migration history in name order (test/history.test.ts keeps it sorted), each module
// imported explicitly: the same list runs under jest, tsx and compiled dist, with nothing found
// by globbing the file system. A migration is never edited once landed; a new one is appended
// here with a name that sorts last.
import knexFactory, { type Knex } from 'knex';
import * as legacyBaseline from './20261124000000_legacy_baseline.js';
import * as sessionsTable from './20261124000100_create_sessions_table.js';
import * as timestampsToTimestamptz from './20261124000200_timestamps_to_timestamptz.js';
import * as authRevocationAndAudit from './20261124000250_auth_revocation_and_audit_events.js';
import * as mfaResetRollback from './20261124000400_mfa_reset_rollback.js';
import * as auditAppendOnly from './20261124000500_audit_events_append_only.js';
import * as operationalJobRuns from './20261203000000_operational_job_runs.js';
import * as auditChainKeys from './20261203000100_audit_chain_keys.js';
import * as dropLegacyTimestamps from './20261203000200_drop_legacy_timestamps.js';
import { createRunner, type Migrator, type MigratorOptions } from './runner/migrator.js';
import type { MigrationContext, MigrationEntry } from './runner/types.js';

export const migrations: readonly MigrationEntry[] = [
  {
    name: '20261124000000_legacy_baseline',
    migration: {
      description: 'legacy baseline: the schema production has today (text timestamps)',
      up: (knex: Knex) => legacyBaseline.up(knex),
      down: (knex: Knex) => legacyBaseline.down(knex),
    },
  },
  {
    name: '20261124000100_create_sessions_table',
    migration: {
      description: 'sessions table of the knex session store (SESSION_TABLE_NAME)',
      up: (knex: Knex, context: MigrationContext) => sessionsTable.up(knex, context.sessionTableName),
      down: (knex: Knex, context: MigrationContext) => sessionsTable.down(knex, context.sessionTableName),
    },
  },
  { name: '20261124000200_timestamps_to_timestamptz', migration: timestampsToTimestamptz },
  { name: '20261124000250_auth_revocation_and_audit_events', migration: authRevocationAndAudit },
  { name: '20261124000400_mfa_reset_rollback', migration: mfaResetRollback },
  { name: '20261124000500_audit_events_append_only', migration: auditAppendOnly },
  { name: '20261203000000_operational_job_runs', migration: operationalJobRuns },
  { name: '20261203000100_audit_chain_keys', migration: auditChainKeys },
  // The gated contract step: it was 20261124000300 and ran last, after the four above, which
  // must not wait for its gate. Renamed so the list is in name order and it still runs last; a
  // database that applied it under the old name has it under this one (the runner renames the row).
  {
    name: '20261203000200_drop_legacy_timestamps',
    formerNames: ['20261124000300_drop_legacy_timestamps'],
    migration: dropLegacyTimestamps,
  },
];

/** The runner over the migration history on the caller's knex (PostgreSQL): `latest`, `up`, `down`, `status`, `plan`. */
export function createMigrator(knex: Knex, options: MigratorOptions = {}): Migrator {
  return createRunner([...migrations], knex, options);
}

/** Every pending migration up to the contract gate (what `portcullis migrate latest` runs); returns the names run. */
export function migrateLatest(knex: Knex, options: MigratorOptions = {}): Promise<string[]> {
  return createMigrator(knex, options).latest();
}

/**
 * A migrator on a connection of its own, for the CLI and the Helm Job: PostgreSQL directly
 * (not RDS Proxy), named `portcullis migrate` in pg_stat_activity. Close it when done.
 */
export function openMigrator(options: MigratorOptions & { url: string }): Migrator & { close(): Promise<void> } {
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString: options.url, application_name: 'portcullis migrate' },
    pool: { min: 0, max: 3 },
    // The runner reports a failure itself, in one sentence; knex's console warnings would repeat it.
    log: { warn: () => undefined },
  });
  return { ...createMigrator(knex, options), close: () => knex.destroy() };
}

export { timestampTables } from './20261124000200_timestamps_to_timestamptz.js';
export { restoreSql } from './runner/backup.js';
export { findUnparseable, REPORT_LIMIT } from './runner/convert.js';
export {
  LockUnavailableError,
  MigrationError,
  MigrationStateError,
  RunnerLockTimeoutError,
  UnparseableTimestampsError,
  type UnparseableValue,
} from './runner/errors.js';
export type {
  MigrationState,
  MigrationStatus,
  Migrator,
  MigratorOptions,
  PlannedMigration,
  RunOptions,
} from './runner/migrator.js';
export { FORMAT_FUNCTION, installConversionFunctions, PARSE_FUNCTION } from './runner/sql-functions.js';
export {
  defaultSettings,
  type BackupMode,
  type ConversionSettings,
  type MigrationEvent,
  type PlanItem,
} from './runner/types.js';
