// `dual` with a store going down: dedicated servers (stopped and restarted) beside the shared
// ones, metrics read from a registry of the test's own.
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import {
  createDualBackend,
  createSessionStore,
  createSessionStoreMetrics,
  instrumentBackend,
  type DualBackendOptions,
  type SessionBackend,
} from '@portcullis/session-store';
import { createSessionIdHasher } from '@portcullis/crypto';
import { startPostgres, startRedis, type ServerHandle } from '../../../test/support/index.js';
import { realStores, redisStore, type RealStore, type StoreKind } from './backends.js';
import { newId, TestClock } from './contract.js';

const stores = realStores();
afterAll(() => stores.dispose());
/** Closes what a test opened even when it fails, so no client keeps jest alive. */
const opened: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close().catch(() => undefined);
});
/** Two stores for one test, dropped after it. */
async function twoStores(primary: Promise<RealStore>, secondary: Promise<RealStore>): Promise<[RealStore, RealStore]> {
  const pair = await Promise.all([primary, secondary]);
  opened.push(async () => void (await Promise.all(pair.map((store) => store.drop()))));
  return pair;
}
const hashers = [createSessionIdHasher('faults-secret-0123456789abcdefghijklmnopqr')];

/** Sum of a counter's or gauge's values whose labels include `labels`. */
async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = registry.getSingleMetric(name);
  if (!found) throw new Error(`metric ${name} is not registered`);
  const { values } = await found.get();
  return values
    .filter((value) => Object.entries(labels).every(([key, want]) => value.labels[key] === want))
    .reduce((sum, value) => sum + value.value, 0);
}

/** Polls at most `tries` times, `intervalMs` apart. */
async function waitUntil(
  condition: () => Promise<boolean>,
  what: string,
  tries = 100,
  intervalMs = 100,
): Promise<void> {
  for (let attempt = 0; attempt < tries; attempt++) {
    if (await condition()) return;
    await sleep(intervalMs);
  }
  throw new Error(`gave up after ${tries} tries waiting until ${what}`);
}

/** A dual store over two real stores, as one pod builds it, with metrics in a registry of its own. */
function pod(primary: RealStore, secondary: RealStore, clock: TestClock, options: Partial<DualBackendOptions> = {}) {
  const registry = new Registry();
  const metrics = createSessionStoreMetrics(registry);
  const backend = createDualBackend({
    primary: instrumentBackend(primary.connect(clock), metrics),
    secondary: instrumentBackend(secondary.connect(clock), metrics),
    metrics,
    clock,
    fallbackOnMiss: false,
    secondaryTimeoutMs: 300,
    repairIntervalMs: 3_600_000,
    ...options,
  });
  opened.push(() => backend.close());
  return { registry, backend, store: createSessionStore({ backend, hashers, clock }) };
}

/** Each hash's copy in the primary and in the secondary, read through fresh connections. */
async function copies(primary: RealStore, secondary: RealStore, clock: TestClock, hashes: string[]) {
  const [p, s] = [primary.connect(clock), secondary.connect(clock)];
  try {
    return {
      primary: await Promise.all(hashes.map((hash) => p.get(hash))),
      secondary: await Promise.all(hashes.map((hash) => s.get(hash))),
    };
  } finally {
    await Promise.all([p.close(), s.close()]);
  }
}

const dedicated: [StoreKind, StoreKind, () => Promise<ServerHandle>][] = [
  ['knex', 'redis', startRedis],
  ['redis', 'knex', startPostgres],
];

describe.each(dedicated)('dual (%s primary) while its %s secondary is down', (primaryKind, secondaryKind, start) => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server.dispose());
  const onServer = (): Promise<RealStore> =>
    secondaryKind === 'redis' ? Promise.resolve(redisStore(server.url)) : stores.knexOn(server.url);

  it('fails no request, counts every secondary failure, and repairs the secondary, deletes included, once it returns', async () => {
    const clock = new TestClock();
    const [primary, secondary] = await twoStores(stores.create(primaryKind), onServer());
    const { registry, store } = pod(primary, secondary, clock, { repairIntervalMs: 100 });
    const before = Array.from({ length: 8 }, newId);
    for (const [i, id] of before.entries()) await store.set(id, { userId: `admin-${i % 2}`, n: i }, 60_000);

    await server.stop();
    const created = Array.from({ length: 4 }, newId);
    // Waves of independent requests; a wave starts once the previous one is over, as a user's requests do.
    const waves: (() => Promise<unknown>)[][] = [
      [
        ...created.map((id) => () => store.set(id, { userId: 'admin-0', n: 'new' }, 60_000)),
        () => store.set(before[0]!, { userId: 'admin-0', n: 'rolled' }, 60_000),
        () => store.set(before[1]!, { userId: 'admin-1', n: 'rolled' }, 60_000),
      ],
      [() => store.destroy(before[2]!), () => store.destroyByUser('admin-1')],
      [...before, ...created].map((id) => () => store.get(id)),
    ];
    const outcomes: PromiseSettledResult<unknown>[] = [];
    for (const wave of waves) outcomes.push(...(await Promise.allSettled(wave.map((request) => request()))));
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    expect(await store.get(before[0]!)).toEqual({ userId: 'admin-0', n: 'rolled' });
    expect(await store.get(before[1]!)).toBeUndefined();

    const failures = (op: string) =>
      metric(registry, 'session_store_dual_write_failures_total', { store: secondaryKind, op });
    expect([await failures('put'), await failures('delete'), await failures('deleteByUser')]).toEqual([6, 1, 1]);
    expect(await metric(registry, 'session_store_repair_queue_depth')).toBe(8);

    await server.restart();
    await waitUntil(
      async () => (await metric(registry, 'session_store_repair_queue_depth')) === 0,
      'the repair queue drained',
    );
    expect(await metric(registry, 'session_store_repairs_total')).toBe(8);

    const hashes = [...before, ...created].map((id) => store.hashOf(id));
    const both = await copies(primary, secondary, clock, hashes);
    expect(both.secondary).toEqual(both.primary);
    expect(both.primary.filter(Boolean)).toHaveLength(7); // 12 made, before[2] and admin-1's four gone
  });
});

describe('dual while its primary is down', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(() => server.dispose());

  it('reads from the secondary, counting each fallback and each primary error, until the primary returns', async () => {
    const clock = new TestClock();
    const [primary, secondary] = await twoStores(stores.knexOn(server.url), stores.create('redis'));
    const { registry, store } = pod(primary, secondary, clock);
    const ids = Array.from({ length: 5 }, newId);
    for (const id of ids) await store.set(id, { userId: 'admin-1', id }, 60_000);

    await server.stop();
    for (const id of ids) expect(await store.get(id)).toEqual({ userId: 'admin-1', id });
    // Neither store can say the session does not exist: an error, not a silent logout.
    await expect(store.get(newId())).rejects.toThrow();
    expect(await metric(registry, 'session_store_read_fallbacks_total', { reason: 'primary_error' })).toBe(5);
    expect(await metric(registry, 'session_store_errors_total', { store: 'knex', op: 'get' })).toBe(6);
    expect(await metric(registry, 'session_store_errors_total', { store: 'redis' })).toBe(0);

    await server.restart();
    for (const id of ids) expect(await store.get(id)).toEqual({ userId: 'admin-1', id });
    expect(await metric(registry, 'session_store_read_fallbacks_total')).toBe(5);
  });
});

describe('a logout whose secondary delete failed (fallback on miss on)', () => {
  let server: ServerHandle;
  let clock: TestClock;
  let primary: RealStore;
  let secondary: RealStore;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(() => server.dispose());

  /** Signs in on pod `one`, logs out there while the secondary is down, and brings the secondary back. */
  async function logoutDuringOutage(one: ReturnType<typeof pod>) {
    const id = newId();
    await one.store.set(id, { userId: 'admin-1' }, 60_000);
    await server.stop();
    await one.store.destroy(id);
    await server.restart();
    const left = await copies(primary, secondary, clock, [one.store.hashOf(id)]);
    expect([left.primary[0], left.secondary[0]?.userId]).toEqual([undefined, 'admin-1']);
    return id;
  }

  beforeEach(async () => {
    clock = new TestClock();
    [primary, secondary] = await twoStores(stores.create('redis'), stores.knexOn(server.url));
  });

  it('is never served again by the pod that logged out, even before its repair runs', async () => {
    const one = pod(primary, secondary, clock, { fallbackOnMiss: true });
    const id = await logoutDuringOutage(one);
    expect(await one.store.get(id)).toBeUndefined();
    expect(await one.store.listByUser('admin-1')).toEqual([]);
    await one.backend.repairs.drain();
    expect((await copies(primary, secondary, clock, [one.store.hashOf(id)])).secondary).toEqual([undefined]);
  });

  it('is served by another pod until the repair runs, and for good once read repair copied it back (keep SESSION_DUAL_READ_REPAIR off)', async () => {
    const one = pod(primary, secondary, clock, { fallbackOnMiss: true });
    const other = pod(primary, secondary, clock, { fallbackOnMiss: true });
    const repairing = pod(primary, secondary, clock, { fallbackOnMiss: true, readRepair: true });
    const first = await logoutDuringOutage(one);
    expect(await other.store.get(first)).toEqual({ userId: 'admin-1' }); // until one's repair runs
    await one.backend.repairs.drain();
    expect(await other.store.get(first)).toBeUndefined();

    const second = await logoutDuringOutage(one);
    expect(await repairing.store.get(second)).toEqual({ userId: 'admin-1' }); // copied back into the primary
    await one.backend.repairs.drain();
    expect(await other.store.get(second)).toEqual({ userId: 'admin-1' }); // the logout is undone in both stores
  });
});

describe('the repair queue', () => {
  it('does not undo a logout that lands while the repair of that session is in flight', async () => {
    const clock = new TestClock();
    const [primary, secondary] = await twoStores(stores.create('knex'), stores.create('redis'));
    const [p, s] = [primary.connect(clock), secondary.connect(clock)];
    opened.push(async () => void (await Promise.all([p.close(), s.close()])));
    let failPuts = true;
    let afterNextRead: (() => Promise<void>) | undefined;
    // The primary runs a hook between answering a read and handing the answer back: a request
    // landing between the repair's read and its write.
    const hookedPrimary: SessionBackend = {
      ...p,
      async get(hash) {
        const record = await p.get(hash);
        const hook = afterNextRead;
        afterNextRead = undefined;
        await hook?.();
        return record;
      },
    };
    const flakySecondary: SessionBackend = {
      ...s,
      put: (record) => (failPuts ? Promise.reject(new Error('network blip')) : s.put(record)),
    };
    const backend = createDualBackend({
      primary: hookedPrimary,
      secondary: flakySecondary,
      clock,
      repairIntervalMs: 3_600_000,
    });
    opened.push(() => backend.close());
    const store = createSessionStore({ backend, hashers, clock });

    const id = newId();
    await store.set(id, { userId: 'admin-1' }, 60_000);
    expect(backend.repairs.depth).toBe(1);
    failPuts = false;
    afterNextRead = () => store.destroy(id);
    expect(await backend.repairs.drain()).toBe(1);
    expect(await s.get(store.hashOf(id))).toBeUndefined();
    expect(await p.get(store.hashOf(id))).toBeUndefined();
  });
});
