// The running consistency check of the dual-write period: every pod in `dual` compares sampled
// sessions between its two stores on a timer, so session_store_consistency_* move between the
// operator's `sessions verify` runs. Real Redis and PostgreSQL.
import { setTimeout as sleep } from 'node:timers/promises';
import createKnex from 'knex';
import { Registry } from 'prom-client';
import {
  createBackendFromSettings,
  createSessionStoreMetrics,
  createSessionTable,
  startConsistencySampler,
  type SessionRecord,
} from '@portcullis/session-store';
import { testPostgres, testRedis, type TestDatabase } from '../../../test/support/index.js';
import { realStores, type RealStore } from './backends.js';
import { TestClock } from './contract.js';

const stores = realStores();
afterAll(() => stores.dispose());

async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await registry.getSingleMetric(name)!.get();
  return values
    .filter((value) => Object.entries(labels).every(([key, want]) => value.labels[key] === want))
    .reduce((sum, value) => sum + value.value, 0);
}
const record = (hash: string, clock: TestClock, data = '{"userId":"admin-1"}'): SessionRecord => ({
  hash,
  userId: 'platform:admin-1',
  data,
  expiresAt: clock.now() + 30 * 60_000,
});

describe('startConsistencySampler', () => {
  let primary: RealStore;
  let secondary: RealStore;
  beforeAll(async () => {
    [primary, secondary] = await Promise.all([stores.create('redis'), stores.create('knex')]);
  });
  afterAll(async () => {
    await Promise.all([primary.drop(), secondary.drop()]);
  });

  it('counts sampled sessions and reports each kind of disagreement, never an agreeing pair', async () => {
    const clock = new TestClock();
    const [p, s] = [primary.connect(clock), secondary.connect(clock)];
    const registry = new Registry();
    const metrics = createSessionStoreMetrics(registry);
    const sampler = startConsistencySampler({
      primary: p,
      secondary: s,
      metrics,
      sampleSize: 50,
      intervalMs: 3_600_000,
      clock,
    });
    try {
      for (const hash of ['a', 'b', 'c'].map((letter) => letter.repeat(64)))
        await Promise.all([p.put(record(hash, clock)), s.put(record(hash, clock))]);
      await sampler.sampleNow();
      expect(await counter(registry, 'session_store_consistency_checks_total')).toBe(3);
      expect(await counter(registry, 'session_store_consistency_mismatches_total')).toBe(0);

      await p.put(record('d'.repeat(64), clock));
      await Promise.all([
        p.put(record('e'.repeat(64), clock, '{"v":1}')),
        s.put(record('e'.repeat(64), clock, '{"v":2}')),
      ]);
      await sampler.sampleNow();
      expect(
        await counter(registry, 'session_store_consistency_mismatches_total', { kind: 'missing_in_secondary' }),
      ).toBe(1);
      expect(await counter(registry, 'session_store_consistency_mismatches_total', { kind: 'data' })).toBe(1);
      expect(await counter(registry, 'session_store_consistency_checks_total')).toBe(3 + 5);
    } finally {
      sampler.stop();
      await Promise.all([p.close(), s.close()]);
    }
  });

  it('counts a round that fails as an error of the dual store, and the next round runs', async () => {
    const clock = new TestClock();
    const [p, s] = [primary.connect(clock), secondary.connect(clock)];
    const registry = new Registry();
    const metrics = createSessionStoreMetrics(registry);
    const broken = { ...s, sample: () => Promise.reject(new Error('secondary down')) };
    const sampler = startConsistencySampler({
      primary: p,
      secondary: broken,
      metrics,
      sampleSize: 10,
      intervalMs: 3_600_000,
      clock,
    });
    try {
      await sampler.sampleNow();
      await sampler.sampleNow();
      expect(await counter(registry, 'session_store_errors_total', { store: 'dual', op: 'consistency_sample' })).toBe(
        2,
      );
    } finally {
      sampler.stop();
      await Promise.all([p.close(), s.close()]);
    }
  });
});

describe('a pod in dual mode (createBackendFromSettings)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await testPostgres();
    const knex = createKnex({ client: 'pg', connection: database.url, pool: { min: 0, max: 1 } });
    await createSessionTable(knex, 'sessions');
    await knex.destroy();
  });
  afterAll(() => database.drop());

  const redis = testRedis();
  const settings = (sampleSeconds: number) => ({
    SESSION_SECRET: ['a'.repeat(32)],
    SESSION_STORE_DRIVER: 'dual' as const,
    SESSION_STORE_PRIMARY: 'redis' as const,
    SESSION_STORE_SECONDARY: 'knex' as const,
    SESSION_DUAL_READ_REPAIR: false,
    SESSION_DUAL_FALLBACK_ON_MISS: true,
    SESSION_CONSISTENCY_SAMPLE_SECONDS: sampleSeconds,
    SESSION_CONSISTENCY_SAMPLE_SIZE: 20,
    SESSION_TABLE_NAME: 'sessions',
    SESSION_KNEX_CLIENT: 'pg' as const,
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.prefix,
    DYNAMODB_SESSION_TABLE: 'sessions',
    DYNAMODB_TABLE_PREFIX: 'unused-',
    DYNAMODB_CONSISTENT_READ: true,
    AWS_REGION: 'eu-west-1',
    SESSION_IDLE_TIMEOUT_SECONDS: 1800,
  });

  it('samples on its own timer and reports a session the secondary lacks', async () => {
    const registry = new Registry();
    const built = createBackendFromSettings(settings(1), { metrics: createSessionStoreMetrics(registry) });
    try {
      const clock = new TestClock();
      await built.stores.redis!.put(record('f'.repeat(64), clock));
      for (
        let attempt = 0;
        attempt < 50 && (await counter(registry, 'session_store_consistency_mismatches_total')) === 0;
        attempt++
      )
        await sleep(100);
      expect(
        await counter(registry, 'session_store_consistency_mismatches_total', { kind: 'missing_in_secondary' }),
      ).toBeGreaterThanOrEqual(1);
    } finally {
      await built.close();
    }
  });

  it('does not sample when SESSION_CONSISTENCY_SAMPLE_SECONDS is 0', async () => {
    const registry = new Registry();
    const built = createBackendFromSettings(settings(0), { metrics: createSessionStoreMetrics(registry) });
    try {
      await sleep(1500);
      expect(await counter(registry, 'session_store_consistency_checks_total')).toBe(0);
    } finally {
      await built.close();
    }
  });
});
