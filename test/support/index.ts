// What test files import to get real servers. The shared servers are started once per jest
// run by test/infra/global-setup.ts (or given through the environment, see docs/testing.md);
// the helpers here give each test file its own corner of them: a database, a key prefix, a
// table prefix. Fault tests that stop and restart a server get a dedicated one instead.
//
// Client libraries and providers are imported lazily: in jest's ESM mode every test file
// evaluates its imports afresh, and pg + mysql2 + ioredis + the AWS SDK together cost about
// 0.5 s per file, so a file pays only for the servers it uses.
import { randomBytes } from 'node:crypto';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../infra/moto-account.js';
import type { ServerHandle } from '../infra/server.js';

export type { ServerHandle };

// The service tests' clock and session settings (light). The app builders are in
// auth-harness.ts and admin-harness.ts, imported directly: they load the apps and their clients.
export { TestClock } from './clock.js';
export { csrfTokenIn, defaultSettings, json, SESSION_SECRET } from './service-settings.js';

export interface TestDatabase {
  /** Connection URL with the new database selected. */
  url: string;
  database: string;
  /** Drops the database (closing any connection still open to it on PostgreSQL). */
  drop(): Promise<void>;
}

export interface TestAws {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface TestDynamo extends TestAws {
  /** Prefix every table name with it: moto is shared by all test files of the run. */
  tablePrefix: string;
}

function sharedUrl(variable: string): string {
  const url = process.env[variable];
  if (!url) {
    throw new Error(
      `${variable} is not set: run the tests through jest (its global setup starts the servers) or set it yourself`,
    );
  }
  return url;
}

/** Lower-case, starts with a letter, fits PostgreSQL's 63-byte identifiers. */
function uniqueName(): string {
  return `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function onPostgres(url: string, sql: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function onMysql(url: string, sql: string): Promise<void> {
  const { createConnection } = await import('mysql2/promise');
  const connection = await createConnection({ uri: url });
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

/** A fresh, uniquely named database on the shared PostgreSQL server, for one test file. */
export async function testPostgres(): Promise<TestDatabase> {
  const admin = sharedUrl('PORTCULLIS_TEST_PG_URL');
  const database = uniqueName();
  await onPostgres(admin, `create database "${database}"`);
  return {
    url: withDatabase(admin, database),
    database,
    drop: () => onPostgres(admin, `drop database if exists "${database}" with (force)`),
  };
}

/** A fresh, uniquely named database on the shared MariaDB server, for one test file. */
export async function testMysql(): Promise<TestDatabase> {
  const admin = sharedUrl('PORTCULLIS_TEST_MYSQL_URL');
  const database = uniqueName();
  await onMysql(admin, `create database \`${database}\` character set utf8mb4 collate utf8mb4_unicode_ci`);
  return {
    url: withDatabase(admin, database),
    database,
    drop: () => onMysql(admin, `drop database if exists \`${database}\``),
  };
}

/** The shared Redis server and a key prefix no other test file uses. */
export function testRedis(): { url: string; prefix: string } {
  return { url: sharedUrl('PORTCULLIS_TEST_REDIS_URL'), prefix: `${uniqueName()}:` };
}

/** The shared AWS endpoint (moto) with the region and credentials it accepts. */
export function testAws(): TestAws {
  return {
    endpoint: sharedUrl('PORTCULLIS_TEST_AWS_ENDPOINT'),
    region: MOTO_REGION,
    credentials: { ...MOTO_CREDENTIALS },
  };
}

/** testAws() plus a table name prefix no other test file uses. */
export function testDynamo(): TestDynamo {
  return { ...testAws(), tablePrefix: `${uniqueName()}_` };
}

// Dedicated servers for fault tests: stop() and restart() them freely, dispose() them in
// afterAll/afterEach (the run's teardown removes anything left over).

/** A PostgreSQL server of its own; `url` is the admin URL to the `postgres` database. */
export async function startPostgres(): Promise<ServerHandle> {
  return (await import('../infra/postgres.js')).startPostgres();
}

/** A MariaDB server of its own; `url` is root over TCP with no database selected. */
export async function startMariadb(): Promise<ServerHandle> {
  return (await import('../infra/mariadb.js')).startMariadb();
}

/** A Redis server of its own; restart() keeps its keys (saved on stop). */
export async function startRedis(): Promise<ServerHandle> {
  return (await import('../infra/redis.js')).startRedis();
}

/** A moto server of its own (region and credentials as testAws()); restart() comes back empty. */
export async function startMoto(): Promise<ServerHandle> {
  return (await import('../infra/moto.js')).startMoto();
}
