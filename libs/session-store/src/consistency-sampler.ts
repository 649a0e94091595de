// The dual-write period's running check: every pod in `dual` mode compares a small sample of
// sessions between its two stores on a timer, so session_store_consistency_* move on the
// dashboards and the "stores disagree" alert can fire between the operator's `sessions verify`
// runs. The same comparison as verify (a disagreement is read again before it counts), without
// verify's counts, which cost a DescribeTable or a bounded count per round.
import type { SessionBackend } from './backend.js';
import type { SessionStoreMetrics } from './metrics.js';
import type { Clock } from './session-store.js';
import { compareSampledSessions } from './verify.js';

export interface ConsistencySamplerOptions {
  primary: SessionBackend;
  secondary: SessionBackend;
  metrics: SessionStoreMetrics;
  /** Sessions sampled from each side per round. */
  sampleSize: number;
  intervalMs: number;
  /** As the dual store writes the retiring secondary: its copies may end early. */
  secondaryMaxTtlMs?: number;
  clock?: Clock;
}

export function startConsistencySampler(options: ConsistencySamplerOptions): {
  sampleNow(): Promise<void>;
  stop(): void;
} {
  const { primary, secondary, metrics, sampleSize, intervalMs, secondaryMaxTtlMs, clock } = options;
  let running: Promise<void> | undefined;

  function sampleNow(): Promise<void> {
    // A slow round (a store timing out) is never overlapped by the next one.
    running ??= compareSampledSessions({
      primary,
      secondary,
      sampleSize,
      metrics,
      concurrency: 4,
      ...(secondaryMaxTtlMs !== undefined ? { secondaryMaxTtlMs } : {}),
      ...(clock ? { clock } : {}),
    })
      .then(() => undefined)
      .catch(() => void metrics.operationErrors.inc({ store: 'dual', op: 'consistency_sample' }))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  const timer = setInterval(() => void sampleNow(), intervalMs);
  timer.unref();
  return { sampleNow, stop: () => clearInterval(timer) };
}
