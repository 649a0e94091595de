/**
 * What a driver implements. Drivers only store and fetch records by the HMAC of the session
 * id; ids, expiry rules and JSON live in session-store.ts, so every driver behaves the same.
 */
export interface SessionRecord {
  /** HMAC-SHA256 of the session id (hex). The id itself is never stored. */
  hash: string;
  /** The admin the session belongs to, for listByUser/destroyByUser; null before sign-in. */
  userId: string | null;
  /** The koa-session object as JSON. */
  data: string;
  /** Epoch milliseconds. Backends may keep a record past this; readers must ignore it. */
  expiresAt: number;
}

export interface SessionCounts {
  live: number;
  /** Expired but not yet deleted by the backend's TTL machinery or cleanup. */
  expired: number;
  /** false when the figures are estimates (PostgreSQL statistics, DynamoDB DescribeTable). */
  exact: boolean;
}

export type DriverName = 'memory' | 'redis' | 'knex' | 'dynamodb';

export interface SessionBackend {
  /** Label for metrics and logs: `memory`, `redis`, `knex`, `dynamodb`, `dual`. */
  readonly name: string;
  /** Largest `data` (UTF-8 bytes) the backend can hold; larger sessions are refused up front. */
  readonly maxDataBytes: number;
  get(hash: string): Promise<SessionRecord | undefined>;
  put(record: SessionRecord): Promise<void>;
  delete(hash: string): Promise<void>;
  listByUser(userId: string): Promise<SessionRecord[]>;
  deleteByUser(userId: string): Promise<number>;
  count(): Promise<SessionCounts>;
  /** Up to n records (live or expired) chosen without a full scan, for consistency checks. */
  sample(n: number): Promise<SessionRecord[]>;
  close(): Promise<void>;
}
