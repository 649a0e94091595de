// Redis for tests: a redis-server on a free loopback port with its dump in a temp dir.
import { Redis } from 'ioredis';
import { findBinary, freePort, LOOPBACK } from './process.js';
import { launchLocal, startFirstAvailable, type ServerHandle } from './server.js';
import { serverDir } from './state.js';

/** PING with a real client that does not retry; throws while the server is not ready. */
export async function probeRedis(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {
    // reported through connect()/ping() below
  });
  try {
    await client.connect();
    await client.ping();
  } finally {
    client.disconnect();
  }
}

async function startLocal(binary: string): Promise<ServerHandle> {
  const dir = serverDir('redis');
  const port = await freePort();
  return launchLocal({
    name: 'redis',
    dir,
    port,
    url: `redis://${LOOPBACK}:${port}`,
    command: binary,
    // A save point makes SIGTERM write dump.rdb, so restart() comes back with the same keys
    // (fault tests: sessions survive a Redis restart). No AOF: nothing else needs durability.
    args: [
      '--port',
      String(port),
      '--bind',
      LOOPBACK,
      '--dir',
      dir,
      '--save',
      '3600 1',
      '--appendonly',
      'no',
      '--logfile',
      '',
    ],
    ready: probeRedis,
  });
}

/** A dedicated Redis server: local binary, else a container, else an error. */
export function startRedis(): Promise<ServerHandle> {
  const binary = findBinary(['redis-server'], ['/usr/sbin', '/opt/homebrew/bin']);
  return startFirstAvailable({
    local: binary ? () => startLocal(binary) : undefined,
    container: {
      name: 'redis',
      image: 'redis:7-alpine',
      port: 6379,
      url: (host, port) => `redis://${host}:${port}`,
      ready: probeRedis,
    },
    missing: 'Redis not found: run scripts/setup.sh or set PORTCULLIS_TEST_REDIS_URL',
  });
}
