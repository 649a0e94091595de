// backfillSessions and verifyStores between real stores: knex (PostgreSQL) → DynamoDB and
// Redis → knex (MariaDB). Time is a manual clock; the rate limiter sleeps on it, never on the wall.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import createKnex, { type Knex } from 'knex';
import { Registry } from 'prom-client';
import {
  backfillSessions,
  BackfillError,
  createDynamoBackend,
  createDynamoClient,
  createDynamoSessionTable,
  createKnexBackend,
  createMemoryBackend,
  createRedisBackend,
  createSessionStoreMetrics,
  createSessionTable,
  readBackfillCheckpoint,
  verifyStores,
  writeBackfillCheckpoint,
  type BackfillProgress,
  type Clock,
  type SessionBackend,
  type SessionRecord,
} from '@portcullis/session-store';
import { testDynamo, testMysql, testPostgres, testRedis, type TestDatabase } from '../../../test/support/index.js';
import { dropPrefix } from './backends.js';

class ManualClock implements Clock {
  constructor(private at = Date.now()) {}
  now = () => this.at;
  advance(ms: number) {
    this.at += ms;
  }
}

interface Store {
  backend: SessionBackend;
  cleanup(): Promise<void>;
}

let pg: TestDatabase;
let maria: TestDatabase;
let pgKnex: Knex;
let mariaKnex: Knex;
beforeAll(async () => {
  [pg, maria] = await Promise.all([testPostgres(), testMysql()]);
  pgKnex = createKnex({ client: 'pg', connection: pg.url, pool: { min: 0, max: 8 } });
  mariaKnex = createKnex({ client: 'mysql2', connection: maria.url, pool: { min: 0, max: 8 } });
});
afterAll(async () => {
  await Promise.all([pgKnex.destroy(), mariaKnex.destroy()]);
  await Promise.all([pg.drop(), maria.drop()]);
});

async function knexStore(knex: Knex, clock: Clock): Promise<Store> {
  const tableName = `sessions_${randomBytes(4).toString('hex')}`;
  await createSessionTable(knex, tableName);
  return { backend: createKnexBackend({ knex, tableName, clock }), cleanup: () => knex.schema.dropTable(tableName) };
}

async function dynamoStore(clock: Clock): Promise<Store> {
  const dynamo = testDynamo();
  const config = { endpoint: dynamo.endpoint, region: dynamo.region, credentials: dynamo.credentials };
  const tableName = `${dynamo.tablePrefix}sessions`;
  const client = createDynamoClient(config);
  await createDynamoSessionTable(client, { tableName, billingMode: 'PAY_PER_REQUEST' });
  const backend = createDynamoBackend({ client, tableName, clock, consistentRead: true });
  return {
    backend,
    cleanup: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      await backend.close();
    },
  };
}

function redisStore(clock: Clock): Store {
  const { url, prefix } = testRedis();
  const backend = createRedisBackend({ url, keyPrefix: prefix, clock });
  return {
    backend,
    cleanup: async () => {
      await dropPrefix(url, prefix);
      await backend.close();
    },
  };
}

const pairs: [string, (clock: Clock) => Promise<[Store, Store]>][] = [
  ['knex (PostgreSQL) → dynamodb', async (clock) => Promise.all([knexStore(pgKnex, clock), dynamoStore(clock)])],
  ['redis → knex (MariaDB)', async (clock) => [redisStore(clock), await knexStore(mariaKnex, clock)]],
];

const record = (clock: Clock, ttlMs: number, n: number): SessionRecord => ({
  hash: randomBytes(32).toString('hex'),
  userId: n % 4 === 0 ? null : `admin-${n % 5}`,
  data: JSON.stringify({ n, note: 'héllo' }),
  expiresAt: clock.now() + ttlMs + n,
});

describe.each(pairs)('backfill and verify %s', (_name, make) => {
  let clock: ManualClock;
  let source: SessionBackend;
  let target: SessionBackend;
  let stores: Store[];
  let live: SessionRecord[];
  let expired: SessionRecord[];
  beforeEach(async () => {
    clock = new ManualClock();
    stores = await make(clock);
    [source, target] = stores.map((store) => store.backend) as [SessionBackend, SessionBackend];
    live = Array.from({ length: 30 }, (_, n) => record(clock, 3_600_000, n));
    // Alive for Redis's own TTL (real time), expired by the store clock once it moves on.
    expired = Array.from({ length: 5 }, (_, n) => record(clock, 30_000, n));
    await Promise.all([...live, ...expired].map((r) => source.put(r)));
    clock.advance(60_000);
  });
  afterEach(() => Promise.all(stores.map((store) => store.cleanup())));

  const targetCopies = async () => Promise.all(live.map((r) => target.get(r.hash)));

  it('copies every live session with its exact expiry, skips expired ones and keeps newer target copies', async () => {
    const [newer, older] = [live[3]!, live[4]!];
    await target.put({ ...newer, data: '{"renewed":true}', expiresAt: newer.expiresAt + 5000 });
    await target.put({ ...older, data: '{"stale":true}', expiresAt: older.expiresAt - 5000 });
    const result = await backfillSessions({ source, target, batchSize: 7, clock });
    expect(result).toEqual({ scanned: 35, copied: 29, skippedExpired: 5, skippedNewer: 1, removed: 0, done: true });
    const copies = await targetCopies();
    for (const [i, copy] of copies.entries())
      expect(copy).toEqual(
        i === 3 ? { ...newer, data: '{"renewed":true}', expiresAt: newer.expiresAt + 5000 } : live[i],
      );
    for (const r of expired) expect(await target.get(r.hash)).toBeUndefined();
    // Run again: everything is already there.
    expect(await backfillSessions({ source, target, batchSize: 7, clock })).toMatchObject({
      copied: 0,
      skippedNewer: 30,
      skippedExpired: 5,
    });
  });

  it('resumes from the checkpoint of a stopped run without scanning a record twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'backfill-'));
    const path = join(dir, 'checkpoint.json');
    const scanned: string[] = [];
    const counting: SessionBackend = {
      ...source,
      scan: async (cursor, limit) => {
        const page = await source.scan(cursor, limit);
        scanned.push(...page.records.map((r) => r.hash));
        return page;
      },
    };
    const save = (progress: BackfillProgress) =>
      writeBackfillCheckpoint(path, {
        ...progress,
        from: 'a',
        to: 'b',
        updatedAt: new Date(clock.now()).toISOString(),
      });
    const first = await backfillSessions({
      source: counting,
      target,
      batchSize: 10,
      maxRecords: 20,
      clock,
      onBatch: save,
    });
    expect(first).toMatchObject({ scanned: 20, done: false });
    expect(first.cursor).toEqual(expect.any(String));

    // A killed Job: the next one starts from the file alone.
    const saved = await readBackfillCheckpoint(path);
    expect(saved).toMatchObject({ scanned: 20, cursor: first.cursor, from: 'a', to: 'b', done: false });
    const second = await backfillSessions({
      source: counting,
      target,
      batchSize: 10,
      cursor: saved!.cursor!,
      stats: saved!,
      clock,
      onBatch: save,
    });
    expect(second).toEqual({ scanned: 35, copied: 30, skippedExpired: 5, skippedNewer: 0, removed: 0, done: true });
    expect(scanned).toHaveLength(35);
    expect(new Set(scanned).size).toBe(35);
    expect(await targetCopies()).toEqual(live);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ done: true, scanned: 35 });
    await rm(dir, { recursive: true });
  });

  it('stops after the current batch when aborted and says where to go on', async () => {
    const abort = new AbortController();
    const result = await backfillSessions({
      source,
      target,
      batchSize: 10,
      clock,
      signal: abort.signal,
      onBatch: () => abort.abort(),
    });
    expect(result).toMatchObject({ scanned: 10, done: false, cursor: expect.any(String) });
  });

  it('keeps to --rate on the injected clock: sleeps until the average is back under it', async () => {
    const slept: number[] = [];
    const seen: { scanned: number; at: number }[] = [];
    const started = clock.now();
    const sleep = async (ms: number) => {
      slept.push(ms);
      clock.advance(ms);
    };
    await backfillSessions({
      source,
      target,
      batchSize: 5,
      ratePerSecond: 10,
      clock,
      sleep,
      onBatch: (p) => void seen.push({ scanned: p.scanned, at: clock.now() }),
    });
    // 35 records in pages of 5 at 10/s: the first page at once, then one page per 500 ms.
    expect(slept.length).toBeGreaterThanOrEqual(6);
    expect(slept.slice(0, 6)).toEqual([500, 500, 500, 500, 500, 500]);
    for (const { scanned, at } of seen) expect(scanned).toBeLessThanOrEqual(((at - started) / 1000) * 10 + 5);
    expect(clock.now() - started).toBeGreaterThanOrEqual(3000);
  });

  it('deletes a copy again when the source session was destroyed while it was being copied', async () => {
    const loggedOut = live[7]!;
    const racing: SessionBackend = {
      ...source,
      get: async (hash) => (hash === loggedOut.hash ? undefined : source.get(hash)),
    };
    const result = await backfillSessions({ source: racing, target, batchSize: 10, clock });
    expect(result).toMatchObject({ copied: 29, removed: 1 });
    expect(await target.get(loggedOut.hash)).toBeUndefined();
  });

  it('writes nothing in a dry run', async () => {
    expect(await backfillSessions({ source, target, dryRun: true, clock })).toMatchObject({
      copied: 30,
      skippedExpired: 5,
      done: true,
    });
    expect((await targetCopies()).filter(Boolean)).toEqual([]);
  });

  it('reports a failed batch with the cursor of the last completed one', async () => {
    let batches = 0;
    const failing: SessionBackend = {
      ...target,
      put: async (r) => (batches >= 1 ? Promise.reject(new Error('target unreachable')) : target.put(r)),
    };
    const error = await backfillSessions({
      source,
      target: failing,
      batchSize: 10,
      clock,
      onBatch: () => void (batches += 1),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackfillError);
    expect((error as BackfillError).message).toMatch(/batch after 10 records failed: target unreachable/);
    expect((error as BackfillError).progress).toMatchObject({ scanned: 10, done: false, cursor: expect.any(String) });
  });

  describe('verify', () => {
    let metrics: ReturnType<typeof createSessionStoreMetrics>;
    let registry: Registry;
    beforeEach(async () => {
      await backfillSessions({ source, target, clock });
      registry = new Registry();
      metrics = createSessionStoreMetrics(registry);
    });
    const verify = (extra: { toleranceMs?: number; secondaryMaxTtlMs?: number } = {}) =>
      verifyStores({ primary: source, secondary: target, sampleSize: 1000, clock, metrics, ...extra });
    const mismatchCount = async (kind: string) =>
      (await registry.getSingleMetric('session_store_consistency_mismatches_total')!.get()).values.find(
        (v) => v.labels.kind === kind,
      )?.value ?? 0;

    it('says go when both hold the same sessions, and counts the checks', async () => {
      const report = await verify();
      expect(report).toMatchObject({ go: true, reasons: [], mismatches: [], compared: 30 });
      expect(report.primary.counts).toMatchObject({ live: 30, expired: 5 });
      expect((await registry.getSingleMetric('session_store_consistency_checks_total')!.get()).values[0]?.value).toBe(
        30,
      );
    });

    it('says no-go when a sampled session is missing on either side', async () => {
      await target.delete(live[0]!.hash);
      const extra = record(clock, 3_600_000, 99);
      await target.put(extra);
      const report = await verify();
      expect(report.go).toBe(false);
      expect(report.mismatches.map((m) => [m.kind, m.hash]).sort()).toEqual(
        [
          ['missing_in_primary', extra.hash],
          ['missing_in_secondary', live[0]!.hash],
        ].sort(),
      );
      expect(report.reasons[0]).toMatch(/2 of 31 sampled sessions differ \(.*1 missing in secondary.*\)/);
      expect(await mismatchCount('missing_in_secondary')).toBe(1);
    });

    it('says no-go when a sampled session holds different data or owner', async () => {
      await target.put({ ...live[1]!, data: '{"tampered":true}' });
      await target.put({ ...live[2]!, userId: 'someone-else' });
      const report = await verify();
      expect(report.mismatches.map((m) => m.kind)).toEqual(['data', 'data']);
      expect(report.mismatches.map((m) => m.detail).join(' ')).not.toContain('tampered');
      expect(report.go).toBe(false);
    });

    it('judges expiry against the tolerance, and a retiring secondary may only expire earlier', async () => {
      await target.put({ ...live[1]!, expiresAt: live[1]!.expiresAt + 1500 });
      expect((await verify()).go).toBe(true);
      await target.put({ ...live[1]!, expiresAt: live[1]!.expiresAt + 5000 });
      expect((await verify()).mismatches).toMatchObject([{ kind: 'expiry', hash: live[1]!.hash }]);
      // Retiring store capped at 10 minutes: shorter copies and early deaths are expected.
      await target.put({ ...live[1]!, expiresAt: clock.now() + 600_000 });
      await target.delete(live[2]!.hash);
      const retiring = await verify({ secondaryMaxTtlMs: 600_000 });
      expect(retiring.reasons).toEqual([]);
      expect(retiring.go).toBe(true);
      expect((await verify()).go).toBe(false);
      // Never later than the primary, never different.
      await target.put({ ...live[1]!, expiresAt: live[1]!.expiresAt + 60_000 });
      await target.put({ ...live[3]!, data: '{}', expiresAt: clock.now() + 600_000 });
      expect((await verify({ secondaryMaxTtlMs: 600_000 })).mismatches.map((m) => m.kind).sort()).toEqual([
        'data',
        'expiry',
      ]);
    });
  });
});

describe('verify counts', () => {
  const fill = async (backend: SessionBackend, records: SessionRecord[]) =>
    Promise.all(records.map((r) => backend.put(r))).then(() => backend);

  it('says no-go when two exact live counts differ beyond the tolerance, even if the sample agrees', async () => {
    const clock = new ManualClock();
    const shared = Array.from({ length: 100 }, (_, n) => record(clock, 3_600_000, n));
    const extra = Array.from({ length: 5 }, (_, n) => record(clock, 3_600_000, 200 + n));
    // Memory backends sample in insertion order, so a sample of 1 sees only a shared session.
    const primary = await fill(createMemoryBackend({ clock }), shared);
    const secondary = await fill(createMemoryBackend({ clock }), [...shared, ...extra]);
    const report = await verifyStores({ primary, secondary, sampleSize: 1, clock });
    expect(report.mismatches).toEqual([]);
    expect(report.reasons).toEqual([
      "The live counts differ by 5 (primary 100, secondary 105), more than 1% of the primary's.",
    ]);
    expect((await verifyStores({ primary, secondary, sampleSize: 1, clock, countTolerance: 0.05 })).go).toBe(true);
  });
});
