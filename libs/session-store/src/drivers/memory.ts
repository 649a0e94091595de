import type { SessionBackend, SessionRecord } from '../backend.js';
import type { Clock } from '../session-store.js';
import { systemClock } from '../session-store.js';

/** Development only (refused in production by libs/config). Expired records stay until read or swept. */
export function createMemoryBackend({
  clock = systemClock,
  maxDataBytes = 1024 * 1024,
}: { clock?: Clock; maxDataBytes?: number } = {}): SessionBackend {
  const records = new Map<string, SessionRecord>();
  let writes = 0;
  const sweep = () => {
    for (const [hash, record] of records) if (record.expiresAt <= clock.now()) records.delete(hash);
  };
  return {
    name: 'memory',
    maxDataBytes,
    async get(hash) {
      return records.get(hash);
    },
    async getMany(hashes) {
      return hashes.map((hash) => records.get(hash));
    },
    async put(record) {
      records.set(record.hash, { ...record });
      // Every 1000th write, not every write at a size that happens to be a multiple of 1000.
      if (++writes % 1000 === 0) sweep();
    },
    async delete(hash) {
      records.delete(hash);
    },
    async listByUser(userId) {
      return [...records.values()].filter((record) => record.userId === userId);
    },
    async deleteByUser(userId) {
      let deleted = 0;
      for (const [hash, record] of records) {
        if (record.userId === userId) {
          records.delete(hash);
          deleted += 1;
        }
      }
      return deleted;
    },
    async count() {
      const now = clock.now();
      let live = 0;
      for (const record of records.values()) if (record.expiresAt > now) live += 1;
      return { live, expired: records.size - live, exact: true };
    },
    async sample(n) {
      return [...records.values()].slice(0, n);
    },
    async scan(cursor, limit) {
      if (!Number.isInteger(limit) || limit < 1) throw new Error(`scan limit must be a positive integer, not ${limit}`);
      if (cursor !== undefined && !cursor.startsWith('memory:'))
        throw new Error('This cursor does not come from a memory store scan.');
      // Keyset by hash, like knex: sorting every call is O(n log n), fine for a development store.
      const after = cursor?.slice('memory:'.length);
      const hashes = [...records.keys()].filter((hash) => after === undefined || hash > after).sort();
      const page = hashes.slice(0, limit).flatMap((hash) => {
        const record = records.get(hash);
        return record ? [{ ...record }] : [];
      });
      const last = page.at(-1);
      return hashes.length > limit && last ? { records: page, cursor: `memory:${last.hash}` } : { records: page };
    },
    async close() {
      records.clear();
    },
  };
}
