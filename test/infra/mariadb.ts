// MariaDB for tests (the MySQL flavour of the knex session store): a throwaway datadir
// made by mariadb-install-db, on a free loopback port, with root@127.0.0.1 and no password.
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { findBinary, freePort, LOOPBACK, runCommand, serverUser } from './process.js';
import { launchLocal, startFirstAvailable, type ServerHandle } from './server.js';
import { serverDir } from './state.js';

const SEARCH_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin', '/opt/homebrew/bin'];

// Shared by install and server so both agree on the redo log size. The flush settings trade
// durability (useless for data deleted after the run) for speed.
const COMMON = ['--innodb-log-file-size=16M', '--innodb-buffer-pool-size=64M', '--skip-name-resolve'];
const FAST = [
  '--innodb-flush-log-at-trx-commit=0',
  '--innodb-doublewrite=0',
  '--skip-log-bin',
  '--performance-schema=OFF',
];

/** Connects with a real client and runs a query; throws while the server is not ready. */
export async function probeMysql(url: string): Promise<void> {
  const connection = await createConnection({ uri: url, connectTimeout: 2000 });
  try {
    await connection.query('select 1');
  } finally {
    await connection.end().catch(() => undefined);
  }
}

async function startLocal(server: string, installDb: string): Promise<ServerHandle> {
  const user = serverUser('mysql');
  const dir = serverDir('mariadb', user);
  const data = join(dir, 'data');
  const port = await freePort();
  return launchLocal({
    name: 'mariadb',
    dir,
    port,
    url: `mysql://root@${LOOPBACK}:${port}/`,
    user,
    // "normal" root authentication creates root@localhost, root@127.0.0.1 and root@::1 with
    // full grants and no password: tests connect over TCP and may create databases and users
    // (so no --skip-grant-tables). Reachable from loopback only, for one run.
    prepare: () =>
      runCommand({
        command: installDb,
        args: [
          '--no-defaults',
          `--datadir=${data}`,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          ...COMMON,
        ],
        cwd: dir,
        user,
      }),
    command: server,
    args: [
      '--no-defaults',
      `--datadir=${data}`,
      `--socket=${join(dir, 'mysqld.sock')}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--port=${port}`,
      `--bind-address=${LOOPBACK}`,
      '--max-connections=300',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
      ...COMMON,
      ...FAST,
    ],
    ready: probeMysql,
  });
}

/** A dedicated MariaDB server: local binaries, else a container, else an error. */
export function startMariadb(): Promise<ServerHandle> {
  const server = findBinary(['mariadbd', 'mysqld'], SEARCH_DIRS);
  const installDb = findBinary(['mariadb-install-db', 'mysql_install_db'], SEARCH_DIRS);
  return startFirstAvailable({
    local: server && installDb ? () => startLocal(server, installDb) : undefined,
    container: {
      name: 'mariadb',
      image: 'mariadb:10.11',
      port: 3306,
      env: { MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1', MARIADB_ROOT_HOST: '%' },
      url: (host, port) => `mysql://root@${host}:${port}/`,
      ready: probeMysql,
    },
    missing: 'MariaDB not found: run scripts/setup.sh or set PORTCULLIS_TEST_MYSQL_URL',
  });
}
