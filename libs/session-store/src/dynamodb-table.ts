// The DynamoDB session table: its schema, creation (idempotent) and the description the
// `sessions preflight` command prints. The driver itself is in drivers/dynamodb.ts.
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';

/** Attribute and index names shared with the driver. */
export const DYNAMO_SCHEMA = {
  /** Partition key: HMAC-SHA256 of the session id, so writes spread evenly (no hot partition). */
  hash: 'hash',
  /** Absent for anonymous sessions, which keeps them out of the sparse `byUser` index. */
  userId: 'userId',
  data: 'data',
  /** Epoch SECONDS: the TTL attribute (DynamoDB TTL ignores values in milliseconds). */
  expiresAt: 'expiresAt',
  /** Epoch milliseconds: what the record's expiresAt is read from. */
  expiresAtMs: 'expiresAtMs',
  userIndex: 'byUser',
} as const;

export interface DynamoSessionTableOptions {
  tableName: string;
  billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
  /** PROVISIONED only; the byUser index gets the same figures. Default 5. */
  readCapacity?: number;
  writeCapacity?: number;
  /** How long to wait for the table to become ACTIVE. Default 5 minutes. */
  activeTimeoutMs?: number;
}

export interface DynamoSessionTableDescription {
  exists: boolean;
  keySchemaOk: boolean;
  gsiOk: boolean;
  /** True while TTL is ENABLED or ENABLING (AWS takes up to an hour to finish enabling). */
  ttlEnabled: boolean;
  ttlAttribute: string | null;
  billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED' | null;
  /** null for on-demand tables. */
  readCapacity: number | null;
  writeCapacity: number | null;
  /** DescribeTable's ItemCount: AWS refreshes it about every six hours. */
  itemCountEstimate: number | null;
  problems: string[];
}

const isNamed = (error: unknown, name: string) => error instanceof Error && error.name === name;

async function describeTable(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (isNamed(error, 'ResourceNotFoundException')) return undefined;
    throw error;
  }
}

/** Key schema [{name, HASH}] with the attribute defined as a string. */
function hasStringHashKey(keys: TableDescription['KeySchema'], table: TableDescription, name: string): boolean {
  const type = table.AttributeDefinitions?.find((definition) => definition.AttributeName === name)?.AttributeType;
  return keys?.length === 1 && keys[0]?.AttributeName === name && keys[0].KeyType === 'HASH' && type === 'S';
}

function keyText(keys: TableDescription['KeySchema']): string {
  return (keys ?? []).map((key) => `${key.AttributeName} (${key.KeyType})`).join(', ') || 'none';
}

/** Key schema and index: what no later step can fix without recreating or altering the table. */
function checkStructure(
  table: TableDescription,
  tableName: string,
): { keySchemaOk: boolean; gsiOk: boolean; problems: string[] } {
  const problems: string[] = [];
  const keySchemaOk = hasStringHashKey(table.KeySchema, table, DYNAMO_SCHEMA.hash);
  if (!keySchemaOk) {
    problems.push(
      `Table "${tableName}" has key schema ${keyText(table.KeySchema)}; a session table needs only the partition key "${DYNAMO_SCHEMA.hash}" (S).`,
    );
  }
  // Any projection works: the driver reads only the keys from the index and then fetches the items.
  const index = table.GlobalSecondaryIndexes?.find((candidate) => candidate.IndexName === DYNAMO_SCHEMA.userIndex);
  const gsiKeyOk = !!index && hasStringHashKey(index.KeySchema, table, DYNAMO_SCHEMA.userId);
  const gsiActive = !index?.IndexStatus || index.IndexStatus === 'ACTIVE';
  if (!index)
    problems.push(
      `Table "${tableName}" has no global secondary index "${DYNAMO_SCHEMA.userIndex}" on "${DYNAMO_SCHEMA.userId}" (S).`,
    );
  else if (!gsiKeyOk)
    problems.push(
      `Index "${DYNAMO_SCHEMA.userIndex}" has key schema ${keyText(index.KeySchema)}; it needs only the partition key "${DYNAMO_SCHEMA.userId}" (S).`,
    );
  else if (!gsiActive) problems.push(`Index "${DYNAMO_SCHEMA.userIndex}" is ${index.IndexStatus}, not ACTIVE yet.`);
  return { keySchemaOk, gsiOk: gsiKeyOk && gsiActive, problems };
}

/** What preflight prints; every problem is a sentence naming what is wrong. */
export async function describeDynamoSessionTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<DynamoSessionTableDescription> {
  const table = await describeTable(client, tableName);
  if (!table) {
    return {
      exists: false,
      keySchemaOk: false,
      gsiOk: false,
      ttlEnabled: false,
      ttlAttribute: null,
      billingMode: null,
      readCapacity: null,
      writeCapacity: null,
      itemCountEstimate: null,
      problems: [`Table "${tableName}" does not exist: create it with createDynamoSessionTable.`],
    };
  }
  const { keySchemaOk, gsiOk, problems } = checkStructure(table, tableName);

  const ttl = (await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }))).TimeToLiveDescription;
  const ttlEnabled = ttl?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveStatus === 'ENABLING';
  const ttlAttribute = ttl?.AttributeName ?? null;
  if (!ttlEnabled)
    problems.push(
      `Time to live is ${ttl?.TimeToLiveStatus ?? 'DISABLED'} on table "${tableName}": expired sessions would never be deleted; enable it on "${DYNAMO_SCHEMA.expiresAt}".`,
    );
  else if (ttlAttribute !== DYNAMO_SCHEMA.expiresAt)
    problems.push(
      `Time to live is on attribute "${ttlAttribute}"; it must be "${DYNAMO_SCHEMA.expiresAt}" (epoch seconds).`,
    );

  // Tables created before on-demand existed carry no BillingModeSummary: they are provisioned.
  const billingMode = table.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED';
  const provisioned = billingMode === 'PROVISIONED';
  return {
    exists: true,
    keySchemaOk,
    gsiOk,
    ttlEnabled,
    ttlAttribute,
    billingMode,
    readCapacity: provisioned ? (table.ProvisionedThroughput?.ReadCapacityUnits ?? null) : null,
    writeCapacity: provisioned ? (table.ProvisionedThroughput?.WriteCapacityUnits ?? null) : null,
    itemCountEstimate: table.ItemCount ?? null,
    problems,
  };
}

function unusable(tableName: string, problems: string[]): Error {
  return new Error(
    `Table "${tableName}" cannot hold sessions: ${problems.join(' ')} Use another table name or fix the table.`,
  );
}

async function waitUntilActive(
  client: DynamoDBClient,
  tableName: string,
  timeoutMs: number,
): Promise<TableDescription> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const table = await describeTable(client, tableName);
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === undefined || index.IndexStatus === 'ACTIVE',
    );
    if (table?.TableStatus === 'ACTIVE' && indexesActive) return table;
    if (Date.now() > deadline)
      throw new Error(
        `Table "${tableName}" is still ${table?.TableStatus ?? 'missing'} after ${timeoutMs} ms; check it in the AWS console and run again.`,
      );
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function createTableInput({
  tableName,
  billingMode,
  readCapacity = 5,
  writeCapacity = 5,
}: DynamoSessionTableOptions): CreateTableCommandInput {
  const throughput =
    billingMode === 'PROVISIONED'
      ? { ProvisionedThroughput: { ReadCapacityUnits: readCapacity, WriteCapacityUnits: writeCapacity } }
      : {};
  return {
    TableName: tableName,
    BillingMode: billingMode,
    AttributeDefinitions: [
      { AttributeName: DYNAMO_SCHEMA.hash, AttributeType: 'S' },
      { AttributeName: DYNAMO_SCHEMA.userId, AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: DYNAMO_SCHEMA.hash, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: DYNAMO_SCHEMA.userIndex,
        KeySchema: [{ AttributeName: DYNAMO_SCHEMA.userId, KeyType: 'HASH' }],
        // KEYS_ONLY: a rolling write that keeps the owner changes nothing in the index, so it
        // costs no index write; the few listByUser calls fetch the items by key instead.
        Projection: { ProjectionType: 'KEYS_ONLY' },
        ...throughput,
      },
    ],
    ...throughput,
  };
}

/**
 * Creates the session table with its index, waits until ACTIVE and enables TTL on `expiresAt`.
 * Idempotent: an existing correct table is kept as it is (billing settings included); an
 * existing table that cannot hold sessions is an error naming every problem.
 */
export async function createDynamoSessionTable(
  client: DynamoDBClient,
  options: DynamoSessionTableOptions,
): Promise<DynamoSessionTableDescription> {
  const { tableName, activeTimeoutMs = 5 * 60_000 } = options;
  if (!(await describeTable(client, tableName))) {
    try {
      await client.send(new CreateTableCommand(createTableInput(options)));
    } catch (error) {
      // Another process created it between our DescribeTable and CreateTable: fine, check it below.
      if (!isNamed(error, 'ResourceInUseException')) throw error;
    }
  }
  // A table that is not ours is refused before anything (TTL) is changed on it.
  const structure = checkStructure(await waitUntilActive(client, tableName, activeTimeoutMs), tableName);
  if (structure.problems.length > 0) throw unusable(tableName, structure.problems);

  const ttl = (await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }))).TimeToLiveDescription;
  // AWS refuses to enable TTL twice ("TimeToLive is already enabled"), so only call it when off.
  if (!ttl?.TimeToLiveStatus || ttl.TimeToLiveStatus === 'DISABLED') {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { Enabled: true, AttributeName: DYNAMO_SCHEMA.expiresAt },
      }),
    );
  }

  const description = await describeDynamoSessionTable(client, tableName);
  if (description.problems.length > 0) throw unusable(tableName, description.problems);
  return description;
}
