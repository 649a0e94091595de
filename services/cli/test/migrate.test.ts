// `portcullis migrate` end to end on real PostgreSQL: what operators and the Helm Job see,
// exit codes included (docs/db-migration.md).
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { runCli } from '../src/program.js';
import { testPostgres, type TestDatabase } from '../../../test/support/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
let database: TestDatabase;

beforeEach(async () => {
  database = await testPostgres();
});

afterEach(() => database.drop());

async function cli(args: string[], env: Record<string, string | undefined> = { DATABASE_URL: database.url }) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(['migrate', ...args], {
    env,
    stdout: { write: (text: string) => stdout.push(text) },
    stderr: { write: (text: string) => stderr.push(text) },
  });
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

async function sql(text: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(text, values);
  } finally {
    await client.end();
  }
}

const insertTenant = (createdAt: string) =>
  sql(
    "insert into tenants (id, slug, name, created_at, updated_at) values (gen_random_uuid(), 'acme', 'Acme', $1, '2024-01-01T00:00:00Z')",
    [createdAt],
  );

test('migrate --plan prints the plan, bare migrate its help, and an unknown subcommand is a usage error', async () => {
  const plan = await cli(['--plan']);
  expect(plan.code).toBe(0);
  expect(plan.stdout).toMatch(
    /^Plan \(measured on this database; nothing was changed\):\n20261124000000_legacy_baseline\n/,
  );
  const help = await cli([]);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^Usage: portcullis migrate \[options\] \[command\]/);
  expect((await cli(['sideways'])).code).toBe(2);
});

test('every migrate subcommand has --help and exits 0 with it', async () => {
  for (const command of ['latest', 'up', 'down', 'status', 'plan']) {
    const { code, stdout } = await cli([command, '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Usage: portcullis migrate ${command}`));
  }
  const help = (await cli(['latest', '--help'])).stdout;
  for (const option of [
    '--contract',
    '--dry-run',
    '--legacy-time-zone <zone>',
    '--lock-timeout-ms <ms>',
    '--batch-ms <ms>',
    '--backup <mode>',
    '--wait-seconds <s>',
  ]) {
    expect(help).toContain(option);
  }
});

test('refuses to start without DATABASE_URL, in one sentence, with exit code 2', async () => {
  const { code, stderr } = await cli(['status'], {});
  expect(code).toBe(2);
  expect(stderr).toBe('portcullis: DATABASE_URL is required: set it in the environment (see docs/db-migration.md)\n');
});

test('latest on a fresh database applies every migration, taking no backup of empty tables', async () => {
  const latest = await cli(['latest']);
  expect(latest.code).toBe(0);
  expect(latest.stdout).toMatch(/^→ 20261124000000_legacy_baseline\n✓ 20261124000000_legacy_baseline applied in /);
  expect(latest.stdout).toContain('Backup: none (the tables are empty)\n');
});

test('latest applies every migration up to the contract one with progress lines, and status shows the result', async () => {
  await cli(['up']);
  await insertTenant('2024-03-01 12:34:56');
  const latest = await cli(['latest']);
  expect(latest.code).toBe(0);
  expect(latest.stdout).toMatch(
    /^→ 20261124000100_create_sessions_table\n✓ 20261124000100_create_sessions_table applied in /,
  );
  expect(latest.stdout).toMatch(
    /Backup: portcullis_backup_\d{14}\nTo get the original text back after the contract migration/,
  );
  expect(latest.stdout).toContain('  tenant_admin_mfa_reset_logs: swap\n');
  expect(latest.stdout).toMatch(
    /Stopped before 20261203000200_drop_legacy_timestamps: a contract migration; after verifying, run `portcullis migrate latest --contract`\nDone: \d+ migrations applied\.\n$/,
  );

  const status = await cli(['status']);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/^20261124000200_timestamps_to_timestamptz +done +\d{4}-\d\d-\d\dT/m);
  expect(status.stdout).toMatch(/^ {4}tenants: swapped, legacy time zone UTC, backup portcullis_backup_\d{14}$/m);
  expect(status.stdout).toMatch(/^20261203000200_drop_legacy_timestamps +needs --contract$/m);
  expect((await cli(['latest'])).stdout).toMatch(/Nothing to migrate: the database is up to date\.\n$/);
});

test('plan and latest --dry-run print the steps with an estimated total and change nothing', async () => {
  await cli(['up']);
  await insertTenant('1709296496');
  for (const args of [['plan'], ['latest', '--dry-run']]) {
    const { code, stdout } = await cli(args);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^Plan \(measured on this database; nothing was changed\):\n20261124000100_create_sessions_table\n/,
    );
    expect(stdout).toMatch(/ {2}backfill {2}tenants: 1 rows at [\d,]+ rows\/s \(measured on 1 rows\)/);
    expect(stdout).toMatch(/\nEstimated total: [\d.]+ s, plus lock retries while long transactions hold a table\n$/);
  }
  expect((await cli(['status'])).stdout).toMatch(/^20261124000100_create_sessions_table +pending$/m);
});

test('unparseable legacy values exit 4 with every row listed and one sentence', async () => {
  await cli(['up']);
  await insertTenant('next week');
  const { code, stderr } = await cli(['latest', '--legacy-time-zone', 'Europe/Paris']);
  expect(code).toBe(4);
  expect(stderr).toMatch(
    /^ {2}tenants id=[0-9a-f-]{36} created_at="next week"\nportcullis: 1 legacy timestamp value in tenants cannot be parsed, so no column was swapped: /,
  );
});

test('a runner that waits longer than --wait-seconds for another one exits 5', async () => {
  const holder = new pg.Client({ connectionString: database.url, application_name: 'other runner' });
  await holder.connect();
  try {
    await holder.query('select pg_advisory_lock(7150531254391817)');
    const { code, stdout, stderr } = await cli(['latest', '--wait-seconds', '1']);
    expect(code).toBe(5);
    expect(stdout).toMatch(/^Waiting for another migration runner \(pid \d+ "other runner".*\) to finish\n$/);
    expect(stderr).toMatch(
      /^portcullis: Another migration runner \(pid \d+ "other runner".*\) kept the migration lock for more than 1 s: let it finish, then run again\n$/,
    );
  } finally {
    await holder.end();
  }
});

test('a database that cannot be reached exits 1 naming the problem, not the URL', async () => {
  const { code, stderr } = await cli(['latest'], {
    DATABASE_URL: 'postgres://migrator:s3cret-password@127.0.0.1:1/portcullis',
  });
  expect(code).toBe(1);
  expect(stderr).toMatch(
    /^portcullis: Could not connect to the database in DATABASE_URL \(connect ECONNREFUSED 127\.0\.0\.1:1\): check the URL, the network and the credentials\n$/,
  );
  expect(stderr).not.toContain('s3cret');
});

test('the real command runs as the Helm Job would, down included', async () => {
  const run = (args: string[]) =>
    promisify(execFile)(
      process.execPath,
      ['--conditions=development', '--import', 'tsx', 'services/cli/src/main.ts', 'migrate', ...args],
      {
        cwd: root,
        env: { ...process.env, DATABASE_URL: database.url, SESSION_TABLE_NAME: 'admin_sessions' },
      },
    );
  await run(['up', '--backup', 'none']);
  const { stdout } = await run(['up']);
  expect(stdout).toMatch(/^→ 20261124000100_create_sessions_table\n✓ /);
  await sql('select 1 from admin_sessions');
  expect((await run(['down'])).stdout).toMatch(
    /^← 20261124000100_create_sessions_table\n✓ 20261124000100_create_sessions_table rolled back in .*\nDone\.\n$/,
  );
  // Three processes, each loading the TypeScript sources through tsx: 43 s was seen at load average 14.
}, 120_000);
