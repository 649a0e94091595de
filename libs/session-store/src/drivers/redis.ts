import { createHash } from 'node:crypto';
import { Redis, type Cluster } from 'ioredis';
import type { SessionBackend, SessionRecord } from '../backend.js';
import type { Clock } from '../session-store.js';
import { systemClock } from '../session-store.js';

/**
 * Key layout (see docs/session-store.md, "Redis"):
 *   <prefix>s:<hash>     string `["<userId>"|null,<expiresAt>]\n<data>`, TTL via PX
 *   <prefix>u:<userId>   sorted set of hashes scored by expiresAt, TTL = its longest member
 *   <prefix>by-expiry    sorted set of every hash scored by expiresAt: count() and sample()
 * Every write is one Lua script, so a record and its index entries change together. A script
 * rather than MULTI because the per-user index TTL must equal its highest score, a
 * read-then-write that MULTI cannot express (WATCH is per connection, and this client is
 * shared by every request). Needs Redis 7+ or Valkey (`#!lua` scripts, ZRANDMEMBER) with
 * maxmemory-policy noeviction: an evicted record is a random sign-out.
 */
export type RedisBackendOptions = ({ url: string; client?: never } | { client: Redis | Cluster; url?: never }) & {
  /**
   * Prepended to every key. On Redis Cluster it must contain a hash tag (`{sessions}:`): the
   * scripts touch several keys, which must all hash to one slot.
   */
  keyPrefix: string;
  clock?: Clock;
  /** Default 1 MiB, the product's cap on a session (Redis itself would take 512 MB). */
  maxDataBytes?: number;
  /** Stale `by-expiry` members removed per write; bounds the work one write adds. */
  sweepBatch?: number;
};

// Reads the owner from a record's header without copying a 1 MiB value into Lua: the header
// is a few dozen bytes, so 1 KiB almost always holds it.
const OWNER_LUA = `
local function owner(key)
  local head = redis.call('GETRANGE', key, 0, 1023)
  if head == '' then return nil end
  local nl = string.find(head, '\\n', 1, true)
  if not nl then
    head = redis.call('GET', key)
    nl = string.find(head, '\\n', 1, true)
  end
  local user = cjson.decode(string.sub(head, 1, nl - 1))[1]
  if user == cjson.null then return nil end
  return user
end
-- Drops expired members; the index then lives exactly as long as its longest session (an
-- empty sorted set is deleted by Redis itself).
local function retime(index, now)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  local top = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIRE', index, math.ceil(tonumber(top[2]) - now)) end
end
`;

// KEYS: record, by-expiry[, new owner's index]. ARGV: value, ttl, expiresAt, now, hash,
// prefix, sweepBatch, length of the value's owner header[, userId]. The previous owner's
// index key is derived from the record; it shares the prefix's hash tag, so it lives in the
// same slot as the declared keys.
// Fast path: a stored record that starts with the new value's owner header (`["admin-1",`)
// has the same owner, so nothing is decoded; owner() with its cjson.decode was a third of the
// script's time, and most writes are the same admin's session again.
const PUT_LUA = `${OWNER_LUA}
local now = tonumber(ARGV[4])
local header = string.sub(ARGV[1], 1, tonumber(ARGV[8]))
local head = redis.call('GETRANGE', KEYS[1], 0, #header - 1)
local old
if head == header then old = ARGV[9] elseif head ~= '' then old = owner(KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
if old and old ~= ARGV[9] then
  local index = ARGV[6] .. 'u:' .. old
  redis.call('ZREM', index, ARGV[5])
  retime(index, now)
end
if KEYS[3] then
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[5])
  retime(KEYS[3], now)
end
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[7]))
if #stale > 0 then redis.call('ZREM', KEYS[2], unpack(stale)) end
return 1
`;

// KEYS: record, by-expiry. ARGV: hash, now, prefix.
const DELETE_LUA = `${OWNER_LUA}
local old = owner(KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if old then
  local index = ARGV[3] .. 'u:' .. old
  redis.call('ZREM', index, ARGV[1])
  retime(index, tonumber(ARGV[2]))
end
return 1
`;

// KEYS: index, by-expiry. ARGV: userId, prefix. O(sessions of one admin), bounded by the
// concurrent-session policy. Checks each record's owner so a stale entry never deletes
// another admin's session.
const DELETE_BY_USER_LUA = `${OWNER_LUA}
local deleted = 0
for _, hash in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[2] .. 's:' .. hash
  if owner(key) == ARGV[1] then
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[2], hash)
    deleted = deleted + 1
  end
end
redis.call('DEL', KEYS[1])
return deleted
`;

type Client = Redis | Cluster;

/**
 * EVALSHA, falling back to EVAL once when the server has not seen the script (restart,
 * failover). The `#!lua` line (Redis 7+) opts out of the legacy leniency that lets a script
 * touch undeclared keys in other slots: Redis Cluster then refuses such a script outright, even
 * on a node that owns every slot, instead of it failing only once the slots are spread out.
 */
function script(body: string) {
  const lua = `#!lua\n${body}`;
  const sha = createHash('sha1').update(lua).digest('hex');
  return async (client: Client, keys: string[], args: (string | number)[]): Promise<number> => {
    try {
      return Number(await client.evalsha(sha, keys.length, ...keys, ...args));
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return Number(await client.eval(lua, keys.length, ...keys, ...args));
    }
  };
}

const putScript = script(PUT_LUA);
const deleteScript = script(DELETE_LUA);
const deleteByUserScript = script(DELETE_BY_USER_LUA);

/** Whether Redis Cluster would hash every key under this prefix to one slot. */
function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  const close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
  return close > open + 1;
}

/** `["<userId>",<expiresAt>]` newline data: the owner is readable without parsing the data. */
function encode(record: SessionRecord): string {
  return `${JSON.stringify([record.userId, record.expiresAt])}\n${record.data}`;
}

/** Bytes of `["<userId>",` (or `[null,`) at the start of encode()'s output: the owner part of the header (Lua counts bytes). */
const ownerHeaderLength = (userId: string | null) => Buffer.byteLength(JSON.stringify(userId)) + 2;

function decode(hash: string, value: string | null): SessionRecord | undefined {
  if (value === null) return undefined;
  const newline = value.indexOf('\n');
  const [userId, expiresAt] = JSON.parse(value.slice(0, newline)) as [string | null, number];
  return { hash, userId, expiresAt, data: value.slice(newline + 1) };
}

export function createRedisBackend(options: RedisBackendOptions): SessionBackend {
  const { keyPrefix: prefix, clock = systemClock, maxDataBytes = 1024 * 1024, sweepBatch = 100 } = options;
  const owned = options.client === undefined;
  const client: Client = options.client ?? new Redis(options.url);
  if (client.options.keyPrefix) {
    // The scripts build key names themselves; ioredis would prefix only the declared ones.
    throw new Error('createRedisBackend: pass keyPrefix to the backend, not to the ioredis client');
  }
  if (client.isCluster && !hasHashTag(prefix)) {
    throw new Error(
      `createRedisBackend: on Redis Cluster keyPrefix must contain a hash tag such as "{sessions}:" (got "${prefix}")`,
    );
  }
  const recordKey = (hash: string) => `${prefix}s:${hash}`;
  const userKey = (userId: string) => `${prefix}u:${userId}`;
  const byExpiry = `${prefix}by-expiry`;

  /** One MGET; on Cluster every key shares the prefix's hash tag, so one slot. */
  async function getMany(hashes: readonly string[]): Promise<(SessionRecord | undefined)[]> {
    const values = hashes.length === 0 ? [] : await client.mget(hashes.map(recordKey));
    return hashes.map((hash, i) => decode(hash, values[i] ?? null));
  }
  const fetch = async (hashes: string[]): Promise<SessionRecord[]> =>
    (await getMany(hashes)).filter((record): record is SessionRecord => !!record);

  const backend: SessionBackend = {
    name: 'redis',
    maxDataBytes,
    async get(hash) {
      return decode(hash, await client.get(recordKey(hash)));
    },
    getMany,
    async put(record) {
      const now = clock.now();
      const ttl = Math.ceil(record.expiresAt - now);
      // Already dead: storing it would need a non-positive PX, which Redis rejects.
      if (ttl <= 0) return backend.delete(record.hash);
      const keys = [recordKey(record.hash), byExpiry];
      const args: (string | number)[] = [
        encode(record),
        ttl,
        record.expiresAt,
        now,
        record.hash,
        prefix,
        sweepBatch,
        ownerHeaderLength(record.userId),
      ];
      if (record.userId !== null) {
        keys.push(userKey(record.userId));
        args.push(record.userId);
      }
      await putScript(client, keys, args);
    },
    async delete(hash) {
      await deleteScript(client, [recordKey(hash), byExpiry], [hash, clock.now(), prefix]);
    },
    async listByUser(userId) {
      const records = await fetch(await client.zrange(userKey(userId), '0', '-1'));
      return records.filter((record) => record.userId === userId);
    },
    deleteByUser(userId) {
      return deleteByUserScript(client, [userKey(userId), byExpiry], [userId, prefix]);
    },
    async count() {
      // Two O(log n) ZCOUNTs on by-expiry: ~0.2 ms at 1M members, no scan at any size.
      const now = clock.now();
      const [live, expired] = await Promise.all([
        client.zcount(byExpiry, `(${now}`, '+inf'),
        client.zcount(byExpiry, '-inf', now),
      ]);
      return { live, expired, exact: true };
    },
    async sample(n) {
      if (n <= 0) return [];
      return fetch(await client.zrandmember(byExpiry, n));
    },
    async scan(cursor, limit) {
      if (!Number.isInteger(limit) || limit < 1) throw new Error(`scan limit must be a positive integer, not ${limit}`);
      // Pages through by-expiry in its own order, (score, hash), with the last pair as cursor.
      // Not ZSCAN: its cursor is a position in the server's hash table, which a restart or a
      // failover (new hash seed) invalidates, so a checkpoint could not outlive them. The
      // price: a rewrite that moves a record's expiry past the cursor makes it come again.
      const match = cursor === undefined ? undefined : /^redis:([^:]+):(.+)$/.exec(cursor);
      const afterScore = match ? Number(match[1]) : undefined;
      if (cursor !== undefined && !Number.isFinite(afterScore))
        throw new Error('This cursor does not come from a redis store scan.');
      const afterHash = match?.[2] ?? '';
      const isAfter = (hash: string, score: number) =>
        afterScore === undefined || score > afterScore || (score === afterScore && hash > afterHash);
      const entries: { hash: string; score: number }[] = [];
      // Members sharing the cursor's score sort by hash and may precede it; skip past them.
      for (let offset = 0; entries.length <= limit; offset += limit + 1) {
        const reply = await client.zrange(
          byExpiry,
          afterScore === undefined ? '-inf' : String(afterScore),
          '+inf',
          'BYSCORE',
          'LIMIT',
          offset,
          limit + 1,
          'WITHSCORES',
        );
        for (let i = 0; i + 1 < reply.length; i += 2) {
          const hash = reply[i] as string;
          const score = Number(reply[i + 1]);
          if (isAfter(hash, score)) entries.push({ hash, score });
        }
        if (reply.length < 2 * (limit + 1)) break;
      }
      const page = entries.slice(0, limit);
      // Members whose record Redis has already expired are dropped, so a page may come up short.
      const records = await fetch(page.map((entry) => entry.hash));
      const last = page.at(-1);
      return entries.length > limit && last ? { records, cursor: `redis:${last.score}:${last.hash}` } : { records };
    },
    async close() {
      if (owned) await client.quit();
    },
  };
  return backend;
}
