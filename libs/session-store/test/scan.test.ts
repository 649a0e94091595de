// scan(cursor, limit) on all five drivers, each on a real server: a full iteration returns
// every record exactly once, resumes from its cursor in another backend (another process),
// and what it guarantees while sessions are written and deleted during the iteration.
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import createKnex, { type Knex } from 'knex';
import {
  createDualBackend,
  createDynamoBackend,
  createDynamoClient,
  createDynamoSessionTable,
  createKnexBackend,
  createMemoryBackend,
  createRedisBackend,
  createSessionTable,
  type Clock,
  type SessionBackend,
  type SessionRecord,
} from '@portcullis/session-store';
import { testDynamo, testMysql, testPostgres, testRedis, type TestDatabase } from '../../../test/support/index.js';
import { dropPrefix } from './backends.js';
import { TestClock } from './contract.js';

interface Fixture {
  backend: SessionBackend;
  /** Another backend on the same data, as a second process would open it. */
  reopen(): SessionBackend;
  cleanup(): Promise<void>;
}

const databases: TestDatabase[] = [];
const pools: Knex[] = [];
async function pool(kind: 'pg' | 'mysql2'): Promise<Knex> {
  const db = kind === 'pg' ? await testPostgres() : await testMysql();
  databases.push(db);
  const knex = createKnex({ client: kind, connection: db.url, pool: { min: 0, max: 4 } });
  pools.push(knex);
  return knex;
}
afterAll(async () => {
  await Promise.all(pools.map((knex) => knex.destroy()));
  await Promise.all(databases.map((db) => db.drop()));
});

async function knexFixture(kind: 'pg' | 'mysql2', clock: Clock): Promise<Fixture> {
  const knex = await pool(kind);
  const tableName = `sessions_${randomBytes(4).toString('hex')}`;
  await createSessionTable(knex, tableName);
  return {
    backend: createKnexBackend({ knex, tableName, clock }),
    reopen: () => createKnexBackend({ knex, tableName, clock }),
    cleanup: () => knex.schema.dropTable(tableName),
  };
}

function redisFixture(clock: Clock): Fixture {
  const { url, prefix } = testRedis();
  const opened: SessionBackend[] = [];
  const open = () => {
    const backend = createRedisBackend({ url, keyPrefix: prefix, clock });
    opened.push(backend);
    return backend;
  };
  return {
    backend: open(),
    reopen: open,
    cleanup: async () => {
      await dropPrefix(url, prefix);
      await Promise.allSettled(opened.map((backend) => backend.close()));
    },
  };
}

async function dynamoFixture(clock: Clock): Promise<Fixture> {
  const dynamo = testDynamo();
  const config = { endpoint: dynamo.endpoint, region: dynamo.region, credentials: dynamo.credentials };
  const tableName = `${dynamo.tablePrefix}scan`;
  const admin = createDynamoClient(config);
  await createDynamoSessionTable(admin, { tableName, billingMode: 'PAY_PER_REQUEST' });
  const opened: SessionBackend[] = [];
  const open = () => {
    const backend = createDynamoBackend({ client: createDynamoClient(config), tableName, clock, consistentRead: true });
    opened.push(backend);
    return backend;
  };
  return {
    backend: open(),
    reopen: open,
    cleanup: async () => {
      await admin.send(new DeleteTableCommand({ TableName: tableName }));
      admin.destroy();
      await Promise.all(opened.map((backend) => backend.close()));
    },
  };
}

/** dual(knex → redis): scan reads the primary. */
async function dualFixture(clock: Clock): Promise<Fixture> {
  const [primary, secondary] = [await knexFixture('pg', clock), redisFixture(clock)];
  const duals = [createDualBackend({ primary: primary.backend, secondary: secondary.backend, clock })];
  return {
    backend: duals[0]!,
    reopen: () => {
      duals.push(createDualBackend({ primary: primary.reopen(), secondary: secondary.reopen(), clock }));
      return duals.at(-1)!;
    },
    cleanup: async () => {
      await Promise.allSettled(duals.map((dual) => dual.close()));
      await primary.cleanup();
      await secondary.cleanup();
    },
  };
}

const drivers: [string, (clock: Clock) => Promise<Fixture>][] = [
  [
    'memory',
    async (clock) => {
      const backend = createMemoryBackend({ clock });
      return { backend, reopen: () => backend, cleanup: () => backend.close() };
    },
  ],
  ['redis', async (clock) => redisFixture(clock)],
  ['knex (PostgreSQL)', (clock) => knexFixture('pg', clock)],
  ['knex (MariaDB)', (clock) => knexFixture('mysql2', clock)],
  ['dynamodb', dynamoFixture],
  ['dual (knex → redis)', dualFixture],
];

const hash = () => randomBytes(32).toString('hex');

describe.each(drivers)('scan on %s', (name, make) => {
  let clock: TestClock;
  let fixture: Fixture;
  beforeEach(async () => {
    clock = new TestClock();
    fixture = await make(clock);
  });
  afterEach(() => fixture.cleanup());

  /** 120 records; 10 share each expiry, so redis pages cut through runs of equal scores. */
  async function seed(n = 120): Promise<Map<string, SessionRecord>> {
    const records = new Map<string, SessionRecord>();
    const base = clock.now() + 3_600_000;
    for (let i = 0; i < n; i++) {
      const record = {
        hash: hash(),
        userId: i % 3 === 0 ? null : `admin-${i % 7}`,
        data: JSON.stringify({ i }),
        expiresAt: base + Math.floor(i / 10) * 1000,
      };
      records.set(record.hash, record);
    }
    await Promise.all([...records.values()].map((record) => fixture.backend.put(record)));
    return records;
  }

  async function scanAll(
    backend: SessionBackend,
    limit: number,
    cursor?: string,
    afterPage?: (seen: Map<string, number>) => Promise<void>,
  ) {
    const seen = new Map<string, number>();
    const records: SessionRecord[] = [];
    let next = cursor;
    let pages = 0;
    do {
      const page = await backend.scan(next, limit);
      expect(page.records.length).toBeLessThanOrEqual(limit);
      for (const record of page.records) seen.set(record.hash, (seen.get(record.hash) ?? 0) + 1);
      records.push(...page.records);
      next = page.cursor;
      pages += 1;
      if (next) await afterPage?.(seen);
    } while (next);
    return { seen, records, pages };
  }

  it('returns every record exactly once, as stored, across pages', async () => {
    const stored = await seed();
    const { seen, records, pages } = await scanAll(fixture.backend, 7);
    expect([...seen.keys()].sort()).toEqual([...stored.keys()].sort());
    expect([...seen.values()].every((times) => times === 1)).toBe(true);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(stored.size / 7));
    for (const record of records) expect(record).toEqual(stored.get(record.hash));
  });

  it('ends at once on an empty store', async () => {
    expect(await fixture.backend.scan(undefined, 10)).toEqual({ records: [] });
  });

  it('resumes from a cursor in another backend without repeating or skipping a record', async () => {
    const stored = await seed();
    const first = await fixture.backend.scan(undefined, 25);
    const second = await fixture.backend.scan(first.cursor, 25);
    const rest = await scanAll(fixture.reopen(), 25, second.cursor);
    const all = [...first.records, ...second.records, ...rest.records].map((record) => record.hash);
    expect(all.sort()).toEqual([...stored.keys()].sort());
  });

  it('while sessions are written and deleted: untouched ones exactly once, rewritten ones at least once', async () => {
    const stored = await seed();
    const rewritten = new Set<string>();
    const deleted = new Set<string>();
    const pick = (pool: Iterable<string>, seen: Map<string, number>, returned: boolean) =>
      [...pool].find((h) => seen.has(h) === returned && !rewritten.has(h) && !deleted.has(h));
    const { seen } = await scanAll(fixture.backend, 9, undefined, async (seenSoFar) => {
      // A rolling write on a record already returned and one not yet returned, a logout, a login.
      for (const returned of [true, false]) {
        const target = pick(stored.keys(), seenSoFar, returned);
        if (!target) continue;
        rewritten.add(target);
        await fixture.backend.put({
          ...stored.get(target)!,
          data: '{"renewed":true}',
          expiresAt: clock.now() + 7_200_000,
        });
      }
      const gone = pick(stored.keys(), seenSoFar, false);
      if (gone) {
        deleted.add(gone);
        await fixture.backend.delete(gone);
      }
      await fixture.backend.put({ hash: hash(), userId: null, data: '{}', expiresAt: clock.now() + 3_600_000 });
    });
    for (const h of stored.keys()) {
      if (deleted.has(h)) continue;
      const times = seen.get(h) ?? 0;
      if (rewritten.has(h)) expect(times).toBeGreaterThanOrEqual(1);
      else expect(times).toBe(1);
      // Ordered by hash (knex, memory) or by DynamoDB's key order, a rewrite does not move a
      // record; redis orders by expiry, so a renewed record can come again, never more than
      // once per move past the cursor.
      if (!name.startsWith('redis')) expect(times).toBeLessThanOrEqual(1);
    }
    expect(rewritten.size).toBeGreaterThan(0);
  });

  it('refuses a cursor from another driver and a limit below 1', async () => {
    const foreign = name.startsWith('knex') || name.startsWith('dual') ? 'redis:1:abc' : 'knex:abc';
    await expect(fixture.backend.scan(foreign, 10)).rejects.toThrow(/cursor does not come from a \w+ store scan/);
    await expect(fixture.backend.scan(undefined, 0)).rejects.toThrow(/positive integer/);
  });
});
