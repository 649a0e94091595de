// What the DynamoDB driver puts on the wire about ConsistentRead. moto answers the same either
// way, so the store's behaviour cannot show it: a recording proxy on loopback sits between the
// client and the emulator and keeps every request body exactly as sent.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import {
  createDynamoBackend,
  createDynamoClient,
  createDynamoSessionTable,
  createSessionStore,
  newSessionId,
} from '@portcullis/session-store';
import { createSessionIdHasher } from '@portcullis/crypto';
import { testDynamo } from '../../../test/support/index.js';

const dynamo = testDynamo();
interface Recorded {
  operation: string;
  body: Record<string, unknown>;
}
let recorded: Recorded[] = [];
let proxy: Server;
let proxyUrl: string;

beforeAll(async () => {
  const upstream = new URL(dynamo.endpoint);
  proxy = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const target = String(incoming.headers['x-amz-target'] ?? '');
      recorded.push({
        operation: target.replace(/^DynamoDB_\d+\./, ''),
        body: JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>,
      });
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forward.on('error', () => outgoing.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

async function recordingBackend(consistentRead: boolean) {
  const client = createDynamoClient({ endpoint: proxyUrl, region: dynamo.region, credentials: dynamo.credentials });
  const tableName = `${dynamo.tablePrefix}${randomBytes(4).toString('hex')}`;
  await createDynamoSessionTable(client, { tableName, billingMode: 'PAY_PER_REQUEST' });
  const backend = createDynamoBackend({ client, tableName, consistentRead });
  recorded = [];
  return {
    backend,
    cleanup: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      await backend.close();
    },
  };
}

/** The ConsistentRead flags of the recorded requests of one operation (BatchGetItem's sit per table). */
function flags(operation: string): unknown[] {
  return recorded
    .filter((entry) => entry.operation === operation)
    .flatMap((entry) =>
      operation === 'BatchGetItem'
        ? Object.values(entry.body.RequestItems as Record<string, { ConsistentRead?: boolean }>).map(
            (table) => table.ConsistentRead,
          )
        : [entry.body.ConsistentRead],
    );
}

describe.each([true, false])('DYNAMODB_CONSISTENT_READ=%s on the wire', (consistentRead) => {
  it("every GetItem and table Scan carries it; the request path's BatchGetItem is always consistent; GSI queries never ask", async () => {
    const { backend, cleanup } = await recordingBackend(consistentRead);
    try {
      const hash = randomBytes(32).toString('hex');
      await backend.put({ hash, userId: 'admin-1', data: '{}', expiresAt: Date.now() + 60_000 });
      await backend.get(hash);
      await backend.getMany([hash, randomBytes(32).toString('hex')]);
      await backend.listByUser('admin-1'); // Query on byUser, then GetItem per hash
      await backend.scan(undefined, 10);

      expect(flags('GetItem')).toEqual([consistentRead, consistentRead]);
      expect(flags('Scan')).toEqual([consistentRead]);
      expect(flags('BatchGetItem')).toEqual([true]);
      // DynamoDB refuses ConsistentRead on a global secondary index: the driver must not send it.
      expect(flags('Query')).toEqual([undefined]);
      expect(recorded.find((entry) => entry.operation === 'Query')?.body.IndexName).toBe('byUser');
    } finally {
      await cleanup();
    }
  });
});

it("a request's session read is one strongly consistent BatchGetItem (session + revocation marker), even with DYNAMODB_CONSISTENT_READ=false", async () => {
  const { backend, cleanup } = await recordingBackend(false);
  try {
    const store = createSessionStore({
      backend,
      hashers: [createSessionIdHasher('consistent-read-test-secret-0123456789')],
      defaultTtlMs: 60_000,
    });
    const id = newSessionId('admin-1');
    await store.set(id, { userId: 'admin-1' }, 60_000, { rolling: false, changed: true });
    recorded = [];
    expect((await store.read(id)).session).toMatchObject({ userId: 'admin-1' });
    const reads = recorded.filter((entry) => /^(GetItem|BatchGetItem|Query|Scan)$/.test(entry.operation));
    expect(reads.map((entry) => entry.operation)).toEqual(['BatchGetItem']);
    expect(flags('BatchGetItem')).toEqual([true]);
  } finally {
    await cleanup();
  }
});
