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

/** One page of a full iteration; see SessionBackend.scan. */
export interface ScanPage {
  records: SessionRecord[];
  /** Pass it to the next call; absent once the iteration is complete. */
  cursor?: string;
}

export type DriverName = 'memory' | 'redis' | 'knex' | 'dynamodb';

export interface SessionBackend {
  /** Label for metrics and logs: `memory`, `redis`, `knex`, `dynamodb`, `dual`. */
  readonly name: string;
  /** Largest `data` (UTF-8 bytes) the backend can hold; larger sessions are refused up front. */
  readonly maxDataBytes: number;
  get(hash: string): Promise<SessionRecord | undefined>;
  /**
   * Several records in ONE round trip, in the order asked (undefined where absent): a session
   * and its owner's revocation marker are read together on every authenticated request.
   * Strongly consistent where the backend offers a choice (DynamoDB ConsistentRead).
   */
  getMany(hashes: readonly string[]): Promise<(SessionRecord | undefined)[]>;
  put(record: SessionRecord): Promise<void>;
  delete(hash: string): Promise<void>;
  listByUser(userId: string): Promise<SessionRecord[]>;
  deleteByUser(userId: string): Promise<number>;
  count(): Promise<SessionCounts>;
  /** Up to n records (live or expired) chosen without a full scan, for consistency checks. */
  sample(n: number): Promise<SessionRecord[]>;
  /**
   * Full iteration in pages, for backfill between stores: start with `undefined`, pass each
   * returned cursor back, stop when none comes back. The cursor is an opaque string that names
   * its driver (a cursor of another driver is refused) and stays valid across processes and
   * restarts, so a killed job resumes from its last cursor. Records come as stored, expired
   * ones included while the backend still holds them. A page holds at most `limit` records
   * and may hold fewer (even none) before the end.
   *
   * Under concurrent writes: a record that exists from the first page to the last is returned
   * exactly once if it is not rewritten, and at least once if it is (redis orders by expiry,
   * so a record whose expiry moves past the cursor comes again; one whose expiry is shortened
   * to behind the cursor can be missed). A record created or deleted during the iteration may
   * or may not be returned. Backfill runs while `dual` writes both stores, which covers those.
   */
  scan(cursor: string | undefined, limit: number): Promise<ScanPage>;
  close(): Promise<void>;
}
