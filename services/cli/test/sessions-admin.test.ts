// `portcullis sessions` help and flag errors, `create-dynamodb-table` and `preflight`,
// in-process against real servers with a controlled environment.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createKnex from 'knex';
import { createSessionTable, secretFingerprint } from '@portcullis/session-store';
import { cli, SECRET, testEnvironment, type Environment } from './sessions-support.js';

let setup: Environment;
let dir: string;
beforeAll(async () => {
  setup = await testEnvironment();
  dir = await mkdtemp(join(tmpdir(), 'sessions-cli-'));
});
afterAll(async () => {
  await setup.db.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('help and flags', () => {
  it.each(['', 'backfill', 'verify', 'create-dynamodb-table', 'preflight'])(
    'prints help for "sessions %s" and exits 0',
    async (command) => {
      const { code, stdout } = await cli({}, 'sessions', ...(command ? [command] : []), '--help');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Usage: portcullis sessions/);
    },
  );

  it.each([
    [['backfill', '--from', 'redis'], /required option '--to <store>' not specified/],
    [
      ['backfill', '--from', 'redis', '--to', 'mongo'],
      /option '--to <store>' argument 'mongo' is invalid\. Allowed choices are memory, redis, knex, dynamodb\./,
    ],
    [
      ['backfill', '--from', 'knex', '--to', 'redis', '--rate', 'fast'],
      /option '--rate <records\/s>' argument 'fast' is invalid\. It must be a number above 0\./,
    ],
    [
      ['backfill', '--from', 'knex', '--to', 'redis', '--batch', '1.5'],
      /option '--batch <n>' argument '1\.5' is invalid\. It must be a whole number of at least 1\./,
    ],
    [
      ['backfill', '--from', 'knex', '--to', 'knex'],
      /--from and --to name the same store; a backfill copies between two\./,
    ],
    [['verify', '--from', 'knex'], /sessions verify needs both stores: give --from and --to together\./],
    [
      ['verify', '--from', 'knex', '--primary', 'redis', '--to', 'dynamodb'],
      /--from and --primary are the same flag and disagree; give one\./,
    ],
    [
      ['create-dynamodb-table', '--billing-mode', 'PAY_PER_REQUEST', '--rcu', '5'],
      /--rcu and --wcu apply only with --billing-mode PROVISIONED\./,
    ],
    [['preflight', '--to', 'dynamodb'], /sessions preflight needs both stores: give --from and --to together\./],
    [['preflight', '--unknown'], /unknown option '--unknown'/],
  ])('exits 2 with a sentence on sessions %j', async (args, message) => {
    const { code, stderr } = await cli(setup.env, 'sessions', ...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('exits 2 naming the variable when the environment is incomplete', async () => {
    const { code, stderr } = await cli({ SESSION_SECRET: SECRET }, 'sessions', 'preflight');
    expect(code).toBe(2);
    expect(stderr).toContain('DATABASE_URL: is required');
  });
});

describe('sessions create-dynamodb-table', () => {
  it("creates the table from the environment's defaults, then leaves it as it is", async () => {
    const env = {
      ...setup.env,
      DYNAMODB_SESSION_TABLE: 'created',
      DYNAMODB_BILLING_MODE: 'PROVISIONED',
      DYNAMODB_READ_CAPACITY: '4',
      DYNAMODB_WRITE_CAPACITY: '2',
    };
    const name = `${setup.dynamo.tablePrefix}created`;
    const first = await cli(env, 'sessions', 'create-dynamodb-table');
    expect(first).toMatchObject({
      code: 0,
      stdout: `Created table "${name}" (PROVISIONED, 4 RCU / 2 WCU) with the byUser index; time to live enabled on expiresAt.\n`,
    });
    const again = await cli(env, 'sessions', 'create-dynamodb-table', '--billing-mode', 'PAY_PER_REQUEST');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(
      `Table "${name}" already exists and can hold sessions; kept as it is (PROVISIONED, 4 RCU / 2 WCU).\nTime to live was already enabled on expiresAt.\n` +
        "Note: it is PROVISIONED, not PAY_PER_REQUEST; this command never changes an existing table's capacity.\n",
    );
  });
});

describe('sessions preflight', () => {
  const env = () => ({ ...setup.env, DYNAMODB_SESSION_TABLE: 'preflight', SESSION_TABLE_NAME: 'preflight_sessions' });
  const preflight = (extra: Record<string, string> = {}, ...args: string[]) =>
    cli({ ...env(), ...extra }, 'sessions', 'preflight', '--from', 'knex', '--to', 'dynamodb', ...args);

  it('fails (exit 3) listing each check while the knex table and the DynamoDB table are missing', async () => {
    const { code, stdout, stderr } = await preflight();
    expect(code).toBe(3);
    expect(stdout).toMatch(/^sessions preflight: knex → dynamodb\n/);
    expect(stdout).toMatch(
      /\nFAIL {2}knex table +Table "preflight_sessions" does not exist in .*: run the migrations there before moving sessions to it\.\n/,
    );
    expect(stdout).toMatch(
      /\nFAIL {2}dynamodb table +Table ".*preflight" does not exist: create it with createDynamoSessionTable\./,
    );
    expect(stderr).toBe('portcullis: 2 of 3 preflight checks failed; fix them before moving sessions.\n');
  });

  it("passes (exit 0) once both tables are in place, and compares another deployment's env when given", async () => {
    const knex = createKnex({ client: 'pg', connection: setup.db.url });
    await createSessionTable(knex, 'preflight_sessions');
    await knex.destroy();
    expect((await cli(env(), 'sessions', 'create-dynamodb-table')).code).toBe(0);

    const passed = await preflight();
    expect(passed.code).toBe(0);
    expect(passed.stdout).toMatch(/ok {4}knex probe +A probe session was written, read back and deleted in \d+ ms\./);
    expect(passed.stdout).toMatch(/ok {4}dynamodb capacity +On-demand \(PAY_PER_REQUEST\)\./);
    expect(passed.stdout).toMatch(/All 8 checks passed\.\n$/);

    const other = join(dir, 'other.env');
    // SESSION_COOKIE_NAME left at its default: libs/config's own rule refuses the default
    // `portcullis.sid` when it is written out (the dot is not in its character class).
    await writeFile(
      other,
      `# the other deployment\nSESSION_SECRET=${SECRET}\nSESSION_ABSOLUTE_TIMEOUT_SECONDS=43200\n`,
    );
    const same = await preflight({}, '--other-env', other);
    expect(same.stdout).toMatch(/ok {4}config secrets +Both list the same 1 SESSION_SECRET key\(s\) in the same order/);

    const rotated = 'another-secret-only-the-other-side-has-0123';
    await writeFile(other, `SESSION_SECRET="${rotated},${SECRET}"\nSESSION_IDLE_TIMEOUT_SECONDS=900\n`);
    const mismatch = await preflight({}, '--other-env', other);
    expect(mismatch.code).toBe(3);
    expect(mismatch.stdout).toContain(
      `FAIL  config secrets           The SESSION_SECRET lists differ (${secretFingerprint(SECRET)} here, ${secretFingerprint(rotated)}, ${secretFingerprint(SECRET)} there)`,
    );
    expect(mismatch.stdout).toMatch(
      /FAIL {2}config idle timeout +SESSION_IDLE_TIMEOUT_SECONDS differs: 1800 here, 900 there/,
    );
    expect(mismatch.stdout + mismatch.stderr).not.toContain(SECRET);
    expect(mismatch.stdout + mismatch.stderr).not.toContain(rotated);

    await writeFile(other, 'SESSION_SECRET=short\n');
    expect(await preflight({}, '--other-env', other)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        /--other-env .*: SESSION_SECRET every secret in the list must be at least 32 characters\./,
      ),
    });
  });
});
