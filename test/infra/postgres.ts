// PostgreSQL for tests: a throwaway cluster (initdb into a temp dir) on a free loopback port.
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { findBinary, freePort, LOOPBACK, runCommand, serverUser, versionedDirs } from './process.js';
import { launchLocal, startFirstAvailable, type ServerHandle } from './server.js';
import { serverDir } from './state.js';

// Debian keeps the server binaries off PATH, one directory per major version.
const SEARCH_DIRS = [...versionedDirs('/usr/lib/postgresql', 'bin'), '/usr/local/pgsql/bin', '/opt/homebrew/bin'];

// Durability is pointless for data that is deleted after the run; these settings roughly
// halve the time of DDL-heavy test set-ups.
const FAST_SETTINGS = [
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'shared_buffers=32MB',
  'max_connections=300',
];

/** Connects with a real client and runs a query; throws while the server is not ready. */
export async function probePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {
    // a server going away mid-probe must not become an unhandled 'error' event
  });
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function startLocal(initdb: string): Promise<ServerHandle> {
  // The real directory: a PATH symlink to initdb need not have postgres beside it.
  const binDir = dirname(realpathSync(initdb));
  const user = serverUser('postgres');
  const dir = serverDir('postgres', user);
  const data = join(dir, 'data');
  const port = await freePort();
  return launchLocal({
    name: 'postgres',
    dir,
    port,
    url: `postgres://postgres@${LOOPBACK}:${port}/postgres`,
    user,
    // trust auth is safe here: the server listens on 127.0.0.1 only and lives for one run.
    prepare: () =>
      runCommand({
        command: initdb,
        args: ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync'],
        cwd: dir,
        user,
      }),
    command: join(binDir, 'postgres'),
    args: [
      '-D',
      data,
      '-p',
      String(port),
      '-c',
      `listen_addresses=${LOOPBACK}`,
      '-c',
      `unix_socket_directories=${dir}`,
      ...FAST_SETTINGS.flatMap((s) => ['-c', s]),
    ],
    // SIGTERM is PostgreSQL's "smart" shutdown, which waits for every client (a pool in a
    // test) to disconnect; SIGINT is the "fast" one that closes them.
    stopSignal: 'SIGINT',
    ready: probePostgres,
  });
}

/** A dedicated PostgreSQL server: local binaries, else a container, else an error. */
export function startPostgres(): Promise<ServerHandle> {
  const initdb = findBinary(['initdb'], SEARCH_DIRS);
  return startFirstAvailable({
    local: initdb ? () => startLocal(initdb) : undefined,
    container: {
      name: 'postgres',
      image: 'postgres:15-alpine',
      port: 5432,
      env: { POSTGRES_HOST_AUTH_METHOD: 'trust' },
      command: ['postgres', ...FAST_SETTINGS.flatMap((s) => ['-c', s])],
      url: (host, port) => `postgres://postgres@${host}:${port}/postgres`,
      ready: probePostgres,
    },
    missing: 'PostgreSQL not found: run scripts/setup.sh or set PORTCULLIS_TEST_PG_URL',
  });
}
