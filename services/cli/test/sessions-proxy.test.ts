// `portcullis sessions preflight --through-proxy`: every statement of the knex store through the
// configured URL, then what would make RDS Proxy pin connections: session state left on
// PostgreSQL, sessions above the 16 KB statement limit on MariaDB.
import { randomBytes } from 'node:crypto';
import createKnex, { type Knex } from 'knex';
import { migrateLatest } from '@portcullis/migrations';
import { checkKnexThroughProxy, MYSQL_PIN_STATEMENT_BYTES } from '@portcullis/session-store';
import { testMysql, type TestDatabase } from '../../../test/support/index.js';
import { cli, testEnvironment, type Environment } from './sessions-support.js';

let setup: Environment;
let mysql: TestDatabase;
let pg: Knex;

beforeAll(async () => {
  [setup, mysql] = await Promise.all([testEnvironment(), testMysql()]);
  pg = createKnex({ client: 'pg', connection: setup.db.url, pool: { min: 0, max: 2 } });
  await migrateLatest(pg);
});
afterAll(async () => {
  await pg.destroy();
  await Promise.all([setup.db.drop(), mysql.drop()]);
});

const line = (stdout: string, name: string) => stdout.split('\n').find((text) => text.includes(`  ${name}  `)) ?? '';

it('runs every statement of the store through the PostgreSQL URL and finds no session state to pin on', async () => {
  const run = await cli({ ...setup.env, SESSION_STORE_DRIVER: 'knex' }, 'sessions', 'preflight', '--through-proxy');
  expect(run.code).toBe(0);
  expect(line(run.stdout, 'proxy statements')).toMatch(
    /^ok {4}proxy statements +All 9 statements the store uses ran through 127\.0\.0\.1:\d+\/t_\w+ in \d+ ms\.$/,
  );
  expect(line(run.stdout, 'proxy pinning')).toMatch(/^ok {4}proxy pinning +The statements left no session state/);
  // Without the flag the preflight stays as it was.
  expect((await cli({ ...setup.env, SESSION_STORE_DRIVER: 'knex' }, 'sessions', 'preflight')).stdout).not.toContain(
    'proxy',
  );
});

it('names the session state that would pin a PostgreSQL connection', async () => {
  // A pool that SETs a parameter on every new connection, as some drivers and ORMs do.
  const setting = createKnex({
    client: 'pg',
    connection: setup.db.url,
    pool: {
      min: 0,
      max: 1,
      afterCreate: (
        conn: { query(sql: string, done: (error?: Error) => void): void },
        done: (error: Error | undefined, conn: unknown) => void,
      ) => conn.query("set work_mem = '8MB'", (error) => done(error, conn)),
    },
  });
  try {
    const checks = await checkKnexThroughProxy(setting, 'sessions', 'the test database');
    expect(checks.map((check) => [check.name, check.ok])).toEqual([
      ['proxy statements', true],
      ['proxy pinning', false],
    ]);
    expect(checks[1]!.detail).toContain('parameters changed by SET (work_mem)');
  } finally {
    await setting.destroy();
  }
});

it('reports MariaDB sessions whose writes exceed 16 KB of statement text', async () => {
  const env = {
    ...setup.env,
    SESSION_STORE_DRIVER: 'knex',
    SESSION_KNEX_CLIENT: 'mysql2',
    SESSION_DATABASE_URL: mysql.url,
  };
  expect((await cli(env, 'sessions', 'create-table')).code).toBe(0);
  expect((await cli(env, 'sessions', 'preflight', '--through-proxy')).code).toBe(0);

  const db = createKnex({ client: 'mysql2', connection: mysql.url, pool: { min: 0, max: 1 } });
  try {
    const now = Date.now();
    const row = (bytes: number) => ({
      hash: randomBytes(32).toString('hex'),
      user_id: 'admin-1',
      data: JSON.stringify({ pad: 'x'.repeat(bytes) }),
      expires_at: now + 60_000,
      created_at: now,
      updated_at: now,
    });
    await db('sessions').insert([row(MYSQL_PIN_STATEMENT_BYTES + 4000), row(2000)]);
    const run = await cli(env, 'sessions', 'preflight', '--through-proxy');
    expect(run.code).toBe(3);
    expect(line(run.stdout, 'proxy statements')).toMatch(/^ok /);
    expect(line(run.stdout, 'proxy pinning')).toMatch(
      /^FAIL {2}proxy pinning +1 stored session\(s\) hold more than 15872 bytes \(largest 20394\)/,
    );
  } finally {
    await db.destroy();
  }
});

it('says the flag concerns the knex store when another store is checked', async () => {
  const run = await cli({ ...setup.env, SESSION_STORE_DRIVER: 'redis' }, 'sessions', 'preflight', '--through-proxy');
  expect(run.code).toBe(0);
  expect(line(run.stdout, 'proxy')).toMatch(
    /^ok {4}proxy +--through-proxy checks the knex store's statements; redis is not reached through a database proxy\.$/,
  );
});

it('documents the flag in --help', async () => {
  const help = await cli({}, 'sessions', 'preflight', '--help');
  expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining('--through-proxy') });
});
