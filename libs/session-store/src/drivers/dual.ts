import type { SessionBackend, SessionRecord } from '../backend.js';
import { SessionStoreError } from '../errors.js';
import type { SessionStoreMetrics } from '../metrics.js';
import { createRepairQueue, type Repair } from '../repair-queue.js';
import { systemClock, type Clock } from '../session-store.js';

export interface DualBackendOptions {
  primary: SessionBackend;
  secondary: SessionBackend;
  metrics?: SessionStoreMetrics;
  clock?: Clock;
  /** Copy a session found only in the secondary into the primary. */
  readRepair?: boolean;
  /**
   * Fall back to the secondary when the primary has no such session. Turn it off in the phases
   * next to a single-store phase: a pod that writes one store cannot delete the other's copy,
   * and a fallback read would bring a logged-out session back (docs/session-cutover.md).
   * Fallback on a primary *error* always happens.
   */
  fallbackOnMiss?: boolean;
  /** Shorter lifetime for what is written to the secondary (the store being retired). */
  secondaryMaxTtlMs?: number;
  repairIntervalMs?: number;
  /**
   * Longest wait for the secondary before its call counts as failed (default 1000 ms). Without
   * it a secondary that stops answering holds every write: ioredis with default settings took
   * 74 s to fail one command against a stopped Redis.
   */
  secondaryTimeoutMs?: number;
  onSecondaryFailure?: (op: string, error: unknown) => void;
}

/**
 * `dual` mode: write both in parallel (latency ≈ the slower store, not the sum), read the
 * primary then the secondary, destroy both. A failed secondary write never fails the request:
 * it is counted and queued for repair.
 */
export function createDualBackend(options: DualBackendOptions) {
  const {
    primary,
    secondary,
    metrics,
    clock = systemClock,
    readRepair = false,
    fallbackOnMiss = true,
    secondaryMaxTtlMs,
  } = options;
  const toSecondary = (record: SessionRecord): SessionRecord =>
    secondaryMaxTtlMs ? { ...record, expiresAt: Math.min(record.expiresAt, clock.now() + secondaryMaxTtlMs) } : record;
  const repairs = createRepairQueue({ primary, secondary, metrics, toSecondary });
  // The series exist at 0 from the start, so "no failures" reads as 0 on the dashboard, not "no data".
  for (const op of ['put', 'delete', 'deleteByUser']) metrics?.dualWriteFailures.inc({ store: secondary.name, op }, 0);
  const isLive = (record: SessionRecord | undefined): record is SessionRecord =>
    !!record && record.expiresAt > clock.now();
  /** A secondary copy worth serving: live, and not left stale by a failed write this pod has yet to repair. */
  const isServable = (record: SessionRecord | undefined): record is SessionRecord =>
    isLive(record) && !repairs.covers(record);
  const timeoutMs = options.secondaryTimeoutMs ?? 1000;

  /** The secondary's answer, or a failure once it is late. */
  async function onSecondary<T>(call: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        call(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new SessionStoreError(
                  'session.store_unavailable',
                  `The ${secondary.name} session store did not answer within ${timeoutMs} ms.`,
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs the write on both; the primary's failure is the caller's, the secondary's is queued. */
  async function writeBoth<T>(
    op: string,
    primaryWrite: Promise<T>,
    secondaryWrite: Promise<unknown>,
    repair: Repair,
  ): Promise<T> {
    const [primaryResult, secondaryResult] = await Promise.allSettled([primaryWrite, secondaryWrite]);
    if (secondaryResult.status === 'rejected') {
      metrics?.dualWriteFailures.inc({ store: secondary.name, op });
      options.onSecondaryFailure?.(op, secondaryResult.reason);
      repairs.enqueue(repair);
    }
    if (primaryResult.status === 'rejected') throw primaryResult.reason;
    return primaryResult.value;
  }

  async function get(hash: string): Promise<SessionRecord | undefined> {
    let fromPrimary: SessionRecord | undefined;
    let primaryError: unknown;
    try {
      fromPrimary = await primary.get(hash);
      if (isLive(fromPrimary) || !fallbackOnMiss) return fromPrimary;
    } catch (error) {
      primaryError = error;
    }
    let fromSecondary: SessionRecord | undefined;
    try {
      fromSecondary = await onSecondary(() => secondary.get(hash));
    } catch {
      if (primaryError) throw primaryError;
      return fromPrimary;
    }
    if (!isServable(fromSecondary)) {
      if (primaryError) throw primaryError;
      return fromPrimary;
    }
    metrics?.readFallbacks.inc({ reason: primaryError ? 'primary_error' : 'primary_miss' });
    if (readRepair && !primaryError) await primary.put(fromSecondary).catch(() => undefined);
    return fromSecondary;
  }

  /**
   * get() for several keys in one round trip per store. The secondary is asked only for what
   * the primary lacks (or for everything when the primary fails). Unlike get(), a key missing
   * from both after a primary failure is absent rather than an error: the marker read with
   * every session is usually absent, and dual writes markers to both stores.
   */
  async function getMany(hashes: readonly string[]): Promise<(SessionRecord | undefined)[]> {
    let fromPrimary: (SessionRecord | undefined)[] = hashes.map(() => undefined);
    let primaryError: unknown;
    try {
      fromPrimary = await primary.getMany(hashes);
      if (!fallbackOnMiss || fromPrimary.every(isLive)) return fromPrimary;
    } catch (error) {
      primaryError = error;
    }
    const missing = hashes.filter((_, i) => !isLive(fromPrimary[i]));
    let fromSecondary: (SessionRecord | undefined)[];
    try {
      fromSecondary = await onSecondary(() => secondary.getMany(missing));
    } catch {
      if (primaryError) throw primaryError;
      return fromPrimary;
    }
    const found = new Map(fromSecondary.filter(isServable).map((record) => [record.hash, record]));
    const merged = hashes.map((hash, i) => found.get(hash) ?? fromPrimary[i]);
    for (const record of found.values()) {
      metrics?.readFallbacks.inc({ reason: primaryError ? 'primary_error' : 'primary_miss' });
      if (readRepair && !primaryError) await primary.put(record).catch(() => undefined);
    }
    return merged;
  }

  const timer = setInterval(() => void repairs.drain(), options.repairIntervalMs ?? 5000);
  timer.unref();

  const backend: SessionBackend & { repairs: typeof repairs } = {
    name: 'dual',
    maxDataBytes: Math.min(primary.maxDataBytes, secondary.maxDataBytes),
    repairs,
    get,
    getMany,
    put: (record) =>
      writeBoth(
        'put',
        primary.put(record),
        onSecondary(() => secondary.put(toSecondary(record))),
        { kind: 'session', hash: record.hash },
      ),
    delete: (hash) =>
      writeBoth(
        'delete',
        primary.delete(hash),
        onSecondary(() => secondary.delete(hash)),
        { kind: 'session', hash },
      ),
    deleteByUser: (userId) =>
      writeBoth(
        'deleteByUser',
        primary.deleteByUser(userId),
        onSecondary(() => secondary.deleteByUser(userId)),
        { kind: 'user', userId },
      ),
    async listByUser(userId) {
      const [fromPrimary, fromSecondary] = await Promise.all([
        primary.listByUser(userId),
        fallbackOnMiss ? onSecondary(() => secondary.listByUser(userId)).catch(() => []) : [],
      ]);
      const seen = new Set(fromPrimary.map((record) => record.hash));
      return [...fromPrimary, ...fromSecondary.filter((record) => !seen.has(record.hash) && !repairs.covers(record))];
    },
    count: () => primary.count(),
    sample: (n) => primary.sample(n),
    // The primary holds every session the service reads first; backfill copies from it.
    scan: (cursor, limit) => primary.scan(cursor, limit),
    async close() {
      clearInterval(timer);
      await Promise.all([primary.close(), secondary.close()]);
    },
  };
  return backend;
}

export type DualBackend = ReturnType<typeof createDualBackend>;
