// What the runner and the migrations share: settings, progress events, and the shape of a
// migration in the static list (migrations/index.ts).
import type { Knex } from 'knex';

export type BackupMode = 'schema' | 'pg_dump' | 'none';

export interface ConversionSettings {
  /** Zone of legacy values written without offset (`YYYY-MM-DD HH:MM:SS`); an IANA name. */
  legacyTimeZone: string;
  /** lock_timeout of every statement that can make writers queue behind it. */
  lockTimeoutMs: number;
  /** How long to keep retrying a lock that timed out before giving up with the blockers named. */
  lockRetryForMs: number;
  /** Each backfill batch is sized to take about this long: it bounds a writer's row-lock wait. */
  batchTargetMs: number;
  backup: BackupMode;
  /** Where `pg_dump` backups go. */
  backupDirectory: string;
  pgDumpPath: string;
}

export const defaultSettings: ConversionSettings = {
  legacyTimeZone: 'UTC',
  lockTimeoutMs: 100,
  lockRetryForMs: 300_000,
  // 25 ms against 50 ms: same throughput in bench/migrate.ts (300k rows), half the row-lock wait.
  batchTargetMs: 25,
  backup: 'schema',
  backupDirectory: '.',
  pgDumpPath: 'pg_dump',
};

export type Direction = 'up' | 'down';

export type MigrationEvent =
  | { type: 'runner-lock-wait'; holder: string }
  | { type: 'migration-start'; name: string; direction: Direction }
  | { type: 'migration-done'; name: string; direction: Direction; ms: number }
  | { type: 'gated'; name: string }
  | { type: 'step'; table: string; step: string; detail?: string }
  | {
      type: 'batch';
      table: string;
      direction: Direction;
      rowsDone: number;
      rowsTotal: number;
      batchRows: number;
      batchMs: number;
    }
  | { type: 'lock-retry'; what: string; attempt: number; blockers: string }
  | { type: 'backup'; location: string; restore: string }
  | { type: 'backup-skipped'; reason: string };

/** Awaited by the runner: a listener may pause the run (tests do, to inject faults). */
export type EventListener = (event: MigrationEvent) => void | Promise<void>;

export interface MigrationContext extends ConversionSettings {
  /** DATABASE_URL: pg_dump needs it. */
  url: string;
  /** SESSION_TABLE_NAME: the knex session store's table. */
  sessionTableName: string;
  report: EventListener;
}

export interface PlanItem {
  step: string;
  detail: string;
  /** Estimated seconds; 0 for metadata-only DDL. */
  seconds: number;
}

export interface PortcullisMigration {
  /** One line for `migrate status` and `migrate plan`. */
  description?: string;
  up(knex: Knex, context: MigrationContext): Promise<void>;
  down(knex: Knex, context: MigrationContext): Promise<void>;
  /** false: knex runs it outside a transaction (batched work that commits as it goes). */
  transaction?: boolean;
  /** 'contract': `migrate latest` stops before it unless contract steps were asked for. */
  gate?: 'contract';
  /** True when an earlier run began this migration and did not finish it. */
  started?(knex: Knex): Promise<boolean>;
  /** Progress of an unfinished run, for `migrate status`. */
  progress?(knex: Knex): Promise<string[]>;
  plan?(knex: Knex, context: MigrationContext): Promise<PlanItem[]>;
}

export interface MigrationEntry {
  name: string;
  /**
   * Names it was applied under before a rename: knex_migrations rows under them count as this
   * migration, and the runner renames them under its lock before it runs anything.
   */
  formerNames?: readonly string[];
  migration: PortcullisMigration;
}
