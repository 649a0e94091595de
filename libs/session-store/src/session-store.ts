import type { SessionBackend, SessionCounts, SessionRecord } from './backend.js';
import { SessionStoreError } from './errors.js';
import { cutOffOf, markerHashOfId, markerRecord, revocationHashOf } from './revocation.js';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * How much longer a session's stored copy lives than its cookie (the idle timeout), as
 * koa-session's did: what a store may still hold after a browser forgot the session, and so
 * part of the wait before a cutover (libs/config's gate).
 */
export const STORED_SESSION_MARGIN_MS = 10_000;

/** The session object the session middleware hands to the store (koa-session's format). `userId` is set at sign-in. */
export type SessionData = Record<string, unknown> & { userId?: unknown };

/** A session read together with its owner's revocation cut-off (epoch ms, or null for none). */
export interface SessionRead {
  session?: SessionData;
  /** The session as stored (JSON): a caller compares it to tell whether the session changed. */
  raw?: string;
  revokedBefore: number | null;
}

export interface StoredSession {
  hash: string;
  expiresAt: number;
  session: SessionData;
}

export interface SessionStoreOptions {
  backend: SessionBackend;
  /** One hasher per SESSION_SECRET entry; the first names new records, all are looked up. */
  hashers: ((sessionId: string) => string)[];
  clock?: Clock;
  /** TTL for koa-session's `maxAge: 'session'` (browser-session cookies). */
  defaultTtlMs?: number;
}

const MAX_ID_LENGTH = 512;

function isValidId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH;
}

function parse(record: SessionRecord): SessionData | undefined {
  try {
    const value: unknown = JSON.parse(record.data);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as SessionData) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * koa-session's external store interface (`get`, `set`, `destroy`), `read` for the session middleware, plus what the product needs, over
 * any backend. Reads never return an expired record, whatever the backend still holds.
 */
export function createSessionStore({
  backend,
  hashers,
  clock = systemClock,
  defaultTtlMs = 24 * 3600_000,
}: SessionStoreOptions) {
  if (hashers.length === 0) throw new Error('createSessionStore needs at least one id hasher');
  const [primaryHash] = hashers as [(id: string) => string];
  const isLive = (record: SessionRecord | undefined): record is SessionRecord =>
    !!record && record.expiresAt > clock.now();
  const toStored = (record: SessionRecord): StoredSession | undefined => {
    const session = parse(record);
    return session ? { hash: record.hash, expiresAt: record.expiresAt, session } : undefined;
  };

  // Owner → marker key, so the check that an id names its owner's marker costs no SHA-256 per
  // request. Bounded: cleared when full (a pod sees far fewer admins than this).
  const markerHashes = new Map<string, string>();
  const markerHashOf = (userId: string): string => {
    let hash = markerHashes.get(userId);
    if (hash === undefined) {
      if (markerHashes.size >= 10_000) markerHashes.clear();
      hash = revocationHashOf(userId);
      markerHashes.set(userId, hash);
    }
    return hash;
  };

  /** A record under an older secret, moved under the current one (secret rotation). */
  async function findUnderOldSecret(id: string): Promise<SessionRecord | undefined> {
    if (hashers.length === 1) return undefined;
    for (const hash of hashers.slice(1)) {
      const old = await backend.get(hash(id));
      if (!isLive(old)) continue;
      const moved = { ...old, hash: primaryHash(id) };
      await backend.put(moved);
      await backend.delete(old.hash);
      return moved;
    }
    return undefined;
  }

  return {
    backend,

    /**
     * The session and its owner's revocation cut-off. An id that names its owner's marker
     * (newSessionId(userId)) costs one round trip; an older id, or one whose owner does not
     * match, a second read for the marker. Errors propagate: the caller must fail closed.
     */
    async read(id: unknown): Promise<SessionRead> {
      if (!isValidId(id)) return { revokedBefore: null };
      const named = markerHashOfId(id);
      let [record, marker] = named
        ? await backend.getMany([primaryHash(id), named])
        : [await backend.get(primaryHash(id)), undefined];
      record ??= await findUnderOldSecret(id);
      if (!isLive(record)) return { revokedBefore: null };
      const session = parse(record);
      if (!session) return { revokedBefore: null };
      if (!record.userId) return { session, raw: record.data, revokedBefore: null };
      const markerHash = markerHashOf(record.userId);
      if (markerHash !== named) marker = await backend.get(markerHash);
      return { session, raw: record.data, revokedBefore: cutOffOf(isLive(marker) ? marker : undefined) };
    },

    /**
     * Voids every session of `userId` created before `cutOff`, on every replica from its next
     * request: the marker is read with each session. Never moves an existing cut-off back.
     * `ttlMs` must cover the longest a session can live (the absolute timeout).
     */
    async revoke(userId: string, cutOff: number, ttlMs: number): Promise<void> {
      const existing = await backend.get(revocationHashOf(userId));
      const live = isLive(existing) ? existing : undefined;
      const revokedBefore = Math.max(cutOff, cutOffOf(live) ?? cutOff);
      const expiresAt = Math.max(cutOff + ttlMs, live?.expiresAt ?? 0);
      await backend.put(markerRecord(userId, Number.isFinite(revokedBefore) ? revokedBefore : cutOff, expiresAt));
    },

    async get(
      id: unknown,
      _maxAge?: number | 'session',
      _options?: { rolling?: boolean; ctx?: unknown },
    ): Promise<SessionData | undefined> {
      if (!isValidId(id)) return undefined;
      const record = (await backend.get(primaryHash(id))) ?? (await findUnderOldSecret(id));
      return isLive(record) ? parse(record) : undefined;
    },

    async set(
      id: unknown,
      session: SessionData,
      maxAge?: number | 'session',
      _options?: { rolling?: boolean; changed?: boolean; ctx?: unknown },
    ): Promise<void> {
      if (!isValidId(id))
        throw new SessionStoreError(
          'session.invalid_id',
          `A session id must be a non-empty string of at most ${MAX_ID_LENGTH} characters.`,
        );
      const data = JSON.stringify(session);
      const bytes = Buffer.byteLength(data);
      if (bytes > backend.maxDataBytes) {
        throw new SessionStoreError(
          'session.too_large',
          `The session is ${bytes} bytes; the ${backend.name} store holds at most ${backend.maxDataBytes}.`,
        );
      }
      const ttlMs = typeof maxAge === 'number' ? maxAge : defaultTtlMs;
      const userId = typeof session.userId === 'string' ? session.userId : null;
      await backend.put({ hash: primaryHash(id), userId, data, expiresAt: clock.now() + ttlMs });
    },

    async destroy(id: unknown, _options?: { ctx?: unknown }): Promise<void> {
      if (!isValidId(id)) return;
      await Promise.all(hashers.map((hash) => backend.delete(hash(id))));
    },

    /** The id's hash as stored: what session lists show and `destroyByHash` takes. */
    hashOf(id: string): string {
      return primaryHash(id);
    },

    async destroyByHash(hash: string): Promise<void> {
      await backend.delete(hash);
    },

    async listByUser(userId: string): Promise<StoredSession[]> {
      const records = await backend.listByUser(userId);
      return records
        .filter(isLive)
        .map(toStored)
        .filter((stored): stored is StoredSession => !!stored);
    },

    destroyByUser(userId: string): Promise<number> {
      return backend.deleteByUser(userId);
    },

    count(): Promise<SessionCounts> {
      return backend.count();
    },

    sample(n: number): Promise<SessionRecord[]> {
      return backend.sample(n);
    },

    close(): Promise<void> {
      return backend.close();
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
