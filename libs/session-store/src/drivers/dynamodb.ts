import { randomBytes } from 'node:crypto';
import {
  BatchGetItemCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  type AttributeValue,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { SessionBackend, SessionCounts, SessionRecord } from '../backend.js';
import { DYNAMO_SCHEMA as S } from '../dynamodb-table.js';
import { systemClock, type Clock } from '../session-store.js';

type Item = Record<string, AttributeValue>;

// Item size counts attribute names and values in UTF-8 bytes; a number takes about one byte
// per two digits plus one, 21 at most. AWS allows 409,600 bytes (400 KiB) per item and moto
// refuses items past 405,000, so the whole item is budgeted at 400,000 (headroom on both),
// minus every other attribute at its largest (userId allowed up to 1 KiB): 1,164 bytes.
const ITEM_BUDGET_BYTES = 400_000;
const MAX_USER_ID_BYTES = 1024;
const OTHER_ATTRIBUTES_BYTES =
  S.hash.length +
  64 +
  S.userId.length +
  MAX_USER_ID_BYTES +
  S.data.length +
  S.expiresAt.length +
  21 +
  S.expiresAtMs.length +
  21;
/** 398,836 bytes of session JSON. */
export const DYNAMO_MAX_DATA_BYTES = ITEM_BUDGET_BYTES - OTHER_ATTRIBUTES_BYTES;

const RETRY_CAP_MS = 2000;
/** Items read by count() to split the estimate into live and expired. */
const SPLIT_SAMPLE_ITEMS = 100;
/** Parallel GetItem/DeleteItem calls per listByUser/deleteByUser. */
const PER_USER_CONCURRENCY = 16;

export interface DynamoBackendOptions {
  /**
   * Build it with createDynamoClient: its SDK retries are off, so this driver's loop is the
   * only one (with SDK retries on as well, attempts multiply and throttles the SDK absorbed
   * never reach onThrottle). The backend owns it: close() destroys it.
   */
  client: DynamoDBClient;
  tableName: string;
  /** DYNAMODB_CONSISTENT_READ: strongly consistent GetItem (twice the read cost). The byUser index can never be read consistently. */
  consistentRead?: boolean;
  clock?: Clock;
  /** Called on every throttled attempt, the last one included. */
  onThrottle?: (operation: string) => void;
  /** Attempts per request (throttled or transient failures), the first included. Default 5. */
  maxAttempts?: number;
  /** Base of the full-jitter backoff: attempt k waits random(0, min(2 s, base * 2^(k-1))). Default 50 ms. */
  retryBaseMs?: number;
  /** At most DYNAMO_MAX_DATA_BYTES (the default). */
  maxDataBytes?: number;
  /** count() scans for exact figures only while DescribeTable's estimate is at most this. Default 100,000. */
  exactCountThreshold?: number;
}

/** A client for this driver: the SDK's own retries off, the driver retries with full jitter. */
export function createDynamoClient(config: DynamoDBClientConfig): DynamoDBClient {
  return new DynamoDBClient({ ...config, maxAttempts: 1 });
}

function toItem(record: SessionRecord): Item {
  const item: Item = {
    [S.hash]: { S: record.hash },
    [S.data]: { S: record.data },
    // Rounded up so that TTL never deletes a session before its exact expiry.
    [S.expiresAt]: { N: String(Math.ceil(record.expiresAt / 1000)) },
    [S.expiresAtMs]: { N: String(record.expiresAt) },
  };
  // DynamoDB refuses an empty string as an index key, so '' is stored like null (no owner).
  if (record.userId) item[S.userId] = { S: record.userId };
  return item;
}

function fromItem(item: Item): SessionRecord | undefined {
  const hash = item[S.hash]?.S;
  const data = item[S.data]?.S;
  const expiresAtMs = item[S.expiresAtMs]?.N;
  if (hash === undefined || data === undefined || expiresAtMs === undefined) return undefined;
  return { hash, userId: item[S.userId]?.S ?? null, data, expiresAt: Number(expiresAtMs) };
}

type SdkError = Parameters<typeof isThrottlingError>[0];
/** The SDK's error classifiers follow `cause` too, so they want it to be an Error when present. */
const isSdkError = (error: unknown): error is SdkError =>
  error instanceof Error && (error.cause === undefined || error.cause instanceof Error);

/** An ExclusiveStartKey at a random point of the key space: a scan from it reads a random window. */
const randomStartKey = (): Item => ({ [S.hash]: { S: randomBytes(32).toString('hex') } });

/** fn over items, at most `limit` at a time. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function createDynamoBackend(options: DynamoBackendOptions): SessionBackend {
  const { client, tableName: TableName, consistentRead = false, clock = systemClock, onThrottle } = options;
  const {
    maxAttempts = 5,
    retryBaseMs = 50,
    maxDataBytes = DYNAMO_MAX_DATA_BYTES,
    exactCountThreshold = 100_000,
  } = options;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new Error(`maxAttempts must be a positive integer, not ${maxAttempts}`);
  if (maxDataBytes > DYNAMO_MAX_DATA_BYTES || maxDataBytes < 1)
    throw new Error(`maxDataBytes must be between 1 and ${DYNAMO_MAX_DATA_BYTES} (DynamoDB's item limit)`);

  /** One request with retries: throttles (counted) and transient or 5xx failures, full jitter. */
  async function call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request();
      } catch (error) {
        if (!isSdkError(error)) throw error;
        const throttled = isThrottlingError(error);
        if (throttled) onThrottle?.(operation);
        if (!(throttled || isTransientError(error) || isServerError(error)) || attempt >= maxAttempts) throw error;
        const delay = Math.random() * Math.min(RETRY_CAP_MS, retryBaseMs * 2 ** (attempt - 1));
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async function get(hash: string, operation = 'get'): Promise<SessionRecord | undefined> {
    const { Item } = await call(operation, () =>
      client.send(new GetItemCommand({ TableName, Key: { [S.hash]: { S: hash } }, ConsistentRead: consistentRead })),
    );
    return Item && fromItem(Item);
  }

  /**
   * One BatchGetItem, always ConsistentRead: it carries the revocation marker, and an
   * eventually consistent read could serve a session from before a revoke-all. Keys DynamoDB
   * leaves unprocessed (throttling) are asked again within the same retry budget.
   */
  async function getMany(hashes: readonly string[]): Promise<(SessionRecord | undefined)[]> {
    const found = new Map<string, SessionRecord>();
    let pending = [...new Set(hashes)].map((hash): Item => ({ [S.hash]: { S: hash } }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      const keys = pending;
      const { Responses, UnprocessedKeys } = await call('getMany', () =>
        client.send(new BatchGetItemCommand({ RequestItems: { [TableName]: { Keys: keys, ConsistentRead: true } } })),
      );
      for (const item of Responses?.[TableName] ?? []) {
        const record = fromItem(item);
        if (record) found.set(record.hash, record);
      }
      pending = UnprocessedKeys?.[TableName]?.Keys ?? [];
      if (pending.length === 0) break;
      onThrottle?.('getMany');
      if (attempt >= maxAttempts)
        throw new Error(
          `DynamoDB left ${pending.length} key(s) of a BatchGetItem unprocessed after ${attempt} attempts`,
        );
      await new Promise((resolve) =>
        setTimeout(resolve, Math.random() * Math.min(RETRY_CAP_MS, retryBaseMs * 2 ** (attempt - 1))),
      );
    }
    return hashes.map((hash) => found.get(hash));
  }

  /** Hashes the byUser index holds for the user: eventually consistent, so the caller re-checks each item. */
  async function hashesOf(userId: string, operation: string): Promise<string[]> {
    const hashes: string[] = [];
    let start: Item | undefined;
    do {
      const page = await call(operation, () =>
        client.send(
          new QueryCommand({
            TableName,
            IndexName: S.userIndex,
            KeyConditionExpression: '#user = :user',
            ExpressionAttributeNames: { '#user': S.userId },
            ExpressionAttributeValues: { ':user': { S: userId } },
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const hash = item[S.hash]?.S;
        if (hash) hashes.push(hash);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return hashes;
  }

  /** Exact live/expired figures, or undefined once more than `budget` items were read. */
  async function scanCount(budget: number): Promise<SessionCounts | undefined> {
    const now = clock.now();
    let live = 0;
    let scanned = 0;
    let start: Item | undefined;
    do {
      const page = await call('count', () =>
        client.send(
          new ScanCommand({
            TableName,
            Select: 'COUNT',
            // Count = items passing the filter (live), ScannedCount = items read (all).
            FilterExpression: '#expiresAtMs > :now',
            ExpressionAttributeNames: { '#expiresAtMs': S.expiresAtMs },
            ExpressionAttributeValues: { ':now': { N: String(now) } },
            ExclusiveStartKey: start,
          }),
        ),
      );
      live += page.Count ?? 0;
      scanned += page.ScannedCount ?? 0;
      if (scanned > budget) return undefined;
      start = page.LastEvaluatedKey;
    } while (start);
    return { live, expired: scanned - live, exact: true };
  }

  /** The estimate split by the live share of one small page read from a random point. */
  async function estimateCount(estimate: number): Promise<SessionCounts> {
    const page = await call('count', () =>
      client.send(
        new ScanCommand({
          TableName,
          Select: 'COUNT',
          Limit: SPLIT_SAMPLE_ITEMS,
          FilterExpression: '#expiresAtMs > :now',
          ExpressionAttributeNames: { '#expiresAtMs': S.expiresAtMs },
          ExpressionAttributeValues: { ':now': { N: String(clock.now()) } },
          ExclusiveStartKey: randomStartKey(),
        }),
      ),
    );
    const liveShare = page.ScannedCount ? (page.Count ?? 0) / page.ScannedCount : 1;
    const live = Math.round(estimate * liveShare);
    return { live, expired: estimate - live, exact: false };
  }

  return {
    name: 'dynamodb',
    maxDataBytes,

    get: (hash) => get(hash),
    getMany,

    async put(record) {
      await call('put', () => client.send(new PutItemCommand({ TableName, Item: toItem(record) })));
    },

    async delete(hash) {
      await call('delete', () => client.send(new DeleteItemCommand({ TableName, Key: { [S.hash]: { S: hash } } })));
    },

    async listByUser(userId) {
      // The index may still list a session that has since moved to another admin: keep only
      // items that, read from the table itself, still belong to this one.
      const records = await mapLimit(await hashesOf(userId, 'listByUser'), PER_USER_CONCURRENCY, (hash) =>
        get(hash, 'listByUser'),
      );
      return records.filter((record): record is SessionRecord => record?.userId === userId);
    },

    async deleteByUser(userId) {
      const deleted = await mapLimit(await hashesOf(userId, 'deleteByUser'), PER_USER_CONCURRENCY, async (hash) => {
        try {
          // Conditional, for the same reason as in listByUser: never revoke another admin's session.
          await call('deleteByUser', () =>
            client.send(
              new DeleteItemCommand({
                TableName,
                Key: { [S.hash]: { S: hash } },
                ConditionExpression: '#user = :user',
                ExpressionAttributeNames: { '#user': S.userId },
                ExpressionAttributeValues: { ':user': { S: userId } },
              }),
            ),
          );
          return 1;
        } catch (error) {
          if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return 0;
          throw error;
        }
      });
      return deleted.reduce((sum: number, one) => sum + one, 0);
    },

    async count() {
      // DescribeTable is free of read capacity; its ItemCount is refreshed about every 6 hours,
      // so the exact scan is bounded at twice the threshold in case the table grew since.
      const { Table } = await call('count', () => client.send(new DescribeTableCommand({ TableName })));
      const estimate = Table?.ItemCount ?? 0;
      const exact = estimate <= exactCountThreshold ? await scanCount(2 * exactCountThreshold) : undefined;
      return exact ?? estimateCount(estimate);
    },

    async sample(n) {
      const records = new Map<string, SessionRecord>();
      let start: Item | undefined = randomStartKey();
      let wrapped = false;
      // From a random point to the end of the table, then once more from its beginning.
      while (records.size < n) {
        const page = await call('sample', () =>
          client.send(new ScanCommand({ TableName, Limit: n - records.size, ExclusiveStartKey: start })),
        );
        for (const item of page.Items ?? []) {
          const record = fromItem(item);
          if (record && records.size < n) records.set(record.hash, record);
        }
        start = page.LastEvaluatedKey;
        if (!start) {
          if (wrapped) break;
          wrapped = true;
        }
      }
      return [...records.values()];
    },

    async scan(cursor, limit) {
      if (!Number.isInteger(limit) || limit < 1) throw new Error(`scan limit must be a positive integer, not ${limit}`);
      // The cursor is LastEvaluatedKey ({hash: {S}}) as base64url JSON: DynamoDB resumes a Scan
      // from any key it returned, in this process or another, however long after.
      let start: Item | undefined;
      if (cursor !== undefined) {
        let key: unknown;
        try {
          key = cursor.startsWith('dynamodb:')
            ? JSON.parse(Buffer.from(cursor.slice('dynamodb:'.length), 'base64url').toString('utf8'))
            : undefined;
        } catch {
          key = undefined;
        }
        const hash = (key as { [S.hash]?: { S?: unknown } } | undefined)?.[S.hash]?.S;
        if (typeof hash !== 'string') throw new Error('This cursor does not come from a dynamodb store scan.');
        start = { [S.hash]: { S: hash } };
      }
      const page = await call('scan', () =>
        client.send(
          new ScanCommand({ TableName, Limit: limit, ExclusiveStartKey: start, ConsistentRead: consistentRead }),
        ),
      );
      const records = (page.Items ?? []).map(fromItem).filter((record): record is SessionRecord => !!record);
      const next = page.LastEvaluatedKey?.[S.hash]?.S;
      // DynamoDB may hand back a key with the last full page although nothing follows: the next
      // call then returns an empty page without a cursor.
      return next === undefined
        ? { records }
        : {
            records,
            cursor: `dynamodb:${Buffer.from(JSON.stringify({ [S.hash]: { S: next } })).toString('base64url')}`,
          };
    },

    async close() {
      client.destroy();
    },
  };
}
