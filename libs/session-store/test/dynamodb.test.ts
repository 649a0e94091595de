// The DynamoDB driver against moto's server (not DynamoDB Local: see docs/testing.md), one
// table per test. Throttling is injected by an SDK middleware in front of the real server.
import {
  DeleteTableCommand,
  DynamoDBServiceException,
  GetItemCommand,
  QueryCommand,
  type DeleteItemCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import {
  createDynamoBackend,
  createDynamoClient,
  createDynamoSessionTable,
  DYNAMO_MAX_DATA_BYTES,
  type DynamoBackendOptions,
} from '@portcullis/session-store';
import { testDynamo } from '../../../test/support/index.js';
import { runSessionStoreContract, TestClock } from './contract.js';

const dynamo = testDynamo();
const clientConfig = { endpoint: dynamo.endpoint, region: dynamo.region, credentials: dynamo.credentials };
const hashOf = () => randomBytes(32).toString('hex');

/** A fresh session table and a backend on it; cleanup deletes the table and closes the client. */
async function freshBackend(options: Omit<DynamoBackendOptions, 'client' | 'tableName'> = {}) {
  const client = createDynamoClient(clientConfig);
  const tableName = `${dynamo.tablePrefix}${randomBytes(4).toString('hex')}`;
  await createDynamoSessionTable(client, { tableName, billingMode: 'PAY_PER_REQUEST' });
  const backend = createDynamoBackend({ client, tableName, ...options });
  const cleanup = async () => {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
    await backend.close();
  };
  return { client, tableName, backend, cleanup };
}

runSessionStoreContract('dynamodb', async (clock) => freshBackend({ clock, consistentRead: true }));

/** Makes the next k requests of the client fail as DynamoDB does when it throttles. */
function throttleNext(client: DynamoDBClient, k: number, name = 'ThrottlingException'): void {
  let remaining = k;
  client.middlewareStack.add(
    (next) => async (args) => {
      if (remaining > 0) {
        remaining -= 1;
        throw new DynamoDBServiceException({
          name,
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          message: 'Rate of requests exceeds the allowed throughput.',
        });
      }
      return next(args);
    },
    // Inside the SDK's retry middleware: had createDynamoClient left SDK retries on, they would
    // absorb these errors and onThrottle would count fewer than k.
    { step: 'deserialize', name: 'throttleNext' },
  );
}

describe('dynamodb driver', () => {
  let fixture: Awaited<ReturnType<typeof freshBackend>>;
  let clock: TestClock;
  let throttles: string[];
  const onThrottle = (operation: string) => void throttles.push(operation);
  beforeEach(async () => {
    clock = new TestClock();
    throttles = [];
    fixture = await freshBackend({ clock, onThrottle, maxAttempts: 3, retryBaseMs: 1 });
  });
  afterEach(() => fixture.cleanup());

  const record = (userId: string | null = 'admin-1', ttlMs = 60_000) => ({
    hash: hashOf(),
    userId,
    data: '{"userId":"admin-1"}',
    expiresAt: clock.now() + ttlMs,
  });

  it.each(['ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded'])(
    'retries a request throttled with %s and counts every throttle',
    async (name) => {
      const stored = record();
      throttleNext(fixture.client, 2, name);
      await fixture.backend.put(stored);
      expect(throttles).toEqual(['put', 'put']);
      expect(await fixture.backend.get(stored.hash)).toEqual(stored);
    },
  );

  it('surfaces the throttling error once maxAttempts attempts were throttled', async () => {
    throttleNext(fixture.client, 5);
    await expect(fixture.backend.get(hashOf())).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(throttles).toEqual(['get', 'get', 'get']);
    fixture.client.middlewareStack.remove('throttleNext');
  });

  it('does not retry an error that retrying cannot fix', async () => {
    const missing = createDynamoBackend({
      client: createDynamoClient(clientConfig),
      tableName: `${dynamo.tablePrefix}missing`,
      onThrottle,
      maxAttempts: 3,
    });
    await expect(missing.get(hashOf())).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { attempts: 1 },
    });
    expect(throttles).toEqual([]);
    await missing.close();
  });

  it('does not revoke a session that moved to another admin after the index was read', async () => {
    const [stays, moves] = [record(), record()];
    await fixture.backend.put(stays);
    await fixture.backend.put(moves);
    // Between deleteByUser's index query and its delete of `moves`, the session changes owner:
    // what an eventually consistent index allows on real DynamoDB.
    fixture.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as DeleteItemCommandInput;
        if (context.commandName === 'DeleteItemCommand' && input.Key?.hash?.S === moves.hash)
          await fixture.backend.put({ ...moves, userId: 'admin-2' });
        return next(args);
      },
      { step: 'initialize', name: 'moveOwner' },
    );
    expect(await fixture.backend.deleteByUser('admin-1')).toBe(1);
    expect(await fixture.backend.get(stays.hash)).toBeUndefined();
    expect(await fixture.backend.get(moves.hash)).toMatchObject({ userId: 'admin-2' });
  });

  it('stores expiresAt in epoch seconds (rounded up) for TTL and the exact milliseconds beside it', async () => {
    const stored = { ...record(), expiresAt: 1_900_000_000_123 };
    await fixture.backend.put(stored);
    const { Item } = await fixture.client.send(
      new GetItemCommand({ TableName: fixture.tableName, Key: { hash: { S: stored.hash } } }),
    );
    expect(Item).toMatchObject({ expiresAt: { N: '1900000001' }, expiresAtMs: { N: '1900000000123' } });
    expect((await fixture.backend.get(stored.hash))?.expiresAt).toBe(1_900_000_000_123);
  });

  it('keeps sessions without an admin out of the byUser index', async () => {
    const anonymous = record(null);
    await fixture.backend.put(anonymous);
    await fixture.backend.put({ ...record(), hash: hashOf() });
    const { Items } = await fixture.client.send(
      new QueryCommand({
        TableName: fixture.tableName,
        IndexName: 'byUser',
        KeyConditionExpression: 'userId = :u',
        ExpressionAttributeValues: { ':u': { S: 'admin-1' } },
      }),
    );
    expect(Items?.map((item) => item.hash?.S)).not.toContain(anonymous.hash);
    expect(await fixture.backend.get(anonymous.hash)).toEqual(anonymous);
  });

  it('counts from the DescribeTable estimate, marked inexact, past exactCountThreshold', async () => {
    const small = createDynamoBackend({
      client: fixture.client,
      tableName: fixture.tableName,
      clock,
      exactCountThreshold: 2,
    });
    for (const ttl of [60_000, 60_000, 1000]) await fixture.backend.put(record('admin-1', ttl));
    clock.advance(1500);
    const counts = await small.count();
    expect(counts.exact).toBe(false);
    expect(counts.live + counts.expired).toBe(3);
    expect(await fixture.backend.count()).toEqual({ live: 2, expired: 1, exact: true });
  });

  it('samples distinct records from a random point, wrapping around to fill the sample', async () => {
    const hashes = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const stored = record();
      hashes.add(stored.hash);
      await fixture.backend.put(stored);
    }
    for (let round = 0; round < 5; round++) {
      const sample = await fixture.backend.sample(4);
      expect(sample).toHaveLength(4);
      expect(new Set(sample.map((one) => one.hash)).size).toBe(4);
      for (const one of sample) expect(hashes).toContain(one.hash);
    }
    expect(await fixture.backend.sample(50)).toHaveLength(10);
    expect(await fixture.backend.sample(0)).toEqual([]);
  });

  it('refuses a maxDataBytes past what a DynamoDB item can hold', () => {
    expect(() =>
      createDynamoBackend({
        client: fixture.client,
        tableName: fixture.tableName,
        maxDataBytes: DYNAMO_MAX_DATA_BYTES + 1,
      }),
    ).toThrow(/maxDataBytes/);
    expect(DYNAMO_MAX_DATA_BYTES).toBe(398_836);
  });
});
