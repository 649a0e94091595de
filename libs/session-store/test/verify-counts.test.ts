// `sessions verify` on a table too large for an exact count(): the report says the counts were
// estimates instead of skipping them silently, and --exact (exactCounts) counts by a full scan
// and judges the difference. A knex table with a threshold of 5 stands in for a 10M-row one.
import createKnex, { type Knex } from 'knex';
import {
  createKnexBackend,
  createMemoryBackend,
  createSessionTable,
  exactCount,
  verifyStores,
  type SessionBackend,
} from '@portcullis/session-store';
import { testPostgres, type TestDatabase } from '../../../test/support/index.js';
import { TestClock } from './contract.js';

let db: TestDatabase;
let knex: Knex;
let clock: TestClock;
let large: SessionBackend;
let small: SessionBackend;

beforeAll(async () => {
  db = await testPostgres();
  knex = createKnex({ client: 'pg', connection: db.url, pool: { min: 0, max: 4 } });
  await createSessionTable(knex, 'sessions');
}, 60_000);
afterAll(async () => {
  await knex.destroy();
  await db.drop();
});
beforeEach(async () => {
  await knex('sessions').delete();
  clock = new TestClock();
  large = createKnexBackend({ knex, tableName: 'sessions', clock, exactCountThreshold: 5 });
  small = createMemoryBackend({ clock });
  const records = Array.from({ length: 8 }, (_, i) => ({
    hash: `h${i}`.padEnd(64, '0'),
    userId: `admin-${i}`,
    data: '{}',
    expiresAt: clock.now() + 60_000,
  }));
  for (const record of records) await Promise.all([large.put(record), small.put(record)]);
  await large.put({ hash: 'expired'.padEnd(64, '0'), userId: 'admin-x', data: '{}', expiresAt: clock.now() - 1 });
});

it('counts exactly by a scan what count() only estimates', async () => {
  expect((await large.count()).exact).toBe(false);
  expect(await exactCount(large, { clock, pageSize: 3 })).toEqual({ live: 8, expired: 1, exact: true });
});

it('says when the counts were estimates and were not compared', async () => {
  const report = await verifyStores({ primary: large, secondary: small, clock });
  expect(report).toMatchObject({
    go: true,
    countsExact: false,
    countNote: expect.stringMatching(/not compared: knex gave an estimate \(large table\); run with --exact/),
  });
});

it('compares exact counts with --exact and refuses a gap past the tolerance', async () => {
  expect(await verifyStores({ primary: large, secondary: small, clock, exactCounts: true })).toMatchObject({
    go: true,
    countsExact: true,
    countDifference: { live: 0, share: 0 },
  });
  await small.delete('h0'.padEnd(64, '0'));
  await small.delete('h1'.padEnd(64, '0'));
  const report = await verifyStores({ primary: large, secondary: small, clock, exactCounts: true, sampleSize: 1 });
  expect(report.countDifference).toEqual({ live: 2, share: 0.25 });
  expect(report.reasons).toContain(
    "The live counts differ by 2 (primary 8, secondary 6), more than 1% of the primary's.",
  );
  expect(report.go).toBe(false);
});
