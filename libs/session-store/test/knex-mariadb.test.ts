import { randomBytes } from 'node:crypto';
import createKnex, { type Knex } from 'knex';
import { createKnexBackend, createSessionTable, type SessionRecord } from '@portcullis/session-store';
import { testMysql, type TestDatabase } from '../../../test/support/index.js';
import { runSessionStoreContract, TestClock } from './contract.js';

let db: TestDatabase;
let knex: Knex;
beforeAll(async () => {
  db = await testMysql();
  knex = createKnex({ client: 'mysql2', connection: db.url, pool: { min: 0, max: 10 } });
});
afterAll(async () => {
  await knex.destroy();
  await db.drop();
});

const uniqueTable = () => `sessions_${randomBytes(6).toString('hex')}`;
const hashOf = (n: number) => n.toString(16).padStart(64, '0');

runSessionStoreContract('knex (MariaDB)', async (clock) => {
  const tableName = uniqueTable();
  await createSessionTable(knex, tableName);
  const backend = createKnexBackend({ knex, tableName, clock });
  return {
    backend,
    cleanup: async () => {
      await backend.close();
      await knex.schema.dropTable(tableName);
    },
  };
});

describe('knex driver on MariaDB', () => {
  let tableName: string;
  let clock: TestClock;
  beforeEach(async () => {
    tableName = uniqueTable();
    clock = new TestClock();
    await createSessionTable(knex, tableName);
  });
  afterEach(() => knex.schema.dropTableIfExists(tableName));
  const record = (n: number, ttlMs: number): SessionRecord => ({
    hash: hashOf(n),
    userId: `admin-${n % 3}`,
    data: '{}',
    expiresAt: clock.now() + ttlMs,
  });

  it('creates the table with a primary key on hash and indexes on user_id and expires_at', async () => {
    const [rows] = (await knex.raw(
      'select INDEX_NAME as name, COLUMN_NAME as col from information_schema.STATISTICS where TABLE_SCHEMA = database() and TABLE_NAME = ? order by INDEX_NAME',
      [tableName],
    )) as [{ name: string; col: string }[]];
    expect(rows.map((row) => `${row.name}(${row.col})`).sort()).toEqual(
      ['PRIMARY(hash)', `${tableName}_expires_at_idx(expires_at)`, `${tableName}_user_id_idx(user_id)`].sort(),
    );
  });

  it('keeps sessions in MEDIUMTEXT utf8mb4: a 1 MiB session of 4-byte characters fits', async () => {
    const [rows] = (await knex.raw(
      'select DATA_TYPE as type, CHARACTER_SET_NAME as charset from information_schema.COLUMNS where TABLE_SCHEMA = database() and TABLE_NAME = ? and COLUMN_NAME = ?',
      [tableName, 'data'],
    )) as [{ type: string; charset: string }[]];
    expect(rows[0]).toEqual({ type: 'mediumtext', charset: 'utf8mb4' });
    const backend = createKnexBackend({ knex, tableName, clock });
    const data = JSON.stringify({ blob: '😀'.repeat(262_000) });
    await backend.put({ hash: hashOf(1), userId: null, data, expiresAt: clock.now() + 60_000 });
    expect((await backend.get(hashOf(1)))?.data).toBe(data);
  });

  it('switches to the statistics estimate plus a bounded expired count once past the threshold', async () => {
    const backend = createKnexBackend({ knex, tableName, clock, exactCountThreshold: 3 });
    for (let n = 0; n < 5; n++) await backend.put(record(n, 60_000));
    for (let n = 5; n < 7; n++) await backend.put(record(n, 1000));
    clock.advance(2000);
    await knex.raw('analyze table ??', [tableName]);
    expect(await backend.count()).toEqual({ live: 5, expired: 2, exact: false });
    expect(await createKnexBackend({ knex, tableName, clock }).count()).toEqual({ live: 5, expired: 2, exact: true });
  });

  it('samples from a random point and wraps around, so it always fills up to n', async () => {
    const backend = createKnexBackend({ knex, tableName, clock });
    for (let n = 0; n < 4; n++) await backend.put(record(n * 0x1000, 60_000));
    for (let round = 0; round < 20; round++) {
      const sample = await backend.sample(3);
      expect(new Set(sample.map((r) => r.hash)).size).toBe(3);
    }
  });
});
