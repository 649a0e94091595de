import { setTimeout as sleep } from 'node:timers/promises';
import createKnex, { type Knex } from 'knex';
import type { Clock } from './session-store.js';
import { systemClock } from './session-store.js';

export type SqlFlavour = 'postgres' | 'mysql';

/** The two databases the knex store supports; anything else is refused when the store is built. */
export function sqlFlavour(knex: Knex): SqlFlavour {
  const dialect = knex.client.dialect;
  if (dialect === 'postgresql') return 'postgres';
  if (dialect === 'mysql') return 'mysql';
  throw new Error(`The knex session store supports PostgreSQL (pg) and MySQL/MariaDB (mysql2), not "${dialect}"`);
}

/**
 * Plain identifiers only: the name also goes into index names (PostgreSQL cuts identifiers
 * at 63 bytes, MySQL refuses past 64) and into catalogue lookups, where a schema-qualified
 * or quoted name would not match.
 */
export function assertTableName(tableName: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,47}$/.test(tableName)) {
    throw new Error(
      `Session table name "${tableName}" must be a plain identifier of at most 48 letters, digits or underscores`,
    );
  }
}

/** The schema builder of the session table with its indexes, for the dialect of `knex`. */
function sessionTableBuilder(knex: Knex, tableName: string): Knex.SchemaBuilder {
  assertTableName(tableName);
  const flavour = sqlFlavour(knex);
  return knex.schema.createTable(tableName, (table) => {
    table.comment('Sessions of the knex session store (SESSION_STORE=knex); see docs/session-store.md');
    if (flavour === 'mysql') table.charset('utf8mb4');
    // Binary comparison on ASCII hex: 64-byte keys that compare with memcmp, and range scans
    // for sample() that need no collation rules.
    table
      .specificType(
        'hash',
        flavour === 'postgres' ? 'char(64) collate "C"' : 'char(64) character set ascii collate ascii_bin',
      )
      .primary()
      .comment('HMAC-SHA256 of the session id (hex); the id itself is never stored');
    table
      .string('user_id', 255)
      .nullable()
      .index(`${tableName}_user_id_idx`)
      .comment('Admin the session belongs to; null before sign-in');
    // MEDIUMTEXT (16 MiB) on MySQL: TEXT stops at 64 KiB, below the 1 MiB session cap.
    table
      .specificType('data', flavour === 'postgres' ? 'text' : 'mediumtext')
      .notNullable()
      .comment('koa-session object as JSON');
    table
      .bigInteger('expires_at')
      .notNullable()
      .index(`${tableName}_expires_at_idx`)
      .comment('Epoch ms; rows past it are ignored by reads and deleted by cleanupExpiredSessions');
    table.bigInteger('created_at').notNullable().comment('Epoch ms of the first write');
    table.bigInteger('updated_at').notNullable().comment('Epoch ms of the last write');
  });
}

/** Creates the session table with its indexes (what the migration runs). */
export async function createSessionTable(knex: Knex, tableName: string): Promise<void> {
  await sessionTableBuilder(knex, tableName);
}

/**
 * The statements createSessionTable runs with this knex client, each ending in `;`, for a DBA
 * who applies DDL by hand (`portcullis sessions create-table --print`). Needs no connection.
 */
export async function sessionTableDdl(client: 'pg' | 'mysql2', tableName: string): Promise<string[]> {
  const offline = createKnex({ client });
  try {
    return sessionTableBuilder(offline, tableName)
      .toSQL()
      .map((statement) => `${statement.sql};`);
  } finally {
    await offline.destroy();
  }
}

export interface CleanupOptions {
  clock?: Clock;
  /** Rows per DELETE: each batch is one short statement holding few row locks. */
  batchSize?: number;
  /** Stop after this many batches even if expired rows remain (the next run goes on). */
  maxBatches?: number;
  /** Pause between batches, to leave room for the hot path and for replicas to catch up. */
  pauseMs?: number;
  /** Checked before each batch: an aborted run ends after the batch in flight (time bound, SIGTERM). */
  signal?: AbortSignal;
  /** Called after every batch, for progress lines. */
  onBatch?: (progress: CleanupProgress) => void;
}

export interface CleanupProgress {
  /** Rows deleted so far. */
  deleted: number;
  batches: number;
}

export interface CleanupResult extends CleanupProgress {
  /** True when the last batch came back short: nothing that expired before `cutoff` is left. */
  finished: boolean;
  /** Epoch ms: rows that expired before it were the run's work. */
  cutoff: number;
}

function affectedRows(result: unknown): number {
  // pg answers { rowCount }, mysql2 [ResultSetHeader { affectedRows }, fields].
  const first: unknown = Array.isArray(result) ? result[0] : result;
  if (first && typeof first === 'object') {
    if ('rowCount' in first && typeof first.rowCount === 'number') return first.rowCount;
    if ('affectedRows' in first && typeof first.affectedRows === 'number') return first.affectedRows;
  }
  throw new Error('cleanupExpiredSessions: the driver did not report how many rows a DELETE removed');
}

/**
 * Deletes rows that expired before the run started, oldest first, in batches by primary
 * key, so no statement locks or scans much at once. Stops when a batch comes back short
 * (finished), after maxBatches, or when the signal aborts; each stop is safe, and the next
 * run simply goes on. Run it from a scheduled job (`portcullis sessions cleanup`); reads
 * already ignore expired rows, so falling behind only costs space.
 */
export async function runExpiredSessionCleanup(
  knex: Knex,
  tableName: string,
  {
    clock = systemClock,
    batchSize = 1000,
    maxBatches = Number.POSITIVE_INFINITY,
    pauseMs = 0,
    signal,
    onBatch,
  }: CleanupOptions = {},
): Promise<CleanupResult> {
  assertTableName(tableName);
  const flavour = sqlFlavour(knex);
  // Fixed for the run: rows expiring meanwhile wait for the next run, so the loop ends.
  const cutoff = clock.now();
  const progress: CleanupProgress = { deleted: 0, batches: 0 };
  while (progress.batches < maxBatches && !signal?.aborted) {
    if (progress.batches > 0 && pauseMs > 0) {
      const stopped = await sleep(pauseMs, false, signal ? { signal } : {}).catch(() => true);
      if (stopped) break;
    }
    const result: unknown =
      flavour === 'postgres'
        ? // PostgreSQL has no DELETE … LIMIT. The outer expires_at test re-checks each row
          // under its lock, so a row renewed since the subquery read it is kept.
          await knex.raw(
            'delete from ?? where hash in (select hash from ?? where expires_at < ? order by expires_at limit ?) and expires_at < ?',
            [tableName, tableName, cutoff, batchSize, cutoff],
          )
        : await knex.raw('delete from ?? where expires_at < ? order by expires_at limit ?', [
            tableName,
            cutoff,
            batchSize,
          ]);
    const rows = affectedRows(result);
    progress.deleted += rows;
    progress.batches += 1;
    onBatch?.({ ...progress });
    if (rows < batchSize) return { ...progress, finished: true, cutoff };
  }
  return { ...progress, finished: false, cutoff };
}

/** runExpiredSessionCleanup, returning only how many rows it deleted. */
export async function cleanupExpiredSessions(
  knex: Knex,
  tableName: string,
  options: CleanupOptions = {},
): Promise<number> {
  return (await runExpiredSessionCleanup(knex, tableName, options)).deleted;
}
