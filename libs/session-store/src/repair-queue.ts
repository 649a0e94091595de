import type { SessionBackend, SessionRecord } from './backend.js';
import type { SessionStoreMetrics } from './metrics.js';

/** What must be made true again on the secondary: one session, or one admin's sessions. */
export type Repair = { kind: 'session'; hash: string } | { kind: 'user'; userId: string };

const keyOf = (repair: Repair) => (repair.kind === 'session' ? `s:${repair.hash}` : `u:${repair.userId}`);

const sameRecord = (a: SessionRecord | undefined, b: SessionRecord | undefined) =>
  a === b || (!!a && !!b && a.userId === b.userId && a.data === b.data && a.expiresAt === b.expiresAt);

/** Copies of one session a repair re-reads before giving up for this drain (it stays queued). */
const SETTLE_ATTEMPTS = 3;

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
export function createRepairQueue({
  primary,
  secondary,
  metrics,
  maxEntries = 100_000,
  toSecondary,
}: RepairQueueOptions) {
  const pending = new Map<string, Repair>();
  const updateDepth = () => metrics?.repairQueueDepth.set(pending.size);
  let running: Promise<number> | undefined;

  /**
   * Makes the secondary's copy of one session match the primary. A request may change the
   * session between our read and our write (a logout, a newer version); the write would then
   * undo it on the secondary, so the primary is read again and the copy redone until both
   * reads agree. Returns false when the session kept changing.
   */
  async function repairSession(hash: string): Promise<boolean> {
    let record = await primary.get(hash);
    for (let attempt = 0; attempt < SETTLE_ATTEMPTS; attempt++) {
      if (record) await secondary.put(toSecondary(record));
      else await secondary.delete(hash);
      const again = await primary.get(hash);
      if (sameRecord(record, again)) return true;
      record = again;
    }
    return false;
  }

  async function apply(repair: Repair): Promise<boolean> {
    if (repair.kind === 'session') return repairSession(repair.hash);
    // Every session the secondary lists for the admin is re-copied from the primary: the ones
    // the primary no longer holds go, and one made since the failure is written, never deleted.
    let settled = true;
    for (const record of await secondary.listByUser(repair.userId))
      settled = (await repairSession(record.hash)) && settled;
    return settled;
  }

  async function drainOnce(limit: number): Promise<number> {
    let applied = 0;
    for (const [key, repair] of pending) {
      if (applied >= limit) break;
      try {
        if (!(await apply(repair))) continue;
      } catch {
        break; // the secondary (or the primary) is likely still down
      }
      // A failure recorded while this repair ran replaced the entry: keep that one queued.
      if (pending.get(key) === repair) pending.delete(key);
      applied += 1;
      metrics?.repairsApplied.inc();
    }
    updateDepth();
    return applied;
  }

  return {
    enqueue(repair: Repair): void {
      const key = keyOf(repair);
      if (!pending.has(key) && pending.size >= maxEntries) {
        metrics?.repairQueueOverflow.inc();
        return;
      }
      pending.delete(key);
      pending.set(key, { ...repair });
      updateDepth();
    },

    get depth(): number {
      return pending.size;
    },

    /** Whether a failed write left the secondary's copy of this record out of date (not repaired yet). */
    covers(record: SessionRecord): boolean {
      return pending.has(`s:${record.hash}`) || (record.userId !== null && pending.has(`u:${record.userId}`));
    },

    /**
     * Replays up to `limit` repairs; stops at the first failure (the secondary is likely still
     * down). One drain at a time: a call made during a drain gets that drain's result.
     */
    drain(limit = 1000): Promise<number> {
      running ??= drainOnce(limit).finally(() => {
        running = undefined;
      });
      return running;
    },
  };
}

export type RepairQueue = ReturnType<typeof createRepairQueue>;
