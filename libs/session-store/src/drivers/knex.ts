import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { SessionBackend, SessionCounts, SessionRecord } from '../backend.js';
import { assertTableName, sqlFlavour } from '../knex-schema.js';
import type { Clock } from '../session-store.js';
import { systemClock } from '../session-store.js';

export interface KnexBackendOptions {
  /** PostgreSQL (pg) or MySQL/MariaDB (mysql2). Owned by the caller: close() leaves it open. */
  knex: Knex;
  /** A table made by createSessionTable (migrations/20261124000100_create_sessions_table.ts). */
  tableName: string;
  clock?: Clock;
  /** Default 1 MiB, the product's cap; the columns hold more (text, MEDIUMTEXT = 16 MiB). */
  maxDataBytes?: number;
  /**
   * Tables the statistics put below this many rows are counted exactly; larger ones get the
   * estimate plus a count of expired rows capped at this many (an index range scan).
   */
  exactCountThreshold?: number;
}

interface Row {
  hash: string;
  user_id: string | null;
  data: string;
  // pg returns bigint as a string (it may exceed 2^53); epoch ms never does.
  expires_at: string | number;
  created_at: string | number;
  updated_at: string | number;
}

const COLUMNS = ['hash', 'user_id', 'data', 'expires_at'] as const;

/**
 * A statement knex builds once, at start-up, with named placeholders (`:hash`), run later
 * straight through knex's pool: the query builder cost ~100 µs of CPU per call on the
 * request path, several times the round trip itself. Migrations and the rare paths keep knex.
 */
interface Prepared {
  sql: string;
  /** Per placeholder of `sql`: the name of the value, or a constant knex put there (a LIMIT). */
  order: (string | { constant: unknown })[];
}

function prepare(builder: Knex.QueryBuilder): Prepared {
  const { sql, bindings } = builder.toSQL().toNative();
  return {
    sql,
    order: bindings.map((binding) =>
      typeof binding === 'string' && binding.startsWith(':') ? binding.slice(1) : { constant: binding },
    ),
  };
}

interface PooledConnection {
  query(sql: string, values: unknown[], callback?: (error: Error | null, rows: unknown) => void): unknown;
}

/** Runs a prepared statement on a connection of knex's pool (pg answers a promise, mysql2 a callback). */
function statementRunner(knex: Knex, flavour: 'postgres' | 'mysql') {
  const client = knex.client as {
    acquireConnection(): Promise<PooledConnection>;
    releaseConnection(connection: PooledConnection): Promise<void>;
  };
  return async <R>(statement: Prepared, values: Record<string, unknown>): Promise<R[]> => {
    const args = statement.order.map((name) => (typeof name === 'string' ? values[name] : name.constant));
    const connection = await client.acquireConnection();
    try {
      if (flavour === 'postgres') return ((await connection.query(statement.sql, args)) as { rows: R[] }).rows;
      return await new Promise<R[]>((resolve, reject) =>
        connection.query(statement.sql, args, (error, rows) => (error ? reject(error) : resolve(rows as R[]))),
      );
    } finally {
      await client.releaseConnection(connection);
    }
  };
}

const toRecord = (row: Pick<Row, (typeof COLUMNS)[number]>): SessionRecord => ({
  hash: row.hash,
  userId: row.user_id,
  data: row.data,
  expiresAt: Number(row.expires_at),
});

/**
 * Every method is one plain statement: no transaction, session-level SET, advisory lock or
 * named prepared statement, so RDS Proxy keeps multiplexing (see docs/session-store.md).
 */
export function createKnexBackend({
  knex,
  tableName,
  clock = systemClock,
  maxDataBytes = 1024 * 1024,
  exactCountThreshold = 100_000,
}: KnexBackendOptions): SessionBackend {
  assertTableName(tableName);
  const flavour = sqlFlavour(knex);
  const table = () => knex<Row>(tableName);
  const run = statementRunner(knex, flavour);
  const getOne = prepare(
    table()
      .first(...COLUMNS)
      .where({ hash: ':hash' }),
  );
  const getTwo = prepare(
    table()
      .select(...COLUMNS)
      .whereIn('hash', [':first', ':second']),
  );
  const upsert = prepare(
    table()
      .insert({
        hash: ':hash',
        user_id: ':userId',
        data: ':data',
        expires_at: ':expiresAt',
        created_at: ':now',
        updated_at: ':now',
      } as never)
      .onConflict('hash')
      .merge(['user_id', 'data', 'expires_at', 'updated_at']),
  );

  /** Planner statistics: free, but only as fresh as the last ANALYZE / InnoDB stats update. */
  async function estimatedRows(): Promise<number | undefined> {
    let n: string | number | null | undefined;
    if (flavour === 'postgres') {
      const result = (await knex.raw(
        'select reltuples::bigint as n from pg_class where oid = to_regclass(quote_ident(?))',
        [tableName],
      )) as { rows: { n: string | null }[] };
      n = result.rows[0]?.n;
    } else {
      const [rows] = (await knex.raw(
        'select TABLE_ROWS as n from information_schema.TABLES where TABLE_SCHEMA = database() and TABLE_NAME = ?',
        [tableName],
      )) as [{ n: number | null }[]];
      n = rows[0]?.n;
    }
    // PostgreSQL says -1 for a table never analysed: unknown, not empty.
    return n === null || n === undefined || Number(n) < 0 ? undefined : Number(n);
  }

  /** Counts at most `limit` rows (plus one, to tell "exactly limit" from "more"), never a full scan. */
  async function boundedCount(limit: number, expiredBefore?: number): Promise<{ total: number; live: number }> {
    const now = clock.now();
    const inner = table()
      .select('expires_at')
      .limit(limit + 1);
    if (expiredBefore !== undefined) inner.where('expires_at', '<=', expiredBefore);
    const row = (await knex
      .from(inner.as('bounded'))
      .select(
        knex.raw('count(*) as total'),
        knex.raw('coalesce(sum(case when expires_at > ? then 1 else 0 end), 0) as live', [now]),
      )
      .first()) as { total: string | number; live: string | number } | undefined;
    return { total: Number(row?.total ?? 0), live: Number(row?.live ?? 0) };
  }

  return {
    name: 'knex',
    maxDataBytes,
    async get(hash) {
      const [row] = await run<Row>(getOne, { hash });
      return row ? toRecord(row) : undefined;
    },
    async getMany(hashes) {
      // The request path asks for two (a session and its owner's revocation marker): one
      // prepared statement. Other sizes are rare (tests, tools) and go through the builder.
      const rows =
        hashes.length === 2
          ? await run<Row>(getTwo, { first: hashes[0], second: hashes[1] })
          : hashes.length === 0
            ? []
            : await table()
                .select(...COLUMNS)
                .whereIn('hash', [...hashes]);
      const byHash = new Map(rows.map((row) => [row.hash, toRecord(row)]));
      return hashes.map((hash) => byHash.get(hash));
    },
    async put(record) {
      await run(upsert, {
        hash: record.hash,
        userId: record.userId,
        data: record.data,
        expiresAt: record.expiresAt,
        now: clock.now(),
      });
    },
    async delete(hash) {
      await table().where({ hash }).delete();
    },
    async listByUser(userId) {
      const rows = await table()
        .select(...COLUMNS)
        .where({ user_id: userId });
      return rows.map(toRecord);
    },
    async deleteByUser(userId) {
      return table().where({ user_id: userId }).delete();
    },
    async count(): Promise<SessionCounts> {
      let estimate = await estimatedRows();
      if (estimate === undefined || estimate < exactCountThreshold) {
        const { total, live } = await boundedCount(exactCountThreshold);
        if (total <= exactCountThreshold) return { live, expired: total - live, exact: true };
        // Statistics missing or stale (restored table, no ANALYZE yet): all we know is a floor.
        estimate = Math.max(estimate ?? 0, total);
      }
      // Large table: the estimate, minus expired rows counted through the expires_at index.
      // Should the cleanup job fall behind by more than the threshold, `expired` is a floor.
      const { total: expired } = await boundedCount(exactCountThreshold, clock.now());
      const capped = Math.min(expired, exactCountThreshold);
      return { live: Math.max(0, estimate - capped), expired: capped, exact: false };
    },
    async sample(n) {
      if (n <= 0) return [];
      // From a random point in the primary key onwards, wrapping around: two index range
      // scans of n rows. Rows after a gap in the key space are picked more often; good enough
      // for consistency checks, which need spread, not uniformity.
      const start = randomBytes(32).toString('hex');
      const after = await table()
        .select(...COLUMNS)
        .where('hash', '>=', start)
        .orderBy('hash')
        .limit(n);
      const before =
        after.length < n
          ? await table()
              .select(...COLUMNS)
              .where('hash', '<', start)
              .orderBy('hash')
              .limit(n - after.length)
          : [];
      return [...after, ...before].map(toRecord);
    },
    async scan(cursor, limit) {
      if (!Number.isInteger(limit) || limit < 1) throw new Error(`scan limit must be a positive integer, not ${limit}`);
      if (cursor !== undefined && !cursor.startsWith('knex:'))
        throw new Error('This cursor does not come from a knex store scan.');
      // Keyset on the primary key: each page is one index range scan however deep the scan is
      // (no OFFSET), and a cursor stays valid whatever happens to the table in between. One
      // extra row tells whether another page exists, so the last page needs no empty round trip.
      const query = table()
        .select(...COLUMNS)
        .orderBy('hash')
        .limit(limit + 1);
      if (cursor !== undefined) query.where('hash', '>', cursor.slice('knex:'.length));
      const rows = await query;
      const records = rows.slice(0, limit).map(toRecord);
      const last = records.at(-1);
      return rows.length > limit && last ? { records, cursor: `knex:${last.hash}` } : { records };
    },
    async close() {
      // The knex pool belongs to the caller (it may serve other tables).
    },
  };
}
