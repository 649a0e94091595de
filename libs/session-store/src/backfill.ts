// Copies live sessions from one store to another (`portcullis sessions backfill`), for the
// `dual(A→B)` phase of a store move: dual mode writes new and renewed sessions to both
// stores, backfill brings over the ones nobody has touched since dual mode started.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { SessionBackend, SessionRecord } from './backend.js';
import { systemClock, type Clock } from './session-store.js';

export interface BackfillStats {
  /** Records read from the source. */
  scanned: number;
  /** Written to the target (with dryRun: would have been). */
  copied: number;
  /** Already expired in the source. */
  skippedExpired: number;
  /** The target already held the same or a newer copy (expiresAt at least the source's). */
  skippedNewer: number;
  /** Copied, then found deleted in the source (logout, revoke): deleted from the target too. */
  removed: number;
}

export interface BackfillProgress extends BackfillStats {
  /** Where a later run continues; absent once the whole source has been read. */
  cursor?: string;
  done: boolean;
}

export interface BackfillOptions {
  source: SessionBackend;
  target: SessionBackend;
  /** Records per scan page; also the largest burst under `ratePerSecond`. Default 500. */
  batchSize?: number;
  /** Records scanned per second at most, averaged from the start of this run. */
  ratePerSecond?: number;
  /** Continue from this cursor (a checkpoint's), counting on from `stats`. */
  cursor?: string;
  stats?: BackfillStats;
  /** Stop after the batch that reaches this many records in this run (a later run continues). */
  maxRecords?: number;
  /** Stop after the current batch (SIGTERM of a Kubernetes Job). */
  signal?: AbortSignal;
  /** Read and compare, write nothing. */
  dryRun?: boolean;
  /** Records of one batch handled in parallel. Default 16. */
  concurrency?: number;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /** Called after every batch, before the next one is read: write the checkpoint here. */
  onBatch?: (progress: BackfillProgress) => void | Promise<void>;
}

/** A failed batch; `progress` is where the last completed batch left off (resume from it). */
export class BackfillError extends Error {
  constructor(
    message: string,
    readonly progress: BackfillProgress,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'BackfillError';
  }
}

const STAT_KEYS = [
  'scanned',
  'copied',
  'skippedExpired',
  'skippedNewer',
  'removed',
] as const satisfies readonly (keyof BackfillStats)[];

type Outcome = 'copied' | 'skippedExpired' | 'skippedNewer' | 'removed';

/** fn over items, `width` at a time (chunks: simple, and a chunk is short). */
async function inChunks<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width) results.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return results;
}

const sameRecord = (a: SessionRecord, b: SessionRecord) =>
  a.expiresAt === b.expiresAt && a.data === b.data && a.userId === b.userId;

/**
 * Scans the source page by page and copies each live record with its exact expiry. Newer wins:
 * a target copy whose expiresAt is at least the source's is kept, since every write sets
 * expiresAt = now + TTL, so the later write carries the later expiry (dual mode may already
 * have written a renewed copy). Resumable: each batch ends with `onBatch` and a cursor.
 */
export async function backfillSessions(options: BackfillOptions): Promise<BackfillProgress> {
  const {
    source,
    target,
    batchSize = 500,
    ratePerSecond,
    maxRecords,
    signal,
    dryRun = false,
    concurrency = 16,
  } = options;
  // A stop signal cuts a rate-limit wait short: at a low --rate one wait can outlast the Job's grace period.
  const { clock = systemClock, sleep = (ms: number) => delay(ms, undefined, { signal }).catch(() => undefined) } =
    options;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batchSize must be a positive integer, not ${batchSize}`);
  if (ratePerSecond !== undefined && !(ratePerSecond > 0))
    throw new Error(`ratePerSecond must be positive, not ${ratePerSecond}`);
  // Only the counts: a checkpoint passed as `stats` also carries its old cursor and stores.
  const { scanned = 0, copied = 0, skippedExpired = 0, skippedNewer = 0, removed = 0 } = options.stats ?? {};
  const stats: BackfillStats = { scanned, copied, skippedExpired, skippedNewer, removed };
  let cursor = options.cursor;
  const startedAt = clock.now();
  let scannedThisRun = 0;

  async function copy(record: SessionRecord): Promise<Outcome> {
    if (record.expiresAt <= clock.now()) return 'skippedExpired';
    const existing = await target.get(record.hash);
    if (existing && existing.expiresAt >= record.expiresAt) return 'skippedNewer';
    if (dryRun) return 'copied';
    await target.put(record);
    // Read the source again after writing: a logout or revoke that ran between our read and
    // our write deleted the target's copy before we wrote it back, and must win. Likewise a
    // renewal in between: it reached the target first and our older copy replaced it.
    const current = await source.get(record.hash);
    if (!current || current.expiresAt <= clock.now()) {
      await target.delete(record.hash);
      return 'removed';
    }
    if (!sameRecord(current, record)) {
      const latest = await target.get(record.hash);
      if (!latest || latest.expiresAt < current.expiresAt) await target.put(current);
    }
    return 'copied';
  }

  /** Waits until this run's average stays at or under the rate (the first batch goes at once). */
  async function pace(): Promise<void> {
    if (ratePerSecond === undefined) return;
    const due = startedAt + (scannedThisRun / ratePerSecond) * 1000;
    const wait = due - clock.now();
    if (wait > 0) await sleep(wait);
  }

  const stopped = () => signal?.aborted || (maxRecords !== undefined && scannedThisRun >= maxRecords);
  const partial = (): BackfillProgress => ({ ...stats, ...(cursor === undefined ? {} : { cursor }), done: false });
  for (;;) {
    if (stopped()) return partial();
    await pace();
    if (stopped()) return partial();
    try {
      const page = await source.scan(cursor, batchSize);
      const outcomes = await inChunks(page.records, concurrency, copy);
      for (const outcome of outcomes) stats[outcome] += 1;
      stats.scanned += page.records.length;
      scannedThisRun += page.records.length;
      cursor = page.cursor;
    } catch (error) {
      const progress = partial();
      const message = error && typeof error === 'object' && 'message' in error ? String(error.message) : String(error);
      throw new BackfillError(`batch after ${stats.scanned} records failed: ${message}`, progress, { cause: error });
    }
    const progress: BackfillProgress =
      cursor === undefined ? { ...stats, done: true } : { ...stats, cursor, done: false };
    await options.onBatch?.(progress);
    if (progress.done) return progress;
  }
}

/** What `--checkpoint` holds: the progress plus the stores it belongs to. */
export interface BackfillCheckpoint extends BackfillProgress {
  from: string;
  to: string;
  updatedAt: string;
}

const isCount = (value: unknown) => typeof value === 'number' && Number.isInteger(value) && value >= 0;

/** The checkpoint at `path`, or undefined when there is none yet. Throws on a damaged file. */
export async function readBackfillCheckpoint(path: string): Promise<BackfillCheckpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    // Duck-typed: fs errors may come from another realm (jest's vm) than this module's Error.
    if (error && typeof error === 'object' && 'code' in error && error.code === 'ENOENT') return undefined;
    throw error;
  }
  const value: unknown = JSON.parse(text);
  const record = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const countsOk = STAT_KEYS.every((key) => isCount(record[key]));
  const ok =
    countsOk &&
    typeof record.from === 'string' &&
    typeof record.to === 'string' &&
    typeof record.done === 'boolean' &&
    (record.cursor === undefined || typeof record.cursor === 'string');
  if (!ok) throw new Error(`${path} is not a backfill checkpoint`);
  return record as unknown as BackfillCheckpoint;
}

/** Written to a temporary file and renamed, so a kill mid-write leaves the previous checkpoint. */
export async function writeBackfillCheckpoint(path: string, checkpoint: BackfillCheckpoint): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${JSON.stringify(checkpoint, null, 2)}\n`);
  await rename(temporary, path);
}
