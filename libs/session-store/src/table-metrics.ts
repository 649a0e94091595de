// The knex session table's own health on /metrics: size, index size, dead rows and the last
// vacuum, read from the database's statistics (never from the table itself, so a scrape costs
// the same on 10 rows or 10 million). The launch checklist asks for autovacuum and index size
// to be watched on RDS: a sessions table rewrites every row on each rolling request, so it
// bloats fast when autovacuum falls behind. Exported by auth-session only (docs/choosing-a-session-store.md).
import { Gauge, type Registry } from 'prom-client';
import type { Knex } from 'knex';
import { assertTableName, sqlFlavour } from './knex-schema.js';

/** One read of the catalogue; undefined fields are what the database does not keep. */
export interface SessionTableStats {
  tableBytes: number;
  indexBytes: number;
  /** Row estimate of the statistics (not an exact count). */
  liveRows: number;
  /** PostgreSQL: dead tuples waiting for vacuum. MySQL keeps no per-table figure (InnoDB purges globally). */
  deadRows?: number;
  /** PostgreSQL: epoch seconds of the newest vacuum, automatic or manual; undefined before the first. */
  lastVacuumSeconds?: number;
  /** MySQL: bytes allocated to the table but free (DATA_FREE), its form of bloat. */
  freeBytes?: number;
}

const POSTGRES_STATS = `
  select pg_table_size(s.relid) as table_bytes, pg_indexes_size(s.relid) as index_bytes,
         s.n_live_tup as live_rows, s.n_dead_tup as dead_rows,
         extract(epoch from greatest(s.last_autovacuum, s.last_vacuum)) as last_vacuum
  from pg_stat_user_tables s
  where s.relid = to_regclass(quote_ident(?))`;

// information_schema.TABLES figures are InnoDB's persistent statistics: refreshed by the
// background statistics thread after ~10% of the rows change, or by ANALYZE TABLE.
const MYSQL_STATS = `
  select DATA_LENGTH as table_bytes, INDEX_LENGTH as index_bytes, TABLE_ROWS as live_rows, DATA_FREE as free_bytes
  from information_schema.TABLES where TABLE_SCHEMA = database() and TABLE_NAME = ?`;

const numberOrUndefined = (value: unknown) => (value === null || value === undefined ? undefined : Number(value));

/** The statistics of `tableName`; undefined when the table does not exist. */
export async function readSessionTableStats(knex: Knex, tableName: string): Promise<SessionTableStats | undefined> {
  assertTableName(tableName);
  if (sqlFlavour(knex) === 'postgres') {
    const { rows } = (await knex.raw(POSTGRES_STATS, [tableName])) as { rows: Record<string, unknown>[] };
    const row = rows[0];
    if (!row) return undefined;
    const lastVacuum = numberOrUndefined(row.last_vacuum);
    return {
      tableBytes: Number(row.table_bytes),
      indexBytes: Number(row.index_bytes),
      liveRows: Number(row.live_rows),
      deadRows: Number(row.dead_rows),
      ...(lastVacuum !== undefined ? { lastVacuumSeconds: lastVacuum } : {}),
    };
  }
  const [rows] = (await knex.raw(MYSQL_STATS, [tableName])) as [Record<string, unknown>[]];
  const row = rows[0];
  if (!row) return undefined;
  return {
    tableBytes: Number(row.table_bytes),
    indexBytes: Number(row.index_bytes),
    liveRows: Number(row.live_rows ?? 0),
    freeBytes: Number(row.free_bytes ?? 0),
  };
}

export interface SessionTableMetricsOptions {
  knex: Knex;
  tableName: string;
  /** Default 60 s: the statistics move slowly, and one read serves every gauge of a scrape. */
  cacheMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * Registers the session_store_table_* gauges, labelled by table. While the database does not
 * answer, the gauges keep the last figures (the vacuum timestamp then ages, which the alert
 * watches); until a first read succeeds they export no series.
 */
export function createSessionTableMetrics(
  registry: Registry,
  { knex, tableName, cacheMs = 60_000, onError }: SessionTableMetricsOptions,
): void {
  assertTableName(tableName);
  let cache: { at: number; stats: Promise<SessionTableStats | undefined> } | undefined;
  let last: SessionTableStats | undefined;
  const stats = () => {
    const now = Date.now();
    if (!cache || now - cache.at >= cacheMs) {
      cache = {
        at: now,
        stats: readSessionTableStats(knex, tableName).then(
          (read) => (last = read),
          (error: unknown) => {
            onError?.(error);
            return last;
          },
        ),
      };
    }
    return cache.stats;
  };
  const gauge = (name: string, help: string, pick: (stats: SessionTableStats) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['table'] as const,
      registers: [registry],
      async collect() {
        const read = await stats();
        const value = read ? pick(read) : undefined;
        this.reset();
        if (value !== undefined && Number.isFinite(value)) this.set({ table: tableName }, value);
      },
    });
  gauge(
    'session_store_table_bytes',
    'Bytes of the knex session table without its indexes (PostgreSQL pg_table_size, MySQL DATA_LENGTH)',
    (s) => s.tableBytes,
  );
  gauge(
    'session_store_index_bytes',
    "Bytes of the knex session table's indexes (PostgreSQL pg_indexes_size, MySQL INDEX_LENGTH)",
    (s) => s.indexBytes,
  );
  gauge(
    'session_store_live_rows',
    'Estimated live rows of the knex session table (statistics, not a count)',
    (s) => s.liveRows,
  );
  gauge(
    'session_store_dead_rows',
    'Dead rows of the knex session table waiting for vacuum (PostgreSQL n_dead_tup)',
    (s) => s.deadRows,
  );
  gauge(
    'session_store_last_autovacuum_seconds',
    'Epoch seconds of the newest vacuum of the knex session table, automatic or manual (PostgreSQL)',
    (s) => s.lastVacuumSeconds,
  );
  gauge(
    'session_store_free_bytes',
    'Bytes allocated to the knex session table but unused (MySQL DATA_FREE), its bloat',
    (s) => s.freeBytes,
  );
}
