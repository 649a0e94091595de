import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { createRedisBackend, type Clock, type SessionRecord } from '@portcullis/session-store';
import { testRedis } from '../../../test/support/index.js';
import { findBinary, freePort, LOOPBACK } from '../../../test/infra/process.js';
import { probeRedis } from '../../../test/infra/redis.js';
import { launchLocal, startFirstAvailable, type ServerHandle } from '../../../test/infra/server.js';
import { serverDir } from '../../../test/infra/state.js';
import { dropPrefix } from './backends.js';
import { runSessionStoreContract, TestClock, type ContractFixture } from './contract.js';

async function fixture(url: string, keyPrefix: string, clock: Clock): Promise<ContractFixture> {
  const backend = createRedisBackend({ url, keyPrefix, clock });
  return {
    backend,
    cleanup: async () => {
      await dropPrefix(url, keyPrefix);
      await backend.close();
    },
  };
}

runSessionStoreContract('redis', (clock) => {
  const { url, prefix } = testRedis();
  return fixture(url, prefix, clock);
});

/**
 * A one-node Redis Cluster owning all 16384 slots. It refuses cross-slot commands and
 * scripts exactly as a real cluster does, so passing the contract on it shows the key layout
 * is cluster-safe; a plain client suffices because the one node serves every slot.
 */
async function startClusterNode(): Promise<ServerHandle> {
  const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--save', '', '--appendonly', 'no'];
  const binary = findBinary(['redis-server'], ['/usr/sbin', '/opt/homebrew/bin']);
  const node = await startFirstAvailable({
    local: binary
      ? async () => {
          const dir = serverDir('redis-cluster');
          const port = await freePort();
          const url = `redis://${LOOPBACK}:${port}`;
          const command = [...args, '--port', String(port), '--bind', LOOPBACK, '--dir', dir, '--logfile', ''];
          return launchLocal({
            name: 'redis-cluster',
            dir,
            port,
            url,
            command: binary,
            args: command,
            ready: probeRedis,
          });
        }
      : undefined,
    container: {
      name: 'redis-cluster',
      image: 'redis:7-alpine',
      port: 6379,
      command: ['redis-server', ...args],
      url: (host, port) => `redis://${host}:${port}`,
      ready: probeRedis,
    },
    missing: 'Redis not found: run scripts/setup.sh',
  });
  const admin = new Redis(node.url);
  try {
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    for (let tries = 0; !String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'); tries++) {
      if (tries > 100) throw new Error('the one-node Redis Cluster did not reach cluster_state:ok');
      await sleep(50);
    }
  } finally {
    await admin.quit();
  }
  return node;
}

let clusterNode: Promise<ServerHandle> | undefined;
afterAll(async () => {
  await (await clusterNode)?.dispose();
});

/** `t_x:` → `{t_x}:`: the whole prefix becomes the hash tag, so every key lands in one slot. */
const tagged = (prefix: string) => `{${prefix.slice(0, -1)}}:`;

runSessionStoreContract('redis (cluster mode, hash-tagged prefix)', async (clock) => {
  clusterNode ??= startClusterNode();
  return fixture((await clusterNode).url, tagged(testRedis().prefix), clock);
});

describe('redis driver', () => {
  let clock: TestClock;
  let url: string;
  let prefix: string;
  let redis: Redis;
  beforeEach(() => {
    clock = new TestClock();
    ({ url, prefix } = testRedis());
    redis = new Redis(url);
  });
  afterEach(async () => {
    await dropPrefix(url, prefix);
    await redis.quit();
  });
  const record = (hash: string, userId: string | null, ttlMs: number): SessionRecord => ({
    hash,
    userId,
    data: '{}',
    expiresAt: clock.now() + ttlMs,
  });

  it('keeps each record, the per-user index and by-expiry under the documented keys', async () => {
    const backend = createRedisBackend({ url, keyPrefix: prefix, clock });
    await backend.put(record('a'.repeat(64), 'admin-1', 60_000));
    expect((await redis.keys(`${prefix}*`)).sort()).toEqual([
      `${prefix}by-expiry`,
      `${prefix}s:${'a'.repeat(64)}`,
      `${prefix}u:admin-1`,
    ]);
    const ttl = await redis.pttl(`${prefix}s:${'a'.repeat(64)}`);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await backend.close();
  });

  it('gives the per-user index a TTL no longer than its longest session, and shortens it when that session goes', async () => {
    const backend = createRedisBackend({ url, keyPrefix: prefix, clock });
    const index = `${prefix}u:admin-1`;
    await backend.put(record('a'.repeat(64), 'admin-1', 60_000));
    await backend.put(record('b'.repeat(64), 'admin-1', 120_000));
    expect(await redis.pttl(index)).toBeGreaterThan(115_000);
    expect(await redis.pttl(index)).toBeLessThanOrEqual(120_000);

    await backend.delete('b'.repeat(64));
    expect(await redis.pttl(index)).toBeGreaterThan(55_000);
    expect(await redis.pttl(index)).toBeLessThanOrEqual(60_000);

    await backend.put(record('a'.repeat(64), 'admin-2', 30_000));
    expect(await redis.exists(index)).toBe(0);
    expect(await redis.pttl(`${prefix}u:admin-2`)).toBeLessThanOrEqual(30_000);
    await backend.close();
  });

  it('drops stale per-user entries on the next write, so an index never holds long-dead sessions', async () => {
    const backend = createRedisBackend({ url, keyPrefix: prefix, clock });
    await backend.put(record('a'.repeat(64), 'admin-1', 1000));
    clock.advance(5000);
    await backend.put(record('b'.repeat(64), 'admin-1', 60_000));
    expect(await redis.zrange(`${prefix}u:admin-1`, '0', '-1')).toEqual(['b'.repeat(64)]);
    await backend.close();
  });

  it('moves the index entry even when the new owner id is a byte prefix of the old one (the same-owner shortcut compares whole headers)', async () => {
    const backend = createRedisBackend({ url, keyPrefix: prefix, clock });
    const hash = 'c'.repeat(64);
    const members = async (userId: string) => redis.zrange(`${prefix}u:${userId}`, '0', '-1');
    // Two-byte letters: a length counted in UTF-16 units instead of bytes would cut the header short.
    for (const [from, to] of [
      ['ää,"12', 'ää,"1'],
      ['ää,"1', 'ää,"1\\'],
      [null, 'null'],
    ] as const) {
      await backend.put(record(hash, from, 60_000));
      await backend.put(record(hash, to, 60_000));
      if (from !== null) expect(await members(from)).toEqual([]);
      expect(await members(to)).toEqual([hash]);
    }
    await backend.close();
  });
  it('stores nothing for a write that is already expired instead of sending a non-positive PX', async () => {
    const backend = createRedisBackend({ url, keyPrefix: prefix, clock });
    await backend.put(record('a'.repeat(64), 'admin-1', 60_000));
    await backend.put(record('a'.repeat(64), 'admin-1', 0));
    expect(await backend.get('a'.repeat(64))).toBeUndefined();
    expect(await redis.keys(`${prefix}*`)).toEqual([]);
    await backend.close();
  });

  it('removes stale by-expiry members in bounded batches, one batch per write', async () => {
    const backend = createRedisBackend({ url, keyPrefix: prefix, clock, sweepBatch: 5 });
    for (let i = 0; i < 12; i++) await backend.put(record(i.toString(16).padStart(64, '0'), null, 1000));
    clock.advance(2000);
    expect(await backend.count()).toEqual({ live: 0, expired: 12, exact: true });
    await backend.put(record('f'.repeat(64), null, 60_000));
    expect(await backend.count()).toEqual({ live: 1, expired: 7, exact: true });
    await backend.put(record('e'.repeat(64), null, 60_000));
    await backend.put(record('d'.repeat(64), null, 60_000));
    expect(await backend.count()).toEqual({ live: 3, expired: 0, exact: true });
    await backend.close();
  });

  it('refuses a Redis Cluster client whose key prefix has no hash tag, and an ioredis keyPrefix', async () => {
    const cluster = new Cluster([{ host: LOOPBACK, port: 1 }], { lazyConnect: true });
    expect(() => createRedisBackend({ client: cluster, keyPrefix: 'sessions:' })).toThrow(
      /hash tag such as "\{sessions\}:"/,
    );
    expect(() => createRedisBackend({ client: cluster, keyPrefix: '{sessions}:' })).not.toThrow();
    cluster.disconnect();
    const prefixed = new Redis(url, { keyPrefix: 'x:', lazyConnect: true });
    expect(() => createRedisBackend({ client: prefixed, keyPrefix: prefix })).toThrow(/not to the ioredis client/);
    prefixed.disconnect();
  });

  it('is refused by a cluster node without a hash tag (why the tag is required)', async () => {
    clusterNode ??= startClusterNode();
    const backend = createRedisBackend({ url: (await clusterNode).url, keyPrefix: prefix, clock });
    await expect(backend.put(record('a'.repeat(64), 'admin-1', 60_000))).rejects.toThrow(/CROSSSLOT|same slot/);
    await backend.close();
  });
});
