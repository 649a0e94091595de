// The checks `portcullis sessions preflight` runs before sessions move between stores: each
// store is reachable, shaped as the driver expects and round-trips a probe session, and the
// two deployments agree on what names and signs a session.
import { randomBytes } from 'node:crypto';
import knex, { type Knex } from 'knex';
import { Redis } from 'ioredis';
import { createSessionIdHasher } from '@portcullis/crypto';
import type { DriverName, SessionBackend } from './backend.js';
import { createDynamoBackend } from './drivers/dynamodb.js';
import { createKnexBackend } from './drivers/knex.js';
import { createRedisBackend } from './drivers/redis.js';
import { describeDynamoSessionTable } from './dynamodb-table.js';
import { dynamoSessionTableOf, type SessionStoreSettings } from './from-config.js';
import { sqlFlavour } from './knex-schema.js';
import { systemClock, type Clock } from './session-store.js';

export interface PreflightCheck {
  /** What was checked: `knex table`, `redis eviction`, `config secrets`, … */
  name: string;
  ok: boolean;
  /** One sentence: what was found, and for a failure what to do. */
  detail: string;
}

const ok = (name: string, detail: string): PreflightCheck => ({ name, ok: true, detail });
const fail = (name: string, detail: string): PreflightCheck => ({ name, ok: false, detail });
// Duck-typed: errors from Node's own modules can come from another realm (jest's vm) than ours.
const messageOf = (error: unknown) =>
  (error && typeof error === 'object' && 'message' in error ? String(error.message) : String(error)).replace(/\.$/, '');

/** Writes, reads back and deletes an anonymous session under a random hash no id maps to. */
async function probe(name: string, backend: SessionBackend, clock: Clock): Promise<PreflightCheck> {
  const record = {
    hash: randomBytes(32).toString('hex'),
    userId: null,
    data: JSON.stringify({ preflight: true }),
    expiresAt: clock.now() + 60_000,
  };
  const started = Date.now();
  try {
    await backend.put(record);
    const read = await backend.get(record.hash);
    await backend.delete(record.hash);
    const after = await backend.get(record.hash);
    if (!read || read.data !== record.data || read.expiresAt !== record.expiresAt)
      return fail(
        `${name} probe`,
        'A probe session was written but did not read back unchanged: check the store and its settings.',
      );
    if (after) return fail(`${name} probe`, 'A probe session was still there after it was deleted.');
    return ok(`${name} probe`, `A probe session was written, read back and deleted in ${Date.now() - started} ms.`);
  } catch (error) {
    await backend.delete(record.hash).catch(() => undefined);
    return fail(`${name} probe`, `A probe session could not round-trip: ${messageOf(error)}.`);
  }
}

/** host:port/database of a URL, without user or password. */
function where(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return 'the configured database';
  }
}

const EXPECTED_COLUMNS: Record<string, (type: string, length: number | null) => boolean> = {
  hash: (type, length) => /^(character|char)$/.test(type) && length === 64,
  user_id: (type) => /^(character varying|varchar)$/.test(type),
  data: (type) => /text$/.test(type),
  expires_at: (type) => type === 'bigint',
  created_at: (type) => type === 'bigint',
  updated_at: (type) => type === 'bigint',
};

/** Each index's columns in order, `primary` for the primary key, from the catalogue. */
async function indexColumns(db: Knex, table: string): Promise<Map<string, string[]>> {
  const postgres = sqlFlavour(db) === 'postgres';
  const sql = postgres
    ? `select case when ix.indisprimary then 'primary' else i.relname end as index_name, a.attname as column_name, k.n as seq
       from pg_index ix join pg_class i on i.oid = ix.indexrelid
       cross join lateral unnest(ix.indkey::int2[]) with ordinality as k(attnum, n)
       join pg_attribute a on a.attrelid = ix.indrelid and a.attnum = k.attnum
       where ix.indrelid = to_regclass(quote_ident(?))`
    : `select case when INDEX_NAME = 'PRIMARY' then 'primary' else INDEX_NAME end as index_name, COLUMN_NAME as column_name, SEQ_IN_INDEX as seq
       from information_schema.STATISTICS where TABLE_SCHEMA = database() and TABLE_NAME = ?`;
  const result = (await db.raw(sql, [table])) as { rows: IndexRow[] } | [IndexRow[]];
  const rows = Array.isArray(result) ? result[0] : result.rows;
  const indexes = new Map<string, string[]>();
  for (const row of [...rows].sort((a, b) => Number(a.seq) - Number(b.seq)))
    indexes.set(row.index_name, [...(indexes.get(row.index_name) ?? []), row.column_name]);
  return indexes;
}
type IndexRow = { index_name: string; column_name: string; seq: string | number };

async function checkKnexTable(db: Knex, table: string, place: string): Promise<PreflightCheck[]> {
  if (!(await db.schema.hasTable(table)))
    return [
      fail(
        'knex table',
        `Table "${table}" does not exist in ${place}: run the migrations there before moving sessions to it.`,
      ),
    ];
  const columns = await db(table).columnInfo();
  const wrong = Object.entries(EXPECTED_COLUMNS).flatMap(([column, fits]) => {
    const info = columns[column];
    if (!info) return [`${column} (missing)`];
    return fits(info.type, info.maxLength === null ? null : Number(info.maxLength)) ? [] : [`${column} (${info.type})`];
  });
  const indexes = [...(await indexColumns(db, table))];
  const leading = (column: string) => indexes.some(([, list]) => list[0] === column);
  const primary = indexes.find(([name]) => name === 'primary')?.[1];
  const missing = [
    primary?.join(',') === 'hash' ? '' : 'primary key (hash)',
    leading('user_id') ? '' : 'index on user_id',
    leading('expires_at') ? '' : 'index on expires_at',
  ].filter(Boolean);
  return [
    wrong.length === 0
      ? ok('knex columns', `Table "${table}" in ${place} has the columns the driver uses.`)
      : fail(
          'knex columns',
          `Table "${table}" in ${place} has unexpected or missing columns: ${wrong.join(', ')}; create it with the session-table migration.`,
        ),
    missing.length === 0
      ? ok('knex indexes', `Table "${table}" has its primary key on hash and indexes on user_id and expires_at.`)
      : fail(
          'knex indexes',
          `Table "${table}" lacks: ${missing.join(', ')}; listByUser or the cleanup job would scan the whole table.`,
        ),
  ];
}

/**
 * RDS Proxy pins a MySQL connection for a statement whose text exceeds 16 KB; mysql2 sends the
 * session's JSON inside the UPSERT's text, so a row near this size pins on every rolling write.
 * Kept a little under 16 KiB for the statement's own text around the data.
 */
export const MYSQL_PIN_STATEMENT_BYTES = 16 * 1024;
const MYSQL_PIN_DATA_BYTES = MYSQL_PIN_STATEMENT_BYTES - 512;

/** Session state RDS Proxy pins a PostgreSQL connection on, as this connection holds it now. */
const POSTGRES_SESSION_STATE = `
  select (select count(*) from pg_prepared_statements)::int as prepared,
         (select coalesce(string_agg(name, ', ' order by name), '') from pg_settings where source = 'session') as set_parameters,
         (select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid())::int as advisory_locks,
         (select count(*) from pg_listening_channels())::int as listening,
         (select count(*) from pg_class where relpersistence = 't')::int as temp_tables`;

/**
 * `--through-proxy`: every statement the knex store sends (get, getMany, put, listByUser,
 * deleteByUser, count, sample, scan, delete) runs once through `db`'s URL on a probe session,
 * then the connection is inspected for what makes RDS Proxy pin it: on PostgreSQL, state the
 * statements left behind (SET parameters, named prepared statements, advisory locks, LISTEN,
 * temporary tables); on MySQL, stored sessions large enough to exceed the 16 KB statement limit.
 * `db` must hold one connection, so the inspection sees the session the statements used.
 */
export async function checkKnexThroughProxy(
  db: Knex,
  table: string,
  place: string,
  clock: Clock = systemClock,
): Promise<PreflightCheck[]> {
  const backend = createKnexBackend({ knex: db, tableName: table, clock });
  const userId = `preflight-${randomBytes(8).toString('hex')}`;
  const record = {
    hash: randomBytes(32).toString('hex'),
    userId,
    data: JSON.stringify({ preflight: true }),
    expiresAt: clock.now() + 60_000,
  };
  const steps: [string, () => Promise<unknown>][] = [
    ['put', () => backend.put(record)],
    ['get', () => backend.get(record.hash)],
    ['getMany', () => backend.getMany([record.hash, randomBytes(32).toString('hex')])],
    ['listByUser', () => backend.listByUser(userId)],
    ['count', () => backend.count()],
    ['sample', () => backend.sample(1)],
    ['scan', () => backend.scan(undefined, 1)],
    ['deleteByUser', () => backend.deleteByUser(userId)],
    ['delete', () => backend.delete(record.hash)],
  ];
  const started = Date.now();
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (error) {
      await backend.delete(record.hash).catch(() => undefined);
      return [fail('proxy statements', `The store's ${name} statement failed through ${place}: ${messageOf(error)}.`)];
    }
  }
  const checks = [
    ok(
      'proxy statements',
      `All ${steps.length} statements the store uses ran through ${place} in ${Date.now() - started} ms.`,
    ),
  ];
  if (sqlFlavour(db) === 'postgres') {
    const { rows } = (await db.raw(POSTGRES_SESSION_STATE)) as {
      rows: {
        prepared: number;
        set_parameters: string;
        advisory_locks: number;
        listening: number;
        temp_tables: number;
      }[];
    };
    const state = rows[0]!;
    const found = [
      state.prepared > 0 ? `${state.prepared} named prepared statement(s)` : '',
      state.set_parameters ? `parameters changed by SET (${state.set_parameters})` : '',
      state.advisory_locks > 0 ? `${state.advisory_locks} advisory lock(s)` : '',
      state.listening > 0 ? 'LISTEN channels' : '',
      state.temp_tables > 0 ? 'temporary tables' : '',
    ].filter(Boolean);
    checks.push(
      found.length === 0
        ? ok(
            'proxy pinning',
            'The statements left no session state RDS Proxy pins on (no SET, named prepared statement, advisory lock, LISTEN or temporary table).',
          )
        : fail(
            'proxy pinning',
            `The connection holds ${found.join(', ')}: RDS Proxy would pin it to one database connection; move SET parameters to the proxy's initialization query.`,
          ),
    );
    return checks;
  }
  const [rows] = (await db.raw(
    'select count(*) as n, coalesce(max(octet_length(data)), 0) as largest from ?? where octet_length(data) > ?',
    [table, MYSQL_PIN_DATA_BYTES],
  )) as [{ n: number | string; largest: number | string }[]];
  const above = Number(rows[0]!.n);
  checks.push(
    above === 0
      ? ok(
          'proxy pinning',
          `No stored session is large enough for its write to exceed RDS Proxy's 16 KB statement limit (data above ${MYSQL_PIN_DATA_BYTES} bytes).`,
        )
      : fail(
          'proxy pinning',
          `${above} stored session(s) hold more than ${MYSQL_PIN_DATA_BYTES} bytes (largest ${Number(rows[0]!.largest)}): each of their writes exceeds 16 KB of statement text and pins an RDS Proxy connection; keep sessions small (docs/choosing-a-session-store.md).`,
        ),
  );
  return checks;
}

async function checkKnex(
  settings: SessionStoreSettings,
  clock: Clock,
  throughProxy = false,
): Promise<PreflightCheck[]> {
  const url = settings.SESSION_DATABASE_URL ?? settings.DATABASE_URL;
  const place = where(url);
  // The same client and URL as the services use (createSingleBackend): in production the RDS Proxy.
  // knex's own warning about a refused connection would repeat the failed check's sentence.
  // One connection through a proxy: the pinning check must inspect the session the statements used.
  const db = knex({
    client: settings.SESSION_KNEX_CLIENT,
    connection: url,
    pool: { min: 0, max: throughProxy ? 1 : 2 },
    log: { warn: () => undefined },
  });
  try {
    const table = await checkKnexTable(db, settings.SESSION_TABLE_NAME, place);
    if (table.some((check) => !check.ok)) return table;
    const probed = [
      ...table,
      await probe('knex', createKnexBackend({ knex: db, tableName: settings.SESSION_TABLE_NAME, clock }), clock),
    ];
    return throughProxy
      ? [...probed, ...(await checkKnexThroughProxy(db, settings.SESSION_TABLE_NAME, place, clock))]
      : probed;
  } catch (error) {
    return [fail('knex connection', `Could not check ${place}: ${messageOf(error)}.`)];
  } finally {
    await db.destroy();
  }
}

/** `field:value` lines of INFO. */
const infoField = (info: string, field: string) => new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();

async function checkRedis(settings: SessionStoreSettings, clock: Clock): Promise<PreflightCheck[]> {
  if (!settings.REDIS_URL) return [fail('redis connection', 'REDIS_URL is not set: the redis session store needs it.')];
  // No reconnect loop: an unreachable server must fail the check, not hang it.
  const client = new Redis(settings.REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 5000,
  });
  // connect() only says "Connection is closed"; the error event says why (ECONNREFUSED, auth…).
  let cause: Error | undefined;
  client.on('error', (error: Error) => void (cause = error));
  try {
    await client.connect();
    const pong = await client.ping();
    // INFO rather than CONFIG GET: ElastiCache disables CONFIG, INFO works everywhere.
    const info = `${await client.info('server')}\n${await client.info('memory')}`;
    const version = infoField(info, 'redis_version') ?? 'unknown';
    const policy = infoField(info, 'maxmemory_policy') ?? 'unknown';
    const major = Number(version.split('.')[0]);
    return [
      pong === 'PONG' && major >= 7
        ? ok('redis connection', `PING answered by Redis ${version}.`)
        : fail('redis connection', `Redis ${version} answered ${pong}; the store needs Redis 7 or later (or Valkey).`),
      policy === 'noeviction'
        ? ok('redis eviction', 'maxmemory-policy is noeviction.')
        : fail(
            'redis eviction',
            `maxmemory-policy is ${policy}: Redis would evict sessions (random sign-outs); set it to noeviction.`,
          ),
      // Same key prefix as createSingleBackend, so the probe lands where the services write.
      await probe(
        'redis',
        createRedisBackend({ client, keyPrefix: `${settings.REDIS_KEY_PREFIX}sess:`, clock }),
        clock,
      ),
    ];
  } catch (error) {
    return [fail('redis connection', `Could not reach Redis: ${messageOf(cause ?? error)}.`)];
  } finally {
    // After a failed connect the socket is gone, and disconnect() would wait 2 s for its close.
    if (client.status !== 'end') client.disconnect();
  }
}

async function checkDynamo(settings: SessionStoreSettings, clock: Clock): Promise<PreflightCheck[]> {
  const { client, tableName } = dynamoSessionTableOf(settings);
  try {
    const table = await describeDynamoSessionTable(client, tableName);
    if (!table.exists) return [fail('dynamodb table', table.problems.join(' '))];
    const structure = table.problems.filter((problem) => !problem.startsWith('Time to live'));
    const checks = [
      structure.length === 0
        ? ok('dynamodb table', `Table "${tableName}" has the partition key hash and the byUser index.`)
        : fail('dynamodb table', structure.join(' ')),
      table.ttlEnabled && table.ttlAttribute === 'expiresAt'
        ? ok('dynamodb ttl', 'Time to live is enabled on expiresAt.')
        : fail(
            'dynamodb ttl',
            table.problems.find((problem) => problem.startsWith('Time to live')) ??
              'Time to live is not enabled on expiresAt.',
          ),
      ok(
        'dynamodb capacity',
        table.billingMode === 'PAY_PER_REQUEST'
          ? 'On-demand (PAY_PER_REQUEST).'
          : `PROVISIONED: ${table.readCapacity} RCU, ${table.writeCapacity} WCU.`,
      ),
    ];
    if (structure.length > 0) return checks;
    // Not closed: close() would destroy the shared client, which `finally` does anyway.
    checks.push(
      await probe('dynamodb', createDynamoBackend({ client, tableName, clock, consistentRead: true }), clock),
    );
    return checks;
  } catch (error) {
    return [fail('dynamodb table', `Could not describe table "${tableName}": ${messageOf(error)}.`)];
  } finally {
    client.destroy();
  }
}

/**
 * Readiness of one store as the given settings reach it. `throughProxy` adds, for the knex store,
 * every statement it uses and the RDS Proxy pinning checks (checkKnexThroughProxy).
 */
export async function checkSessionStore(
  driver: DriverName,
  settings: SessionStoreSettings,
  { clock = systemClock, throughProxy = false }: { clock?: Clock; throughProxy?: boolean } = {},
): Promise<PreflightCheck[]> {
  switch (driver) {
    case 'memory':
      return [
        ok(
          'memory',
          'The memory store lives inside one process: nothing to check, and nothing another pod could share.',
        ),
      ];
    case 'knex':
      return checkKnex(settings, clock, throughProxy);
    case 'redis':
    case 'dynamodb': {
      const checks = await (driver === 'redis' ? checkRedis(settings, clock) : checkDynamo(settings, clock));
      return throughProxy
        ? [
            ...checks,
            ok(
              'proxy',
              `--through-proxy checks the knex store's statements; ${driver} is not reached through a database proxy.`,
            ),
          ]
        : checks;
    }
  }
}

/** What two deployments sharing sessions must agree on. */
export interface SessionConfigView {
  SESSION_SECRET: readonly string[];
  SESSION_COOKIE_NAME: string;
  SESSION_IDLE_TIMEOUT_SECONDS: number;
  SESSION_ABSOLUTE_TIMEOUT_SECONDS: number;
  /** production adds `__Host-` to the cookie name. */
  NODE_ENV: string;
}

/**
 * Safe to print: the session-id hasher this secret keys, applied to a fixed label. Equal
 * fingerprints mean both deployments hash ids alike; the secret cannot be recovered from it.
 */
export function secretFingerprint(secret: string): string {
  return createSessionIdHasher(secret)('portcullis/preflight-fingerprint').slice(0, 12);
}

export function compareSessionConfigs(here: SessionConfigView, other: SessionConfigView): PreflightCheck[] {
  const mine = here.SESSION_SECRET.map(secretFingerprint);
  const theirs = other.SESSION_SECRET.map(secretFingerprint);
  const sameSet = mine.length === theirs.length && mine.every((print) => theirs.includes(print));
  const secrets =
    mine.join() === theirs.join()
      ? ok(
          'config secrets',
          `Both list the same ${mine.length} SESSION_SECRET key(s) in the same order (${mine.join(', ')}).`,
        )
      : fail(
          'config secrets',
          sameSet
            ? `Both list the same SESSION_SECRET keys but in another order (${mine.join(', ')} here, ${theirs.join(', ')} there): the first signs cookies and names new sessions, so put the same one first.`
            : `The SESSION_SECRET lists differ (${mine.join(', ')} here, ${theirs.join(', ')} there): one deployment could not find or verify the other's sessions; give both the same list.`,
        );
  const cookie = (view: SessionConfigView) =>
    `${view.NODE_ENV === 'production' ? '__Host-' : ''}${view.SESSION_COOKIE_NAME}`;
  const same = (name: string, label: string, a: string | number, b: string | number) =>
    a === b
      ? ok(name, `Both use ${label} ${a}.`)
      : fail(
          name,
          `${label} differs: ${a} here, ${b} there; browsers would lose their session when the other deployment answers.`,
        );
  return [
    secrets,
    same('config cookie', 'the session cookie name', cookie(here), cookie(other)),
    same(
      'config idle timeout',
      'SESSION_IDLE_TIMEOUT_SECONDS',
      here.SESSION_IDLE_TIMEOUT_SECONDS,
      other.SESSION_IDLE_TIMEOUT_SECONDS,
    ),
    same(
      'config absolute timeout',
      'SESSION_ABSOLUTE_TIMEOUT_SECONDS',
      here.SESSION_ABSOLUTE_TIMEOUT_SECONDS,
      other.SESSION_ABSOLUTE_TIMEOUT_SECONDS,
    ),
  ];
}
