// `portcullis sessions cleanup` and `sessions verify --record` in-process on real servers: the
// knex store on PostgreSQL and on MariaDB, runs recorded in operational_job_runs and read back
// through the gauges auth-session exports.
import { randomBytes } from 'node:crypto';
import createKnex, { type Knex } from 'knex';
import { Registry } from 'prom-client';
import { migrateLatest } from '@portcullis/migrations';
import {
  createJobRunMetrics,
  createJobRunQueries,
  createSessionTable,
  createSingleBackend,
  type SessionBackend,
} from '@portcullis/session-store';
import { loadConfig } from '@portcullis/config';
import { testMysql, testPostgres, type TestDatabase } from '../../../test/support/index.js';
import { cli, testEnvironment, type Environment } from './sessions-support.js';

let setup: Environment;
let knex: Knex;
let env: Record<string, string>;

beforeAll(async () => {
  setup = await testEnvironment();
  knex = createKnex({ client: 'pg', connection: setup.db.url, pool: { min: 0, max: 4 } });
  await migrateLatest(knex); // the sessions table and operational_job_runs, as `migrate latest` leaves them
  env = { ...setup.env, SESSION_STORE_DRIVER: 'knex' };
});
afterAll(async () => {
  await knex.destroy();
  await setup.db.drop();
});

/** `expired` rows past their expiry and `live` rows still valid, in `db`'s sessions table. */
async function seed(db: Knex, expired: number, live: number, table = 'sessions'): Promise<void> {
  const now = Date.now();
  const row = (expiresAt: number) => ({
    hash: randomBytes(32).toString('hex'),
    user_id: 'admin-1',
    data: '{}',
    expires_at: expiresAt,
    created_at: now,
    updated_at: now,
  });
  await db.batchInsert(
    table,
    [
      ...Array.from({ length: expired }, (_, i) => row(now - 1000 - i)),
      ...Array.from({ length: live }, (_, i) => row(now + 3_600_000 + i)),
    ],
    500,
  );
}
const count = async (db: Knex, expired: boolean, table = 'sessions') =>
  Number(
    (
      await db(table)
        .where('expires_at', expired ? '<' : '>=', Date.now())
        .count({ n: '*' })
    )[0]!.n,
  );

/** What auth-session's /metrics shows, read from this database. */
async function scrape(
  options: { cleanup: boolean; verify: boolean } = { cleanup: true, verify: true },
): Promise<string> {
  const registry = new Registry();
  createJobRunMetrics(registry, { latest: createJobRunQueries(knex).latest, ...options, cacheMs: 0 });
  return registry.metrics();
}
const runs = (job: string) => knex('operational_job_runs').where({ job }).orderBy('id');

describe('sessions cleanup', () => {
  beforeEach(() => knex('sessions').delete());

  it('removes only the expired sessions, in several batches, reports JSON and records the run for /metrics', async () => {
    await seed(knex, 2500, 300);
    const before = Date.now() / 1000;
    const { code, stdout, stderr } = await cli(env, 'sessions', 'cleanup', '--batch-size', '1000', '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      job: 'sessions-cleanup',
      outcome: 'success',
      rows_removed: 2500,
      batches: 3,
      batch_size: 1000,
      finished: true,
      stopped_early: false,
      recorded: true,
      table: 'sessions',
    });
    expect(await count(knex, true)).toBe(0);
    expect(await count(knex, false)).toBe(300);
    expect(stderr).toMatch(/^cleanup sessions \(pg, store knex\): batches of 1000\n/);
    expect(stderr).toMatch(/cleanup sessions: 2,500 expired sessions removed in 3 batches, [\d,]+ rows\/s/);

    const [run] = await runs('sessions-cleanup');
    expect(run).toMatchObject({ outcome: 'success', figures: { rows_removed: 2500, batches: 3, finished: true } });
    const metrics = await scrape();
    expect(metrics).toMatch(/^portcullis_session_cleanup_rows_removed\{table="sessions"\} 2500$/m);
    const stamp = Number(
      /^portcullis_job_last_run_timestamp_seconds\{job="sessions-cleanup",outcome="success"\} ([\d.]+)$/m.exec(
        metrics,
      )?.[1],
    );
    expect(stamp).toBeGreaterThanOrEqual(Math.floor(before));
    expect(stamp).toBeLessThanOrEqual(Date.now() / 1000);
    // Where the knex store is not in use, the cleanup series do not exist, so its alert stays quiet.
    expect(await scrape({ cleanup: false, verify: false })).not.toMatch(
      /sessions-cleanup|portcullis_session_cleanup_rows_removed\{/,
    );
  });

  it('stops at --max-seconds with exit 0 and outcome stopped_early, and the next run finishes the rest', async () => {
    await seed(knex, 1000, 10);
    const started = Date.now();
    const first = await cli(
      env,
      'sessions',
      'cleanup',
      '--batch-size',
      '100',
      '--pause-ms',
      '700',
      '--max-seconds',
      '1',
      '--json',
    );
    expect(Date.now() - started).toBeLessThan(2500);
    expect(first.code).toBe(0);
    const stopped = JSON.parse(first.stdout) as {
      rows_removed: number;
      batches: number;
      outcome: string;
      finished: boolean;
    };
    expect(stopped).toMatchObject({ outcome: 'stopped_early', finished: false, stopped_early: true });
    expect(stopped.batches).toBeGreaterThanOrEqual(1);
    expect(stopped.batches).toBeLessThanOrEqual(3);
    expect(stopped.rows_removed).toBe(stopped.batches * 100);
    expect(await count(knex, true)).toBe(1000 - stopped.rows_removed);

    const second = await cli(env, 'sessions', 'cleanup', '--batch-size', '100');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(
      new RegExp(
        `^Cleanup done: ${1000 - stopped.rows_removed} expired sessions removed from sessions in \\d+ batches`,
      ),
    );
    expect(await count(knex, true)).toBe(0);
    expect(await count(knex, false)).toBe(10);
    expect(await scrape()).toMatch(
      /^portcullis_job_last_run_timestamp_seconds\{job="sessions-cleanup",outcome="stopped_early"\} /m,
    );
  });

  it('refuses with exit 2, naming the variable, when the configured store is not knex', async () => {
    const before = (await runs('sessions-cleanup')).length;
    const redis = await cli({ ...env, SESSION_STORE_DRIVER: 'redis' }, 'sessions', 'cleanup');
    expect(redis.code).toBe(2);
    expect(redis.stderr).toMatch(
      /^portcullis: SESSION_STORE_DRIVER is redis: sessions cleanup deletes expired rows of the knex store only/,
    );
    const dual = await cli(
      {
        ...env,
        SESSION_STORE_DRIVER: 'dual',
        SESSION_STORE_PRIMARY: 'redis',
        SESSION_STORE_SECONDARY: 'dynamodb',
        SESSION_DUAL_FALLBACK_ON_MISS: 'false',
      },
      'sessions',
      'cleanup',
    );
    expect(dual).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('SESSION_STORE_DRIVER is dual (redis → dynamodb)'),
    });
    expect((await runs('sessions-cleanup')).length).toBe(before);
  });

  it('runs in dual mode when knex is one of the stores, and --no-record leaves no row', async () => {
    await seed(knex, 5, 5);
    const before = (await runs('sessions-cleanup')).length;
    const { code, stdout } = await cli(
      {
        ...env,
        SESSION_STORE_DRIVER: 'dual',
        SESSION_STORE_PRIMARY: 'redis',
        SESSION_STORE_SECONDARY: 'knex',
        SESSION_DUAL_FALLBACK_ON_MISS: 'false',
      },
      'sessions',
      'cleanup',
      '--no-record',
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Cleanup done: 5 expired sessions removed from sessions in 1 batches/);
    expect((await runs('sessions-cleanup')).length).toBe(before);
  });

  it('exits 1 with the reason when the run cannot be recorded, and when the session table is missing', async () => {
    const bare = await testPostgres(); // a database `migrate latest` never ran on
    const bareKnex = createKnex({ client: 'pg', connection: bare.url });
    try {
      await createSessionTable(bareKnex, 'sessions');
      await seed(bareKnex, 3, 0);
      const unrecorded = await cli({ ...env, DATABASE_URL: bare.url }, 'sessions', 'cleanup');
      expect(unrecorded.code).toBe(1);
      expect(unrecorded.stderr).toMatch(
        /portcullis: cleanup sessions removed 3 rows but could not record the sessions-cleanup run in operational_job_runs \(.*operational_job_runs.*does not exist\): .*run `portcullis migrate latest`/,
      );
      const noTable = await cli({ ...env, SESSION_TABLE_NAME: 'no_such_sessions' }, 'sessions', 'cleanup', '--json');
      expect(noTable.code).toBe(1);
      expect(JSON.parse(noTable.stdout)).toMatchObject({
        outcome: 'failure',
        rows_removed: 0,
        finished: false,
        stopped_early: false,
      });
      expect(noTable.stderr).toMatch(
        /portcullis: Cleanup failed after 0 expired sessions removed from no_such_sessions in 0 batches, .*: .*no_such_sessions.*does not exist\. Fix the cause and run it again/,
      );
    } finally {
      await bareKnex.destroy();
      await bare.drop();
    }
  });

  it('documents its flags in --help and rejects bad numbers', async () => {
    const help = await cli(env, 'sessions', 'cleanup', '--help');
    expect(help.code).toBe(0);
    for (const flag of [
      '--batch-size <rows>',
      '--max-seconds <s>',
      '--pause-ms <ms>',
      '--json',
      '--no-record',
      '--progress-every <seconds>',
    ])
      expect(help.stdout).toContain(flag);
    expect((await cli(env, 'sessions', 'cleanup', '--batch-size', '0')).stderr).toMatch(
      /option '--batch-size <rows>' argument '0' is invalid\. It must be a whole number of at least 1\./,
    );
    expect((await cli(env, 'sessions', 'cleanup', '--max-seconds', '1.5')).code).toBe(2);
  });
});

describe('sessions cleanup on MariaDB', () => {
  let maria: TestDatabase;
  let mariaKnex: Knex;
  beforeAll(async () => {
    maria = await testMysql();
    mariaKnex = createKnex({ client: 'mysql2', connection: maria.url });
    await createSessionTable(mariaKnex, 'sessions');
  });
  afterAll(async () => {
    await mariaKnex.destroy();
    await maria.drop();
  });

  it('deletes the expired rows in batches there and records the run in PostgreSQL', async () => {
    await seed(mariaKnex, 450, 50);
    const { code, stdout } = await cli(
      { ...env, SESSION_KNEX_CLIENT: 'mysql2', SESSION_DATABASE_URL: maria.url },
      'sessions',
      'cleanup',
      '--batch-size',
      '200',
      '--json',
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ outcome: 'success', rows_removed: 450, batches: 3, finished: true });
    expect(await count(mariaKnex, true)).toBe(0);
    expect(await count(mariaKnex, false)).toBe(50);
    expect((await runs('sessions-cleanup')).at(-1)).toMatchObject({ figures: { rows_removed: 450 } });
  });
});

describe('sessions verify --record', () => {
  let dualEnv: Record<string, string>;
  let knexStore: { backend: SessionBackend; close(): Promise<void> };
  let redisStore: { backend: SessionBackend; close(): Promise<void> };
  const hashes: string[] = [];
  beforeAll(async () => {
    await knex('sessions').delete();
    dualEnv = {
      ...setup.env,
      SESSION_STORE_DRIVER: 'dual',
      SESSION_STORE_PRIMARY: 'knex',
      SESSION_STORE_SECONDARY: 'redis',
      SESSION_DUAL_FALLBACK_ON_MISS: 'false',
    };
    const config = loadConfig(dualEnv);
    knexStore = createSingleBackend('knex', config);
    redisStore = createSingleBackend('redis', config);
    for (let n = 0; n < 20; n++) {
      const record = {
        hash: randomBytes(32).toString('hex'),
        userId: `admin-${n}`,
        data: JSON.stringify({ n }),
        expiresAt: Date.now() + 3_600_000,
      };
      hashes.push(record.hash);
      await Promise.all([knexStore.backend.put(record), redisStore.backend.put(record)]);
    }
  });
  afterAll(() => Promise.all([knexStore.close(), redisStore.close()]));

  it('records go, then no-go with the mismatches, and /metrics shows the newest verdict', async () => {
    const go = await cli(dualEnv, 'sessions', 'verify', '--record');
    expect(go.code).toBe(0);
    expect(await scrape()).toMatch(/^portcullis_sessions_verify_ok\{primary="knex",secondary="redis"\} 1$/m);
    expect((await runs('sessions-verify')).at(-1)).toMatchObject({
      outcome: 'success',
      figures: { go: true, compared: 20, mismatches: { missing_in_secondary: 0 } },
    });

    await redisStore.backend.delete(hashes[0]!);
    const noGo = await cli(dualEnv, 'sessions', 'verify', '--record');
    expect(noGo.code).toBe(3);
    const metrics = await scrape();
    expect(metrics).toMatch(/^portcullis_sessions_verify_ok\{primary="knex",secondary="redis"\} 0$/m);
    expect(metrics).toMatch(
      /^portcullis_sessions_verify_mismatches\{primary="knex",secondary="redis",kind="missing_in_secondary"\} 1$/m,
    );
    expect(metrics).toMatch(/^portcullis_job_last_run_timestamp_seconds\{job="sessions-verify",outcome="no_go"\} /m);
    // Outside dual mode the verify series are not exported, so a stale no-go cannot page anyone.
    expect(await scrape({ cleanup: true, verify: false })).not.toMatch(/portcullis_sessions_verify_ok\{/);
  });

  it('records nothing without --record, and a failure when it cannot compare', async () => {
    const before = (await runs('sessions-verify')).length;
    expect((await cli(dualEnv, 'sessions', 'verify')).code).toBe(3);
    expect((await runs('sessions-verify')).length).toBe(before);
    const down = await cli({ ...dualEnv, REDIS_URL: 'redis://127.0.0.1:1' }, 'sessions', 'verify', '--record');
    expect(down.code).toBe(1);
    expect((await runs('sessions-verify')).at(-1)).toMatchObject({
      outcome: 'failure',
      figures: { primary: 'knex', secondary: 'redis' },
    });
  });
});
