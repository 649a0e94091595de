// Sampled comparison of two session stores: the go/no-go of `portcullis sessions verify`
// before a cutover, and a check a service in dual mode can run on a schedule (with metrics).
import type { SessionBackend, SessionCounts, SessionRecord } from './backend.js';
import type { SessionStoreMetrics } from './metrics.js';
import { systemClock, type Clock } from './session-store.js';

export const MISMATCH_KINDS = ['missing_in_secondary', 'missing_in_primary', 'data', 'expiry'] as const;
/** The `kind` label of session_store_consistency_mismatches_total. */
export type MismatchKind = (typeof MISMATCH_KINDS)[number];

export interface Mismatch {
  kind: MismatchKind;
  hash: string;
  /** Sentence for the report: what each side holds (never the session data). */
  detail: string;
}

export interface VerifyOptions {
  /** The store that holds the truth (dual mode's primary, or the store being copied from). */
  primary: SessionBackend;
  secondary: SessionBackend;
  /** Records sampled from each side. Default 1000. */
  sampleSize?: number;
  /** Largest accepted difference between the two expiries. Default 2000 ms. */
  toleranceMs?: number;
  /**
   * SESSION_RETIRING_STORE_TTL_SECONDS (in ms) when the secondary is the store being retired:
   * dual mode then writes it min(expiry, now + TTL), so it may hold shorter-lived copies or
   * none at all, but never a longer-lived or different one. Its count is not judged either.
   */
  secondaryMaxTtlMs?: number;
  /** Largest accepted gap between two exact live counts, as a share of the primary's. Default 0.01. */
  countTolerance?: number;
  /**
   * Count both stores exactly by a full scan (exactCount) instead of their cheap count(), which
   * estimates on large tables. Costs a read of every record: `sessions verify --exact`.
   */
  exactCounts?: boolean;
  /** Stops an exact count (a scan can take long on 10M records). */
  signal?: AbortSignal;
  concurrency?: number;
  clock?: Clock;
  /** Counts into session_store_consistency_checks_total / _mismatches_total{kind}. */
  metrics?: SessionStoreMetrics;
}

export interface VerifyReport {
  primary: { name: string; counts: SessionCounts; sampled: number };
  secondary: { name: string; counts: SessionCounts; sampled: number };
  /** Sampled sessions compared (those live on at least one side). */
  compared: number;
  mismatches: Mismatch[];
  /** Why not to cut over, one sentence each; empty means go. */
  reasons: string[];
  go: boolean;
  /** Both counts exact: their difference was judged. False: estimates, not judged (countNote says so). */
  countsExact: boolean;
  /** Live count of the primary minus the secondary's, and that gap as a share of the primary's. */
  countDifference: { live: number; share: number };
  /** Said whenever the counts were not compared, so a skipped comparison is never silent. */
  countNote?: string;
}

type Side = SessionRecord | undefined;

const short = (hash: string) => `${hash.slice(0, 12)}…`;

/**
 * Verdict on one session: undefined when the two sides agree. Sessions that expire within the
 * tolerance are left alone: one side may already treat them as gone.
 */
function judge(
  primary: Side,
  secondary: Side,
  now: number,
  toleranceMs: number,
  retiring: boolean,
): Mismatch | undefined {
  const live = (record: Side): record is SessionRecord => !!record && record.expiresAt > now + toleranceMs;
  const gone = (record: Side) => !record || record.expiresAt <= now;
  const hash = (primary ?? secondary)?.hash ?? '';
  if (live(primary) && gone(secondary)) {
    // The retiring store legitimately lets sessions die early.
    return !retiring
      ? {
          kind: 'missing_in_secondary',
          hash,
          detail: `${short(hash)} is live in the primary and missing in the secondary.`,
        }
      : undefined;
  }
  if (live(secondary) && gone(primary))
    return {
      kind: 'missing_in_primary',
      hash,
      detail: `${short(hash)} is live in the secondary and missing in the primary.`,
    };
  if (!primary || !secondary || gone(primary) || gone(secondary)) return undefined;
  if (primary.data !== secondary.data || primary.userId !== secondary.userId) {
    return {
      kind: 'data',
      hash,
      detail: `${short(hash)} holds different ${primary.userId === secondary.userId ? 'data' : 'owners'} in the two stores.`,
    };
  }
  // Not `min(primary, now + TTL)`: copies written before the TTL was shortened keep their full
  // expiry until the next write, so only "never later than the primary" holds for every copy.
  const earliest = retiring ? Number.NEGATIVE_INFINITY : primary.expiresAt;
  if (secondary.expiresAt > primary.expiresAt + toleranceMs || secondary.expiresAt < earliest - toleranceMs) {
    const delta = secondary.expiresAt - primary.expiresAt;
    return {
      kind: 'expiry',
      hash,
      detail: `${short(hash)} expires ${Math.abs(delta)} ms ${delta > 0 ? 'later' : 'earlier'} in the secondary than in the primary.`,
    };
  }
  return undefined;
}

/** fn over items, `width` at a time (chunks: simple, and a chunk is short). */
async function inChunks<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width) results.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return results;
}

function countReason(primary: SessionCounts, secondary: SessionCounts, tolerance: number): string | undefined {
  // Estimates (statistics, DescribeTable) can be far off; only two exact counts are judged.
  if (!primary.exact || !secondary.exact) return undefined;
  const gap = Math.abs(primary.live - secondary.live);
  if (gap <= Math.ceil(primary.live * tolerance)) return undefined;
  return `The live counts differ by ${gap} (primary ${primary.live}, secondary ${secondary.live}), more than ${tolerance * 100}% of the primary's.`;
}

export interface SampleComparison {
  sampled: { primary: number; secondary: number };
  /** Sampled sessions compared (those live on at least one side). */
  compared: number;
  mismatches: Mismatch[];
}

/**
 * Compares `sampleSize` sessions sampled from each side against the other. A disagreement is
 * read again from both sides before it counts, so a write or logout landing between the two
 * reads is not reported. Counts into the consistency metrics when given them.
 */
export async function compareSampledSessions(
  options: Omit<VerifyOptions, 'countTolerance'>,
): Promise<SampleComparison> {
  const {
    primary,
    secondary,
    sampleSize = 1000,
    toleranceMs = 2000,
    secondaryMaxTtlMs,
    concurrency = 16,
    clock = systemClock,
    metrics,
  } = options;
  const retiring = secondaryMaxTtlMs !== undefined;
  const [fromPrimary, fromSecondary] = await Promise.all([primary.sample(sampleSize), secondary.sample(sampleSize)]);

  // Each hash once, with whatever its sampled side already told us.
  const known = new Map<string, { primary?: SessionRecord; secondary?: SessionRecord }>();
  for (const record of fromPrimary) known.set(record.hash, { primary: record });
  for (const record of fromSecondary) known.set(record.hash, { ...known.get(record.hash), secondary: record });

  const verdicts = await inChunks([...known], concurrency, async ([hash, sides]) => {
    const first = [sides.primary ?? (await primary.get(hash)), sides.secondary ?? (await secondary.get(hash))] as const;
    const now = clock.now();
    if (first.every((record) => !record || record.expiresAt <= now)) return { compared: false, mismatch: undefined };
    if (!judge(first[0], first[1], now, toleranceMs, retiring)) return { compared: true, mismatch: undefined };
    const [again, againSecondary] = await Promise.all([primary.get(hash), secondary.get(hash)]);
    return { compared: true, mismatch: judge(again, againSecondary, clock.now(), toleranceMs, retiring) };
  });

  const mismatches = verdicts.flatMap((verdict) => (verdict.mismatch ? [verdict.mismatch] : []));
  const compared = verdicts.filter((verdict) => verdict.compared).length;
  metrics?.consistencyChecks.inc(compared);
  for (const mismatch of mismatches) metrics?.consistencyMismatches.inc({ kind: mismatch.kind });
  return { sampled: { primary: fromPrimary.length, secondary: fromSecondary.length }, compared, mismatches };
}

/**
 * Exact live and expired counts by one full scan (the backfill's iteration): every record is
 * read once, so its cost is that of a backfill's reads. For `verify --exact` only.
 */
export async function exactCount(
  backend: SessionBackend,
  options: { clock?: Clock; pageSize?: number; signal?: AbortSignal } = {},
): Promise<SessionCounts> {
  const { clock = systemClock, pageSize = 1000, signal } = options;
  const now = clock.now();
  let [live, expired] = [0, 0];
  let cursor: string | undefined;
  do {
    signal?.throwIfAborted();
    const page = await backend.scan(cursor, pageSize);
    for (const record of page.records) {
      if (record.expiresAt > now) live++;
      else expired++;
    }
    cursor = page.cursor;
  } while (cursor);
  return { live, expired, exact: true };
}

/** Counts both stores and compares sampled sessions (compareSampledSessions): go or no-go for a cutover. */
export async function verifyStores(options: VerifyOptions): Promise<VerifyReport> {
  const { primary, secondary, secondaryMaxTtlMs, countTolerance = 0.01, exactCounts = false } = options;
  const retiring = secondaryMaxTtlMs !== undefined;
  const countOf = (backend: SessionBackend) =>
    exactCounts
      ? exactCount(backend, {
          ...(options.clock ? { clock: options.clock } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        })
      : backend.count();
  const [primaryCounts, secondaryCounts, { sampled, compared, mismatches }] = await Promise.all([
    countOf(primary),
    countOf(secondary),
    compareSampledSessions(options),
  ]);

  const reasons: string[] = [];
  if (mismatches.length > 0) {
    const kinds = MISMATCH_KINDS.map(
      (kind) => [kind, mismatches.filter((mismatch) => mismatch.kind === kind).length] as const,
    )
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => `${n} ${kind.replaceAll('_', ' ')}`)
      .join(', ');
    reasons.push(`${mismatches.length} of ${compared} sampled sessions differ (${kinds}).`);
  }
  // The retiring store holds fewer sessions by design, so its count says nothing.
  const counts = !retiring ? countReason(primaryCounts, secondaryCounts, countTolerance) : undefined;
  if (counts) reasons.push(counts);

  const countsExact = primaryCounts.exact && secondaryCounts.exact;
  const gap = primaryCounts.live - secondaryCounts.live;
  const estimated = [primaryCounts.exact ? '' : primary.name, secondaryCounts.exact ? '' : secondary.name].filter(
    Boolean,
  );
  const countNote = retiring
    ? 'The counts were not compared: the retiring store holds fewer sessions by design.'
    : !countsExact
      ? `The counts were not compared: ${estimated.join(' and ')} gave ${estimated.length === 1 ? 'an estimate' : 'estimates'} (large table); run with --exact to count both exactly.`
      : undefined;
  return {
    primary: { name: primary.name, counts: primaryCounts, sampled: sampled.primary },
    secondary: { name: secondary.name, counts: secondaryCounts, sampled: sampled.secondary },
    compared,
    mismatches,
    reasons,
    go: reasons.length === 0,
    countsExact,
    countDifference: {
      live: gap,
      share: primaryCounts.live > 0 ? gap / primaryCounts.live : secondaryCounts.live > 0 ? -1 : 0,
    },
    ...(countNote ? { countNote } : {}),
  };
}
