// Creating and describing the DynamoDB session table, against moto's server.
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { createDynamoClient, createDynamoSessionTable, describeDynamoSessionTable } from '@portcullis/session-store';
import { testDynamo } from '../../../test/support/index.js';

const dynamo = testDynamo();
const client = createDynamoClient({
  endpoint: dynamo.endpoint,
  region: dynamo.region,
  credentials: dynamo.credentials,
});
const created: string[] = [];
const newTableName = () => {
  const name = `${dynamo.tablePrefix}${randomBytes(4).toString('hex')}`;
  created.push(name);
  return name;
};

afterAll(async () => {
  await Promise.all(
    created.map((TableName) => client.send(new DeleteTableCommand({ TableName })).catch(() => undefined)),
  );
  client.destroy();
});

describe('createDynamoSessionTable', () => {
  it('creates an on-demand table keyed by the id hash, with the byUser index and TTL on expiresAt', async () => {
    const tableName = newTableName();
    const description = await createDynamoSessionTable(client, { tableName, billingMode: 'PAY_PER_REQUEST' });
    expect(description).toEqual({
      exists: true,
      keySchemaOk: true,
      gsiOk: true,
      ttlEnabled: true,
      ttlAttribute: 'expiresAt',
      billingMode: 'PAY_PER_REQUEST',
      readCapacity: null,
      writeCapacity: null,
      itemCountEstimate: 0,
      problems: [],
    });
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'hash', KeyType: 'HASH' }]);
    expect(Table?.GlobalSecondaryIndexes?.[0]).toMatchObject({
      IndexName: 'byUser',
      KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }],
      IndexStatus: 'ACTIVE',
    });
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
  });

  it('creates a provisioned table whose capacity, index included, is what was asked', async () => {
    const tableName = newTableName();
    const description = await createDynamoSessionTable(client, {
      tableName,
      billingMode: 'PROVISIONED',
      readCapacity: 7,
      writeCapacity: 3,
    });
    expect(description).toMatchObject({ billingMode: 'PROVISIONED', readCapacity: 7, writeCapacity: 3, problems: [] });
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.GlobalSecondaryIndexes?.[0]?.ProvisionedThroughput).toMatchObject({
      ReadCapacityUnits: 7,
      WriteCapacityUnits: 3,
    });
  });

  it('is idempotent: a second call keeps the table and what it holds', async () => {
    const tableName = newTableName();
    const first = await createDynamoSessionTable(client, { tableName, billingMode: 'PAY_PER_REQUEST' });
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { hash: { S: 'h1' }, data: { S: '{}' }, expiresAt: { N: '1' }, expiresAtMs: { N: '1000' } },
      }),
    );
    const second = await createDynamoSessionTable(client, { tableName, billingMode: 'PAY_PER_REQUEST' });
    expect(second).toEqual({ ...first, itemCountEstimate: 1 });
    expect(
      (await client.send(new GetItemCommand({ TableName: tableName, Key: { hash: { S: 'h1' } } }))).Item,
    ).toBeDefined();
  });

  it('refuses an existing table with a wrong key schema, naming it, and leaves the table untouched', async () => {
    const tableName = newTableName();
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    await expect(createDynamoSessionTable(client, { tableName, billingMode: 'PAY_PER_REQUEST' })).rejects.toThrow(
      `Table "${tableName}" has key schema id (HASH); a session table needs only the partition key "hash" (S).`,
    );
    const description = await describeDynamoSessionTable(client, tableName);
    expect(description).toMatchObject({ exists: true, keySchemaOk: false, gsiOk: false, ttlEnabled: false });
    expect(description.problems).toHaveLength(3);
  });

  it('reports an existing table without the byUser index', async () => {
    const tableName = newTableName();
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'hash', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'hash', KeyType: 'HASH' }],
      }),
    );
    await expect(createDynamoSessionTable(client, { tableName, billingMode: 'PAY_PER_REQUEST' })).rejects.toThrow(
      /no global secondary index "byUser"/,
    );
    expect(await describeDynamoSessionTable(client, tableName)).toMatchObject({ keySchemaOk: true, gsiOk: false });
  });
});

describe('describeDynamoSessionTable', () => {
  it('reports a table that does not exist', async () => {
    expect(await describeDynamoSessionTable(client, `${dynamo.tablePrefix}absent`)).toMatchObject({
      exists: false,
      keySchemaOk: false,
      gsiOk: false,
      problems: [expect.stringContaining('does not exist')],
    });
  });
});
