// Evidence for the change record: `sessions backfill|verify|preflight --json` print one JSON
// object, and `verify --exact` counts by scan after saying what that costs (redis → knex here).
import { randomBytes } from 'node:crypto';
import createKnex, { type Knex } from 'knex';
import {
  createKnexBackend,
  createRedisBackend,
  createSessionTable,
  type SessionBackend,
} from '@portcullis/session-store';
import { Redis } from 'ioredis';
import { cli, testEnvironment, type Environment } from './sessions-support.js';

let setup: Environment;
let knex: Knex;
let redis: Redis;
let redisStore: SessionBackend;
let knexStore: SessionBackend;

beforeAll(async () => {
  setup = await testEnvironment();
  knex = createKnex({ client: 'pg', connection: setup.db.url, pool: { min: 0, max: 2 } });
  await createSessionTable(knex, 'sessions');
  knexStore = createKnexBackend({ knex, tableName: 'sessions' });
  redis = new Redis(setup.redis.url);
  redisStore = createRedisBackend({ client: redis, keyPrefix: `${setup.redis.prefix}sess:` });
  const now = Date.now();
  for (let n = 0; n < 12; n++)
    await redisStore.put({
      hash: randomBytes(32).toString('hex'),
      userId: `admin-${n % 3}`,
      data: JSON.stringify({ n }),
      expiresAt: now + 3_600_000,
    });
});
afterAll(async () => {
  redis.disconnect();
  await knex.destroy();
  await setup.db.drop();
});

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

it('backfill --json: one object with the figures', async () => {
  const { code, stdout } = await cli(setup.env, 'sessions', 'backfill', '--from', 'redis', '--to', 'knex', '--json');
  expect(code).toBe(0);
  expect(stdout.trim().split('\n')).toHaveLength(1);
  expect(lastJson(stdout)).toMatchObject({
    command: 'sessions backfill',
    from: 'redis',
    to: 'knex',
    done: true,
    dryRun: false,
    scanned: 12,
    copied: 12,
  });
});

it('verify --json: the verdict, both counts and whether they were exact', async () => {
  const { code, stdout } = await cli(setup.env, 'sessions', 'verify', '--from', 'redis', '--to', 'knex', '--json');
  expect(code).toBe(0);
  expect(lastJson(stdout)).toMatchObject({
    command: 'sessions verify',
    go: true,
    countsExact: true,
    countDifference: { live: 0, share: 0 },
    compared: 12,
    mismatches: [],
    reasons: [],
    primary: { name: 'redis', counts: { live: 12, exact: true } },
  });
});

it('verify --exact: says what the scan reads, then counts exactly; a NO-GO in JSON still exits 3', async () => {
  const deleted = (await knexStore.sample(1))[0]!;
  await knexStore.delete(deleted.hash);
  const { code, stdout, stderr } = await cli(
    setup.env,
    'sessions',
    'verify',
    '--from',
    'redis',
    '--to',
    'knex',
    '--exact',
    '--json',
  );
  expect(stderr).toMatch(/^exact count: a full scan of redis ~12 records and knex ~11 records \(1 pages of 1000\)\n/);
  expect(code).toBe(3);
  expect(lastJson(stdout)).toMatchObject({
    go: false,
    exactRequested: true,
    countsExact: true,
    countDifference: { live: 1 },
  });
  await knexStore.put(deleted);
});

it('preflight --json: every check with its verdict', async () => {
  const { code, stdout } = await cli(setup.env, 'sessions', 'preflight', '--from', 'redis', '--to', 'knex', '--json');
  const result = lastJson(stdout) as { ok: boolean; stores: string[]; checks: { name: string; ok: boolean }[] };
  expect(result.stores).toEqual(['redis', 'knex']);
  expect(result.checks.length).toBeGreaterThan(2);
  expect(code).toBe(result.ok ? 0 : 3);
});
