// The AWS API for tests, DynamoDB included: moto in server mode on a free loopback port.
// DynamoDB Local is deliberately not used (licence; see docs/testing.md).
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { MOTO_CREDENTIALS, MOTO_REGION } from './moto-account.js';
import { findBinary, freePort, LOOPBACK } from './process.js';
import { launchLocal, startFirstAvailable, type ServerHandle } from './server.js';
import { serverDir } from './state.js';

/** ListTables through the real SDK; throws while the server is not ready. */
export async function probeMoto(endpoint: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS, maxAttempts: 1 });
  try {
    await client.send(new ListTablesCommand({}));
  } finally {
    client.destroy();
  }
}

async function startLocal(binary: string): Promise<ServerHandle> {
  const dir = serverDir('moto');
  const port = await freePort();
  return launchLocal({
    name: 'moto',
    dir,
    port,
    url: `http://${LOOPBACK}:${port}`,
    command: binary,
    args: ['-H', LOOPBACK, '-p', String(port)],
    // Python buffers a redirected stdout; unbuffered, the log shows why a start failed.
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
    // Its state lives in memory, so there is nothing to flush, and its SIGTERM handler takes
    // ~0.3-0.6 s to exit (interpreter shutdown) where SIGKILL is immediate.
    stopSignal: 'SIGKILL',
    ready: probeMoto,
  });
}

/**
 * A dedicated moto server: local moto_server, else a container, else an error. moto keeps
 * its state in memory, so unlike the databases its restart() comes back empty.
 */
export function startMoto(): Promise<ServerHandle> {
  const binary = findBinary(['moto_server']);
  return startFirstAvailable({
    local: binary ? () => startLocal(binary) : undefined,
    container: {
      name: 'moto',
      image: 'motoserver/moto:5.2.1',
      port: 5000,
      url: (host, port) => `http://${host}:${port}`,
      ready: probeMoto,
    },
    missing: "moto not found: run scripts/setup.sh (pip install 'moto[server]') or set PORTCULLIS_TEST_AWS_ENDPOINT",
  });
}
