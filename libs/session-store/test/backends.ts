// Real stores for the dual tests (contract, faults, mixed phases). Each store is a fresh,
// isolated corner of a real server: a PostgreSQL table, a Redis key prefix, a DynamoDB table.
// Several backends can connect to one store, each with its own client, as pods do.
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import createKnex, { type Knex } from 'knex';
import {
  createDynamoBackend,
  createDynamoClient,
  createDynamoSessionTable,
  createKnexBackend,
  createRedisBackend,
  createSessionTable,
  type Clock,
  type SessionBackend,
} from '@portcullis/session-store';
import { testDynamo, testPostgres, testRedis, type TestDatabase } from '../../../test/support/index.js';

export type StoreKind = 'redis' | 'knex' | 'dynamodb';

export interface RealStore {
  readonly kind: StoreKind;
  /** A backend with a client of its own on this store's data, as one more pod has. Close it when done. */
  connect(clock: Clock): SessionBackend;
  /** Deletes the store's data: its table or its keys. */
  drop(): Promise<void>;
}

const suffix = () => randomBytes(4).toString('hex');
const ignore = () => undefined;

/** Deletes every key under the prefix (SCAN, never KEYS: the server is shared by the run). */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  // Fails at once on a stopped server instead of retrying (cleanup after a failed fault test).
  const admin = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  admin.on('error', () => undefined);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await admin.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    admin.disconnect();
  }
}

/**
 * A Redis store: the shared server, or the one at `url` (a dedicated server of a fault test).
 * The client is ioredis with its default settings, as the service builds it; its connection
 * errors are silenced here because a stopped server is what the fault tests want.
 */
export function redisStore(url = testRedis().url): RealStore {
  const { prefix } = testRedis();
  return {
    kind: 'redis',
    connect(clock) {
      const client = new Redis(url);
      client.on('error', () => undefined);
      const backend = createRedisBackend({ client, keyPrefix: prefix, clock });
      // disconnect(), not quit(): quit would wait for a stopped server.
      return { ...backend, close: async () => client.disconnect() };
    },
    drop: () => dropPrefix(url, prefix),
  };
}

/** A session table on a knex pool the caller owns. */
export async function knexStore(knex: Knex): Promise<RealStore> {
  const tableName = `sessions_${suffix()}`;
  await createSessionTable(knex, tableName);
  return {
    kind: 'knex',
    connect: (clock) => createKnexBackend({ knex, tableName, clock }),
    drop: async () => {
      await knex.schema.dropTableIfExists(tableName);
    },
  };
}

/** A session table on the shared moto server; strongly consistent reads, as the contract wants. */
export async function dynamoStore(): Promise<RealStore> {
  const dynamo = testDynamo();
  const config = { endpoint: dynamo.endpoint, region: dynamo.region, credentials: dynamo.credentials };
  const tableName = `${dynamo.tablePrefix}${suffix()}`;
  const admin = createDynamoClient(config);
  try {
    await createDynamoSessionTable(admin, { tableName, billingMode: 'PAY_PER_REQUEST' });
  } finally {
    admin.destroy();
  }
  return {
    kind: 'dynamodb',
    connect: (clock) =>
      createDynamoBackend({ client: createDynamoClient(config), tableName, clock, consistentRead: true }),
    drop: async () => {
      const client = createDynamoClient(config);
      try {
        await client.send(new DeleteTableCommand({ TableName: tableName }));
      } finally {
        client.destroy();
      }
    },
  };
}

/**
 * The stores of one test file. PostgreSQL gets one database per file, created on first use;
 * `knexOn(url)` opens a pool on another server (a dedicated one). `dispose()` in afterAll.
 */
export function realStores() {
  const pools: Knex[] = [];
  let shared: Promise<{ database: TestDatabase; knex: Knex }> | undefined;

  const pool = (url: string, log?: Knex.Config['log']) => {
    const knex = createKnex({ client: 'pg', connection: url, pool: { min: 0, max: 10 }, ...(log ? { log } : {}) });
    pools.push(knex);
    return knex;
  };
  const sharedKnex = async () => {
    shared ??= testPostgres().then((database) => ({ database, knex: pool(database.url) }));
    return (await shared).knex;
  };

  return {
    async create(kind: StoreKind): Promise<RealStore> {
      if (kind === 'redis') return redisStore();
      if (kind === 'knex') return knexStore(await sharedKnex());
      return dynamoStore();
    },
    /**
     * A knex store on the PostgreSQL server at `url` (its admin URL, as startPostgres() gives).
     * knex's own logging is off: it reports every refused connection of a stopped server.
     */
    knexOn: (url: string) => knexStore(pool(url, { warn: ignore, error: ignore, debug: ignore, deprecate: ignore })),
    async dispose(): Promise<void> {
      await Promise.all(pools.map((knex) => knex.destroy()));
      if (shared) await (await shared).database.drop();
    },
  };
}

/** Every ordered pair of distinct stores the production checklist names: primary, then secondary. */
export const DUAL_PAIRS: [StoreKind, StoreKind][] = [
  ['knex', 'dynamodb'],
  ['dynamodb', 'knex'],
  ['redis', 'dynamodb'],
  ['dynamodb', 'redis'],
  ['redis', 'knex'],
  ['knex', 'redis'],
];
