// `portcullis sessions backfill` and `verify` in-process, knex (PostgreSQL) → DynamoDB (moto),
// with the configuration read from a controlled environment as the services read theirs.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createKnex, { type Knex } from 'knex';
import {
  createDynamoBackend,
  createDynamoClient,
  createKnexBackend,
  createSessionTable,
  type SessionBackend,
  type SessionRecord,
} from '@portcullis/session-store';
import { cli, testEnvironment, type Environment } from './sessions-support.js';

let setup: Environment;
let knex: Knex;
let dir: string;
let knexStore: SessionBackend;
let dynamoStore: SessionBackend;
const live: SessionRecord[] = [];

beforeAll(async () => {
  setup = await testEnvironment();
  knex = createKnex({ client: 'pg', connection: setup.db.url, pool: { min: 0, max: 4 } });
  await createSessionTable(knex, 'sessions');
  dir = await mkdtemp(join(tmpdir(), 'sessions-cli-'));
  knexStore = createKnexBackend({ knex, tableName: 'sessions' });
  const now = Date.now();
  for (let n = 0; n < 40; n++)
    live.push({
      hash: randomBytes(32).toString('hex'),
      userId: `admin-${n % 6}`,
      data: JSON.stringify({ n }),
      expiresAt: now + 3_600_000 + n,
    });
  const expired = { hash: randomBytes(32).toString('hex'), userId: null, data: '{}', expiresAt: now - 1000 };
  await Promise.all([...live, expired].map((record) => knexStore.put(record)));
  expect((await cli(setup.env, 'sessions', 'create-dynamodb-table')).code).toBe(0);
  const { dynamo } = setup;
  dynamoStore = createDynamoBackend({
    client: createDynamoClient({ endpoint: dynamo.endpoint, region: dynamo.region, credentials: dynamo.credentials }),
    tableName: `${dynamo.tablePrefix}sessions`,
    consistentRead: true,
  });
});
afterAll(async () => {
  await dynamoStore.close();
  await knex.destroy();
  await setup.db.drop();
  await rm(dir, { recursive: true, force: true });
});

const backfill = (...extra: string[]) =>
  cli(setup.env, 'sessions', 'backfill', '--from', 'knex', '--to', 'dynamodb', ...extra);

describe('sessions backfill', () => {
  it('writes nothing in a dry run and says what it would copy', async () => {
    const { code, stdout } = await backfill('--dry-run');
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^Dry run of backfill knex → dynamodb complete in .*: 41 scanned, 40 to copy, 1 expired skipped/,
    );
    expect(await dynamoStore.get(live[0]!.hash)).toBeUndefined();
  });

  it('stops at --limit with a checkpoint, then a second run finishes from it without redoing a batch', async () => {
    const checkpoint = join(dir, 'knex-dynamodb.json');
    const first = await backfill(
      '--batch',
      '7',
      '--limit',
      '14',
      '--checkpoint',
      checkpoint,
      '--progress-every',
      '0.001',
    );
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      new RegExp(
        `stopped after --limit 14 .*: 14 scanned, 1[34] copied.*Continue with --checkpoint ${checkpoint} \\(cursor knex:[0-9a-f]{64}\\)`,
      ),
    );
    expect(first.stderr).toMatch(/^backfill knex → dynamodb: ~41 sessions in knex, batch 7, rate unlimited\/s\n/);
    expect(first.stderr).toMatch(
      /backfill knex → dynamodb: 7\/~41 \(17%\) scanned, [67] copied, .* records\/s, ETA .*; cursor knex:/,
    );
    const saved = JSON.parse(await readFile(checkpoint, 'utf8')) as { scanned: number; cursor: string; done: boolean };
    expect(saved).toMatchObject({ scanned: 14, done: false, from: 'knex', to: 'dynamodb' });

    const second = await backfill('--batch', '7', '--checkpoint', checkpoint);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(`resuming from ${saved.cursor}`);
    // Counts carry on from the checkpoint: 41 in all, each record read once across both runs.
    expect(second.stdout).toMatch(
      /^Backfill knex → dynamodb complete in .*: 41 scanned, 40 copied, 1 expired skipped, 0 kept/,
    );
    for (const record of live) expect(await dynamoStore.get(record.hash)).toEqual(record);
    expect(JSON.parse(await readFile(checkpoint, 'utf8'))).toEqual({
      scanned: 41,
      copied: 40,
      skippedExpired: 1,
      skippedNewer: 0,
      removed: 0,
      done: true,
      from: 'knex',
      to: 'dynamodb',
      updatedAt: expect.any(String),
    });

    const third = await backfill('--checkpoint', checkpoint);
    expect(third).toMatchObject({ code: 0, stdout: expect.stringContaining('already completed') });
    const other = await cli(
      setup.env,
      'sessions',
      'backfill',
      '--from',
      'redis',
      '--to',
      'dynamodb',
      '--checkpoint',
      checkpoint,
    );
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /belongs to a backfill knex → dynamodb, not redis → dynamodb; use another --checkpoint path/,
    );
  });

  it('exits 1 with a sentence and the way to resume when a store fails', async () => {
    const { code, stderr } = await cli(
      { ...setup.env, DYNAMODB_TABLE_PREFIX: 'missing-' },
      'sessions',
      'backfill',
      '--from',
      'knex',
      '--to',
      'dynamodb',
      '--batch',
      '5',
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /portcullis: Backfill knex → dynamodb failed after 0 records: .*\. Fix the cause and run again with --resume-from <the last cursor printed>/,
    );
  });
});

describe('sessions verify', () => {
  const verify = (env = setup.env, ...extra: string[]) =>
    cli(env, 'sessions', 'verify', '--from', 'knex', '--to', 'dynamodb', ...extra);

  it('says GO (exit 0) when the stores agree', async () => {
    const { code, stdout } = await verify();
    expect(code).toBe(0);
    expect(stdout).toMatch(/primary {3}knex: 40 live, 1 expired \(exact\); 41 sampled/);
    expect(stdout).toMatch(/compared 40 sessions, expiry tolerance 2000 ms\nGO: the sampled sessions agree\.\n$/);
  });

  it('says NO-GO (exit 3) with the reasons when a session is missing or its expiry differs', async () => {
    await dynamoStore.delete(live[0]!.hash);
    await dynamoStore.put({ ...live[1]!, expiresAt: live[1]!.expiresAt + 10_000 });
    const { code, stdout, stderr } = await verify();
    expect(code).toBe(3);
    expect(stdout).toMatch(/missing_in_secondary +[0-9a-f]{12}… is live in the primary and missing in the secondary\./);
    expect(stdout).toMatch(/expiry +[0-9a-f]{12}… expires 10000 ms later in the secondary/);
    expect(stderr).toMatch(
      /^portcullis: NO-GO for knex → dynamodb: 2 of 40 sampled sessions differ \(1 missing in secondary, 1 expiry\)/,
    );
    // A wider tolerance forgives the expiry but not the missing session.
    expect((await verify(setup.env, '--tolerance-ms', '20000')).stderr).toMatch(
      /1 of 40 sampled sessions differ \(1 missing in secondary\)/,
    );
    await dynamoStore.put(live[0]!);
    await dynamoStore.put(live[1]!);
  });

  it('exits 1 when it cannot check, and 2 on bad flags', async () => {
    const down = await verify({ ...setup.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /^portcullis: Could not compare knex with dynamodb: .*ECONNREFUSED.*Check both stores with sessions preflight/,
    );
    expect((await verify(setup.env, '--sample', '0')).stderr).toMatch(
      /option '--sample <n>' argument '0' is invalid\. It must be a whole number of at least 1\./,
    );
    const notDual = await cli(setup.env, 'sessions', 'verify');
    expect(notDual).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        'Name the stores with --from and --to: SESSION_STORE_DRIVER is memory, not dual.',
      ),
    });
  });
});
