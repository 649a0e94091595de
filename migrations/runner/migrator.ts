// The one runner behind `portcullis migrate`, the Helm pre-upgrade Job and the tests: knex's
// migrator over a static list (no globbing, so jest, tsx and compiled dist run the same
// modules), one migration at a time under the runner lock, stopping before a gated contract
// migration unless asked.
import type { Knex } from 'knex';
import type pg from 'pg';
import { MigrationError } from './errors.js';
import { withRunnerLock } from './runner-lock.js';
import {
  defaultSettings,
  type ConversionSettings,
  type EventListener,
  type MigrationContext,
  type MigrationEntry,
  type PlanItem,
} from './types.js';

export interface MigratorOptions extends Partial<ConversionSettings> {
  /**
   * DATABASE_URL, for the runner-lock connection and pg_dump; defaults to the knex instance's
   * connection. PostgreSQL directly, not through RDS Proxy: the runner lock is session-level.
   */
  url?: string;
  /** SESSION_TABLE_NAME, default `sessions`. */
  sessionTableName?: string;
  /** How long to wait for another runner's lock; 0 waits without limit. Default 15 minutes. */
  runnerLockWaitMs?: number;
  onEvent?: EventListener;
}

export interface RunOptions {
  /** Also run contract migrations (they drop what the way back needs). */
  contract?: boolean;
}

export type MigrationState = 'done' | 'pending' | 'in progress' | 'needs --contract';

export interface MigrationStatus {
  name: string;
  description: string;
  state: MigrationState;
  ranAt?: Date;
  progress: string[];
}

export interface PlannedMigration {
  name: string;
  description: string;
  items: PlanItem[];
}

export interface Migrator {
  /** Runs every pending migration up to the first gated one (or all, with contract). Returns the names run. */
  latest(options?: RunOptions): Promise<string[]>;
  /** Runs the next pending migration, if it is not gated (or contract is set). */
  up(options?: RunOptions): Promise<string | undefined>;
  /** Undoes the last migration: a half-done one first, else the last completed one. */
  down(): Promise<string | undefined>;
  status(): Promise<MigrationStatus[]>;
  /** What `latest` would run, with estimated seconds; changes nothing. */
  plan(options?: RunOptions): Promise<PlannedMigration[]>;
}

const MIGRATIONS_TABLE = 'knex_migrations';

function migrationSource(entries: MigrationEntry[], context: MigrationContext): Knex.MigrationSource<MigrationEntry> {
  return {
    getMigrations: () => Promise.resolve(entries),
    getMigrationName: (entry) => entry.name,
    getMigration: (entry) => {
      const { migration } = entry;
      const wrapped: Knex.Migration & { config: { transaction: boolean } } = {
        up: (knex) => migration.up(knex, context),
        down: (knex) => migration.down(knex, context),
        config: { transaction: migration.transaction ?? true },
      };
      return Promise.resolve(wrapped);
    },
  };
}

/** The connection the runner lock is held on: its own, outside the knex pool. */
function lockConnection(knex: Knex, url: string | undefined): pg.ClientConfig {
  if (url) return { connectionString: url };
  const { connection } = knex.client.config as Knex.Config;
  if (typeof connection === 'string') return { connectionString: connection };
  // knex keeps the password non-enumerable (so it stays out of logs): a spread would drop it.
  if (connection && typeof connection === 'object') {
    const settings = connection as pg.ClientConfig;
    return { ...settings, password: settings.password };
  }
  throw new MigrationError(
    'The knex connection is given as a function: pass the database URL to the migrator as `url`',
  );
}

/** Runs over the caller's knex instance (PostgreSQL), which the caller also closes. */
export function createRunner(entries: MigrationEntry[], knex: Knex, options: MigratorOptions = {}): Migrator {
  const { url, sessionTableName = 'sessions', runnerLockWaitMs = 15 * 60_000, onEvent, ...settings } = options;
  const definedSettings = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
  const report: EventListener = (event) => onEvent?.(event);
  const { connectionString = '' } = lockConnection(knex, url);
  const context: MigrationContext = {
    ...defaultSettings,
    ...definedSettings,
    url: connectionString,
    sessionTableName,
    report,
  };
  const config: Knex.MigratorConfig = {
    migrationSource: migrationSource(entries, context),
    tableName: MIGRATIONS_TABLE,
  };

  const renamed = entries.filter((entry) => entry.formerNames?.length);

  /** Read from knex's table without creating it, so status and plan change nothing; a former name counts as the current one. */
  async function ranAt(): Promise<Map<string, Date>> {
    if (!(await knex.schema.hasTable(MIGRATIONS_TABLE))) return new Map();
    const rows = await knex<{ name: string; migration_time: Date }>(MIGRATIONS_TABLE).select('name', 'migration_time');
    const done = new Map(rows.map((row) => [row.name, row.migration_time]));
    for (const { name, formerNames = [] } of renamed) {
      const former = formerNames.map((formerName) => done.get(formerName)).find((at) => at !== undefined);
      if (!done.has(name) && former) done.set(name, former);
    }
    return done;
  }

  /**
   * A row under a former name takes the current one before knex reads its table: knex refuses a
   * history naming a migration it does not know, and would otherwise run the migration again.
   */
  async function adoptFormerNames(): Promise<void> {
    if (renamed.length === 0 || !(await knex.schema.hasTable(MIGRATIONS_TABLE))) return;
    for (const { name, formerNames = [] } of renamed) {
      await knex(MIGRATIONS_TABLE)
        .whereIn('name', formerNames)
        .whereNotExists(knex(MIGRATIONS_TABLE).select(knex.raw('1')).where({ name }))
        .update({ name });
    }
  }

  async function pendingEntries(): Promise<MigrationEntry[]> {
    const done = await ranAt();
    return entries.filter((entry) => !done.has(entry.name));
  }

  /** Runs the next migration; undefined when there is none or it is gated. */
  async function runNext({ contract = false }: RunOptions): Promise<string | undefined> {
    const next = (await pendingEntries())[0];
    if (!next) return undefined;
    if (next.migration.gate === 'contract' && !contract) {
      await report({ type: 'gated', name: next.name });
      return undefined;
    }
    await report({ type: 'migration-start', name: next.name, direction: 'up' });
    const started = Date.now();
    await knex.migrate.up({ ...config, name: next.name });
    await report({ type: 'migration-done', name: next.name, direction: 'up', ms: Date.now() - started });
    return next.name;
  }

  /** Holds the runner lock; a knex lock row left by a killed runner cannot belong to a live one. */
  const locked = <T>(work: () => Promise<T>) =>
    withRunnerLock(lockConnection(knex, url), runnerLockWaitMs, report, async () => {
      await knex.migrate.forceFreeMigrationsLock(config);
      await adoptFormerNames();
      return work();
    });

  async function down(): Promise<string | undefined> {
    const next = (await pendingEntries())[0];
    const started = Date.now();
    if (next && (await next.migration.started?.(knex))) {
      await report({ type: 'migration-start', name: next.name, direction: 'down' });
      await next.migration.down(knex, context);
      await report({ type: 'migration-done', name: next.name, direction: 'down', ms: Date.now() - started });
      return next.name;
    }
    const done = await ranAt();
    const last = entries.findLast((entry) => done.has(entry.name))?.name;
    if (!last) return undefined;
    await report({ type: 'migration-start', name: last, direction: 'down' });
    await knex.migrate.down({ ...config, name: last });
    await report({ type: 'migration-done', name: last, direction: 'down', ms: Date.now() - started });
    return last;
  }

  return {
    latest: (runOptions = {}) =>
      locked(async () => {
        const ran: string[] = [];
        for (let name = await runNext(runOptions); name; name = await runNext(runOptions)) ran.push(name);
        return ran;
      }),
    up: (runOptions = {}) => locked(() => runNext(runOptions)),
    down: () => locked(down),
    async status() {
      const done = await ranAt();
      const firstPending = entries.find((entry) => !done.has(entry.name));
      return Promise.all(
        entries.map(async ({ name, migration }) => {
          const ran = done.get(name);
          const inProgress = !ran && name === firstPending?.name && (await migration.started?.(knex)) === true;
          const state: MigrationState = ran
            ? 'done'
            : inProgress
              ? 'in progress'
              : migration.gate === 'contract'
                ? 'needs --contract'
                : 'pending';
          const progress = inProgress || ran ? ((await migration.progress?.(knex)) ?? []) : [];
          return { name, description: migration.description ?? '', state, ...(ran ? { ranAt: ran } : {}), progress };
        }),
      );
    },
    async plan({ contract = false } = {}) {
      const planned: PlannedMigration[] = [];
      for (const { name, migration } of await pendingEntries()) {
        if (migration.gate === 'contract' && !contract) break;
        const items = (await migration.plan?.(knex, context)) ?? [
          { step: 'run', detail: migration.description ?? 'DDL in one transaction', seconds: 0 },
        ];
        planned.push({ name, description: migration.description ?? '', items });
      }
      return planned;
    },
  };
}
