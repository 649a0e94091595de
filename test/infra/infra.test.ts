// Proves the test infrastructure gives real servers spoken to over TCP, and that a dedicated
// server can be stopped and brought back on the same port for fault tests.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import {
  startPostgres,
  startRedis,
  testDynamo,
  testMysql,
  testPostgres,
  testRedis,
  type ServerHandle,
} from '../support/index.js';

/** Retries `fn` for up to 10 s: a client needs a moment to notice its server is back. */
async function eventually<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

describe('shared servers', () => {
  test('PostgreSQL is version 15 or newer and gives each test file its own database', async () => {
    const db = await testPostgres();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: number; database: string; addr: string | null }>(
        "select current_setting('server_version_num')::int as version, current_database() as database, inet_server_addr()::text as addr",
      );
      expect(rows[0]?.version).toBeGreaterThanOrEqual(150000);
      expect(rows[0]?.database).toBe(db.database);
      expect(rows[0]?.addr).not.toBeNull(); // null would mean a Unix socket, not TCP
      await client.query('create table t (id int primary key)');
      await client.query('insert into t values (1)');
    } finally {
      await client.end();
    }
    await db.drop();
    await expect(db.drop()).resolves.toBeUndefined();
  });

  test('Redis answers PING and keeps values under the file prefix', async () => {
    const { url, prefix } = testRedis();
    const client = new Redis(url, { maxRetriesPerRequest: 1 });
    try {
      expect(await client.ping()).toBe('PONG');
      await client.set(`${prefix}greeting`, 'hello', 'EX', 60);
      expect(await client.get(`${prefix}greeting`)).toBe('hello');
      expect(String(await client.call('client', 'info'))).toMatch(/laddr=[0-9a-f.:[\]]+:\d+ /); // ip:port = TCP
    } finally {
      client.disconnect();
    }
  });

  test('MariaDB lets a test create its own database and user over TCP', async () => {
    const db = await testMysql();
    const user = `u_${db.database.slice(-8)}`;
    const root = await createConnection({ uri: db.url });
    try {
      const [rows] = await root.query(
        'select version() as version, (select host from information_schema.processlist where id = connection_id()) as peer',
      );
      const [row] = rows as Array<{ version: string; peer: string }>;
      expect(row?.version).toContain('MariaDB');
      expect(row?.peer).toMatch(/:\d+$/); // host:port = TCP ('localhost' would be the socket)
      await root.query('create table t (id int primary key)');
      await root.query(`create user '${user}'@'%' identified by 'secret'`);
      await root.query(`grant select on \`${db.database}\`.* to '${user}'@'%'`);
      const url = new URL(db.url);
      url.username = user;
      url.password = 'secret';
      const limited = await createConnection({ uri: url.toString() });
      await expect(limited.query('select count(*) from t')).resolves.toBeDefined();
      await expect(limited.query('insert into t values (1)')).rejects.toThrow(/denied/);
      await limited.end();
    } finally {
      await root.query(`drop user if exists '${user}'@'%'`);
      await root.end();
      await db.drop();
    }
  });

  test('moto serves DynamoDB: GSI, TTL settings and conditional writes over HTTP', async () => {
    const { tablePrefix, ...aws } = testDynamo();
    expect(aws.endpoint).toMatch(/^http:\/\//);
    const dynamo = new DynamoDBClient(aws);
    const TableName = `${tablePrefix}sessions`;
    try {
      await dynamo.send(
        new CreateTableCommand({
          TableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'id', AttributeType: 'S' },
            { AttributeName: 'userId', AttributeType: 'S' },
          ],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          GlobalSecondaryIndexes: [
            {
              IndexName: 'byUser',
              KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
        }),
      );
      await dynamo.send(
        new UpdateTimeToLiveCommand({
          TableName,
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        }),
      );
      const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName }));
      expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });

      const Item = {
        id: { S: 'h1' },
        userId: { S: 'admin-1' },
        expiresAt: { N: String(Math.floor(Date.now() / 1000) + 60) },
      };
      await dynamo.send(new PutItemCommand({ TableName, Item, ConditionExpression: 'attribute_not_exists(id)' }));
      await expect(
        dynamo.send(new PutItemCommand({ TableName, Item, ConditionExpression: 'attribute_not_exists(id)' })),
      ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      const got = await dynamo.send(new GetItemCommand({ TableName, Key: { id: { S: 'h1' } }, ConsistentRead: true }));
      expect(got.Item).toEqual(Item);
      const byUser = await dynamo.send(
        new QueryCommand({
          TableName,
          IndexName: 'byUser',
          KeyConditionExpression: 'userId = :u',
          ExpressionAttributeValues: { ':u': { S: 'admin-1' } },
        }),
      );
      expect(byUser.Items).toEqual([Item]);
    } finally {
      dynamo.destroy();
    }
  });
});

describe('dedicated servers for fault tests', () => {
  let server: ServerHandle | undefined;
  afterEach(async () => {
    await server?.dispose();
    server = undefined;
  });

  test('a Redis server stopped and restarted comes back on the same port with its data', async () => {
    server = await startRedis();
    const { url, port, pid } = server;
    // No offline queue: commands fail at once while the server is down, as an app would see.
    const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    client.on('error', () => undefined);
    try {
      await eventually(() => client.set('survivor', 'yes'));
      await server.stop();
      await expect(client.get('survivor')).rejects.toThrow();

      await server.restart();
      expect(server.url).toBe(url);
      expect(server.port).toBe(port);
      expect(server.pid).not.toBe(pid);
      expect(await eventually(() => client.get('survivor'))).toBe('yes');
    } finally {
      client.disconnect();
    }
  });

  test('a PostgreSQL server stopped and restarted comes back on the same port with its data', async () => {
    server = await startPostgres();
    const pool = new pg.Pool({ connectionString: server.url, max: 2, connectionTimeoutMillis: 2000 });
    pool.on('error', () => undefined); // idle clients report the shutdown here
    try {
      await pool.query('create table survivors (name text)');
      await pool.query("insert into survivors values ('row')");
      await server.stop();
      await expect(pool.query('select 1')).rejects.toThrow();

      await server.restart();
      const { rows } = await eventually(() => pool.query<{ name: string }>('select name from survivors'));
      expect(rows).toEqual([{ name: 'row' }]);
    } finally {
      await pool.end();
    }
  });
});
