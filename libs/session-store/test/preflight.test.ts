// Preflight checks on real servers: each store's shape, reachability and a probe round trip,
// and the comparison of two deployments' session settings.
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import createKnex, { type Knex } from 'knex';
import {
  checkSessionStore,
  compareSessionConfigs,
  createDynamoClient,
  createDynamoSessionTable,
  createSessionTable,
  secretFingerprint,
  type PreflightCheck,
  type SessionConfigView,
  type SessionStoreSettings,
} from '@portcullis/session-store';
import {
  startRedis,
  testDynamo,
  testMysql,
  testPostgres,
  testRedis,
  type TestDatabase,
} from '../../../test/support/index.js';

const dynamo = testDynamo();
// The driver takes credentials from the SDK's default chain, as pods do (IRSA); here, moto's.
process.env.AWS_ACCESS_KEY_ID = dynamo.credentials.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = dynamo.credentials.secretAccessKey;

let pg: TestDatabase;
let maria: TestDatabase;
let knex: Knex;
beforeAll(async () => {
  [pg, maria] = await Promise.all([testPostgres(), testMysql()]);
  knex = createKnex({ client: 'pg', connection: pg.url, pool: { min: 0, max: 2 } });
});
afterAll(async () => {
  await knex.destroy();
  await Promise.all([pg.drop(), maria.drop()]);
});

const settings = (overrides: Partial<SessionStoreSettings> = {}): SessionStoreSettings => ({
  SESSION_SECRET: ['a'.repeat(32)],
  SESSION_STORE_DRIVER: 'knex',
  SESSION_DUAL_READ_REPAIR: false,
  SESSION_DUAL_FALLBACK_ON_MISS: true,
  SESSION_TABLE_NAME: 'sessions',
  SESSION_KNEX_CLIENT: 'pg',
  DATABASE_URL: pg.url,
  REDIS_URL: testRedis().url,
  REDIS_KEY_PREFIX: testRedis().prefix,
  DYNAMODB_SESSION_TABLE: 'sessions',
  DYNAMODB_TABLE_PREFIX: dynamo.tablePrefix,
  DYNAMODB_ENDPOINT: dynamo.endpoint,
  DYNAMODB_CONSISTENT_READ: true,
  AWS_REGION: dynamo.region,
  SESSION_IDLE_TIMEOUT_SECONDS: 1800,
  SESSION_CONSISTENCY_SAMPLE_SECONDS: 0,
  SESSION_CONSISTENCY_SAMPLE_SIZE: 50,
  ...overrides,
});

const verdicts = (checks: PreflightCheck[]) => Object.fromEntries(checks.map((check) => [check.name, check.ok]));
const failures = (checks: PreflightCheck[]) => checks.filter((check) => !check.ok).map((check) => check.detail);
const table = () => `sessions_${randomBytes(4).toString('hex')}`;

describe('knex', () => {
  it('fails on a missing table with a reason naming it and what to do', async () => {
    const name = table();
    const checks = await checkSessionStore('knex', settings({ SESSION_TABLE_NAME: name }));
    expect(verdicts(checks)).toEqual({ 'knex table': false });
    expect(failures(checks)[0]).toMatch(
      new RegExp(`Table "${name}" does not exist in 127\\.0\\.0\\.1:\\d+/${pg.database}: run the migrations`),
    );
  });

  it.each(['pg', 'mysql2'] as const)(
    "passes on the migration's table (%s) and leaves no probe session behind",
    async (client) => {
      const name = table();
      const db = client === 'pg' ? knex : createKnex({ client, connection: maria.url });
      await createSessionTable(db, name);
      const checks = await checkSessionStore(
        'knex',
        settings({
          SESSION_TABLE_NAME: name,
          SESSION_KNEX_CLIENT: client,
          ...(client === 'mysql2' ? { SESSION_DATABASE_URL: maria.url } : {}),
        }),
      );
      expect(verdicts(checks)).toEqual({ 'knex columns': true, 'knex indexes': true, 'knex probe': true });
      expect(await db(name).count({ n: '*' })).toEqual([{ n: client === 'pg' ? '0' : 0 }]);
      if (db !== knex) await db.destroy();
    },
  );

  it('fails on a hand-made table without the expires_at index and with a wrong column type', async () => {
    const name = table();
    await knex.schema.createTable(name, (t) => {
      t.specificType('hash', 'char(64)').primary();
      t.string('user_id').index();
      t.text('data');
      t.integer('expires_at');
      t.bigInteger('created_at');
      t.bigInteger('updated_at');
    });
    const checks = await checkSessionStore('knex', settings({ SESSION_TABLE_NAME: name }));
    expect(verdicts(checks)).toEqual({ 'knex columns': false, 'knex indexes': false });
    expect(failures(checks).join(' ')).toMatch(/expires_at \(integer\).*lacks: index on expires_at/);
  });

  it('fails with a sentence when the database cannot be reached', async () => {
    const checks = await checkSessionStore('knex', settings({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }));
    expect(verdicts(checks)).toEqual({ 'knex connection': false });
    expect(failures(checks)[0]).toMatch(/^Could not check 127\.0\.0\.1:1\/none: .*ECONNREFUSED/);
  });
});

describe('dynamodb', () => {
  const client = createDynamoClient({
    endpoint: dynamo.endpoint,
    region: dynamo.region,
    credentials: dynamo.credentials,
  });
  afterAll(() => client.destroy());

  it('passes on a table made by createDynamoSessionTable and prints its capacity', async () => {
    const name = table();
    await createDynamoSessionTable(client, {
      tableName: `${dynamo.tablePrefix}${name}`,
      billingMode: 'PROVISIONED',
      readCapacity: 7,
      writeCapacity: 3,
    });
    const checks = await checkSessionStore('dynamodb', settings({ DYNAMODB_SESSION_TABLE: name }));
    expect(verdicts(checks)).toEqual({
      'dynamodb table': true,
      'dynamodb ttl': true,
      'dynamodb capacity': true,
      'dynamodb probe': true,
    });
    expect(checks.find((check) => check.name === 'dynamodb capacity')?.detail).toBe('PROVISIONED: 7 RCU, 3 WCU.');
    await client.send(new DeleteTableCommand({ TableName: `${dynamo.tablePrefix}${name}` }));
  });

  it('fails on a table without time to live, and on a missing table', async () => {
    const name = table();
    await client.send(
      new CreateTableCommand({
        TableName: `${dynamo.tablePrefix}${name}`,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'hash', AttributeType: 'S' },
          { AttributeName: 'userId', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'hash', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byUser',
            KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
      }),
    );
    const checks = await checkSessionStore('dynamodb', settings({ DYNAMODB_SESSION_TABLE: name }));
    expect(verdicts(checks)).toMatchObject({
      'dynamodb table': true,
      'dynamodb ttl': false,
      'dynamodb capacity': true,
    });
    expect(failures(checks)).toEqual([
      expect.stringMatching(
        /^Time to live is DISABLED on table .*: expired sessions would never be deleted; enable it on "expiresAt"/,
      ),
    ]);
    expect(checks.find((check) => check.name === 'dynamodb capacity')?.detail).toBe('On-demand (PAY_PER_REQUEST).');
    await client.send(new DeleteTableCommand({ TableName: `${dynamo.tablePrefix}${name}` }));

    const missing = await checkSessionStore('dynamodb', settings({ DYNAMODB_SESSION_TABLE: 'absent' }));
    expect(failures(missing)).toEqual([expect.stringMatching(/does not exist: create it/)]);
  });
});

describe('redis', () => {
  it('passes on a Redis 7 with noeviction: PING, version, policy and a probe', async () => {
    const checks = await checkSessionStore('redis', settings());
    expect(verdicts(checks)).toEqual({ 'redis connection': true, 'redis eviction': true, 'redis probe': true });
    expect(checks[0]?.detail).toMatch(/^PING answered by Redis \d+\.\d+/);
  });

  it('fails when Redis may evict sessions, and when it cannot be reached, without hanging', async () => {
    const server = await startRedis();
    try {
      const admin = new Redis(server.url);
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await admin.quit();
      const checks = await checkSessionStore('redis', settings({ REDIS_URL: server.url }));
      expect(failures(checks)).toEqual([
        'maxmemory-policy is allkeys-lru: Redis would evict sessions (random sign-outs); set it to noeviction.',
      ]);
      await server.stop();
      const down = await checkSessionStore('redis', settings({ REDIS_URL: server.url }));
      expect(failures(down)).toEqual([expect.stringMatching(/^Could not reach Redis: connect ECONNREFUSED/)]);
    } finally {
      await server.dispose();
    }
  });
});

describe("two deployments' session settings", () => {
  const [s1, s2] = ['first-secret-0123456789abcdefghijklmnop', 'second-secret-0123456789abcdefghijklmno'];
  const view = (overrides: Partial<SessionConfigView> = {}): SessionConfigView => ({
    SESSION_SECRET: [s1, s2],
    SESSION_COOKIE_NAME: 'portcullis.sid',
    SESSION_IDLE_TIMEOUT_SECONDS: 1800,
    SESSION_ABSOLUTE_TIMEOUT_SECONDS: 43_200,
    NODE_ENV: 'production',
    ...overrides,
  });

  it('passes when secrets, cookie and timeouts agree', () => {
    expect(compareSessionConfigs(view(), view()).every((check) => check.ok)).toBe(true);
  });

  it('fails on a different SESSION_SECRET list, naming fingerprints and never a secret', () => {
    const checks = compareSessionConfigs(view(), view({ SESSION_SECRET: [s1] }));
    const [secrets] = failures(checks);
    expect(secrets).toMatch(/^The SESSION_SECRET lists differ \([0-9a-f]{12}, [0-9a-f]{12} here, [0-9a-f]{12} there\)/);
    expect(secrets).toContain(secretFingerprint(s2));
    expect(JSON.stringify(checks)).not.toMatch(/first-secret|second-secret/);
  });

  it('fails on the same secrets in another order, and on a different cookie or timeout', () => {
    expect(failures(compareSessionConfigs(view(), view({ SESSION_SECRET: [s2, s1] })))).toEqual([
      expect.stringMatching(/same SESSION_SECRET keys but in another order.*put the same one first/),
    ]);
    expect(failures(compareSessionConfigs(view(), view({ NODE_ENV: 'development' })))).toEqual([
      expect.stringMatching(/the session cookie name differs: __Host-portcullis.sid here, portcullis.sid there/),
    ]);
    expect(failures(compareSessionConfigs(view(), view({ SESSION_IDLE_TIMEOUT_SECONDS: 900 })))).toEqual([
      expect.stringMatching(/SESSION_IDLE_TIMEOUT_SECONDS differs: 1800 here, 900 there/),
    ]);
  });
});
