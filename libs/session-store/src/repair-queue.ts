import type { SessionBackend, SessionRecord } from './backend.js';
import type { SessionStoreMetrics } from './metrics.js';

/** What must be made true again on the secondary: one session, or one admin's sessions. */
export type Repair = { kind: 'session'; hash: string } | { kind: 'user'; userId: string };

const keyOf = (repair: Repair) => (repair.kind === 'session' ? `s:${repair.hash}` : `u:${repair.userId}`);

export interface RepairQueueOptions {
  primary: SessionBackend;
  secondary: SessionBackend;
  metrics?: SessionStoreMetrics;
  /** Caps what one pod remembers; past it repairs are counted as dropped and backfill is needed. */
  maxEntries?: number;
  /** Makes the record written to the secondary match what a dual write would have written. */
  toSecondary: (record: SessionRecord) => SessionRecord;
}

/**
 * Failed secondary writes, remembered by key (the latest failure per session wins) and replayed
 * from the primary's current state, so a repair never writes stale data. In memory: a pod that
 * restarts forgets its queue, which `sessions verify` and `sessions backfill` then catch.
 */
export function createRepairQueue({ primary, secondary, metrics, maxEntries = 100_000, toSecondary }: RepairQueueOptions) {
  const pending = new Map<string, Repair>();
  const updateDepth = () => metrics?.repairQueueDepth.set(pending.size);

  async function apply(repair: Repair): Promise<void> {
    if (repair.kind === 'session') {
      const record = await primary.get(repair.hash);
      if (record) await secondary.put(toSecondary(record));
      else await secondary.delete(repair.hash);
      return;
    }
    // Only what the primary no longer has goes: sessions made after the failure must stay.
    const current = new Set((await primary.listByUser(repair.userId)).map((record) => record.hash));
    for (const record of await secondary.listByUser(repair.userId)) {
      if (!current.has(record.hash)) await secondary.delete(record.hash);
    }
  }

  return {
    enqueue(repair: Repair): void {
      const key = keyOf(repair);
      if (!pending.has(key) && pending.size >= maxEntries) {
        metrics?.repairQueueOverflow.inc();
        return;
      }
      pending.delete(key);
      pending.set(key, repair);
      updateDepth();
    },

    get depth(): number {
      return pending.size;
    },

    /** Replays up to `limit` repairs; stops at the first failure (the secondary is likely still down). */
    async drain(limit = 1000): Promise<number> {
      let applied = 0;
      for (const [key, repair] of pending) {
        if (applied >= limit) break;
        try {
          await apply(repair);
        } catch {
          break;
        }
        pending.delete(key);
        applied += 1;
        metrics?.repairsApplied.inc();
      }
      updateDepth();
      return applied;
    },
  };
}

export type RepairQueue = ReturnType<typeof createRepairQueue>;
