import { randomBytes } from 'node:crypto';
import createKnex, { type Knex } from 'knex';
import {
  cleanupExpiredSessions,
  createSessionTable,
  runExpiredSessionCleanup,
  type CleanupProgress,
} from '@portcullis/session-store';
import { testMysql, testPostgres, type TestDatabase } from '../../../test/support/index.js';
import { TestClock } from './contract.js';

const servers: [string, () => Promise<TestDatabase>, 'pg' | 'mysql2'][] = [
  ['PostgreSQL', testPostgres, 'pg'],
  ['MariaDB', testMysql, 'mysql2'],
];

describe.each(servers)('cleanupExpiredSessions on %s', (_name, createDatabase, client) => {
  let db: TestDatabase;
  let knex: Knex;
  let tableName: string;
  let clock: TestClock;
  beforeAll(async () => {
    db = await createDatabase();
    knex = createKnex({ client, connection: db.url, pool: { min: 0, max: 4 } });
  });
  afterAll(async () => {
    await knex.destroy();
    await db.drop();
  });
  beforeEach(async () => {
    clock = new TestClock();
    tableName = `sessions_${randomBytes(6).toString('hex')}`;
    await createSessionTable(knex, tableName);
  });
  afterEach(() => knex.schema.dropTableIfExists(tableName));

  /** `expired` rows that expired 1..expired ms before the returned time, and `live` rows still valid. */
  async function seed(expired: number, live: number): Promise<number> {
    const now = clock.now();
    const row = (i: number, expiresAt: number) => ({
      hash: randomBytes(32).toString('hex'),
      user_id: `admin-${i % 7}`,
      data: '{}',
      expires_at: expiresAt,
      created_at: now,
      updated_at: now,
    });
    const rows = [
      ...Array.from({ length: expired }, (_, i) => row(i, now - 1 - i)),
      ...Array.from({ length: live }, (_, i) => row(i, now + 60_000 + i)),
    ];
    await knex.batchInsert(tableName, rows, 500);
    return now;
  }

  /** Counts the DELETE statements the cleanup sends: one per batch. */
  function countDeletes(): { readonly count: number; stop(): void } {
    let count = 0;
    const listener = (query: { sql: string }) => {
      if (query.sql.startsWith('delete from')) count += 1;
    };
    knex.on('query', listener);
    return {
      get count() {
        return count;
      },
      stop: () => knex.off('query', listener),
    };
  }

  const remaining = async () =>
    (await knex(tableName).select('expires_at')).map((row: { expires_at: string | number }) => Number(row.expires_at));

  it('deletes exactly the expired rows, in batches of batchSize, and leaves the live ones', async () => {
    await seed(2500, 300);
    const deletes = countDeletes();
    expect(await cleanupExpiredSessions(knex, tableName, { clock, batchSize: 1000 })).toBe(2500);
    deletes.stop();
    expect(deletes.count).toBe(3);
    const left = await remaining();
    expect(left).toHaveLength(300);
    expect(left.every((expiresAt) => expiresAt > clock.now())).toBe(true);
  });

  it('stops after maxBatches, oldest first, and the next run finishes the job', async () => {
    const seededAt = await seed(250, 10);
    expect(await cleanupExpiredSessions(knex, tableName, { clock, batchSize: 100, maxBatches: 2, pauseMs: 5 })).toBe(
      200,
    );
    const left = await remaining();
    expect(left).toHaveLength(60);
    // The 50 left expired most recently: batches go by expires_at, oldest first.
    expect(left.filter((expiresAt) => expiresAt < seededAt).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => seededAt - 50 + i),
    );
    expect(await cleanupExpiredSessions(knex, tableName, { clock, batchSize: 100 })).toBe(50);
    expect(await remaining()).toHaveLength(10);
  });

  it('deletes nothing when nothing has expired', async () => {
    await seed(0, 20);
    expect(await cleanupExpiredSessions(knex, tableName, { clock })).toBe(0);
    expect(await remaining()).toHaveLength(20);
  });

  it('stops between batches when its signal aborts (the time bound, SIGTERM), not finished, and says so after each batch', async () => {
    await seed(500, 5);
    const abort = new AbortController();
    const seen: CleanupProgress[] = [];
    const stopped = await runExpiredSessionCleanup(knex, tableName, {
      clock,
      batchSize: 100,
      signal: abort.signal,
      onBatch: (progress) => {
        seen.push(progress);
        if (progress.batches === 2) abort.abort();
      },
    });
    expect(stopped).toMatchObject({ deleted: 200, batches: 2, finished: false });
    expect(seen).toEqual([
      { deleted: 100, batches: 1 },
      { deleted: 200, batches: 2 },
    ]);
    expect(
      await runExpiredSessionCleanup(knex, tableName, { clock, batchSize: 100, signal: AbortSignal.abort() }),
    ).toMatchObject({ deleted: 0, batches: 0, finished: false });
    expect(await runExpiredSessionCleanup(knex, tableName, { clock, batchSize: 100 })).toMatchObject({
      deleted: 300,
      batches: 4,
      finished: true,
    });
    expect(await remaining()).toHaveLength(5);
  });
});
