import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { SessionBackend, SessionCounts } from './backend.js';

/** The session-store series Grafana and the alerts read. One instance per registry. */
export function createSessionStoreMetrics(registry: Registry) {
  const registers = [registry];
  const metrics = {
    operationDuration: new Histogram({
      name: 'session_store_operation_duration_seconds',
      help: 'Session store operation latency',
      labelNames: ['store', 'op'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    operationErrors: new Counter({
      name: 'session_store_errors_total',
      help: 'Failed session store operations',
      labelNames: ['store', 'op'] as const,
      registers,
    }),
    items: new Gauge({
      name: 'session_store_items',
      help: 'Sessions per store (cached; estimated on large tables)',
      labelNames: ['store', 'state'] as const,
      registers,
    }),
    itemsExact: new Gauge({
      name: 'session_store_items_exact',
      help: '1 when session_store_items is an exact count, 0 when estimated',
      labelNames: ['store'] as const,
      registers,
    }),
    dualWriteFailures: new Counter({
      name: 'session_store_dual_write_failures_total',
      help: 'Secondary writes that failed in dual mode (queued for repair)',
      labelNames: ['store', 'op'] as const,
      registers,
    }),
    readFallbacks: new Counter({
      name: 'session_store_read_fallbacks_total',
      help: 'Dual-mode reads answered by the secondary',
      labelNames: ['reason'] as const,
      registers,
    }),
    repairQueueDepth: new Gauge({
      name: 'session_store_repair_queue_depth',
      help: 'Secondary writes waiting to be repaired',
      registers,
    }),
    repairQueueOverflow: new Counter({
      name: 'session_store_repair_queue_overflow_total',
      help: 'Repairs dropped because the queue was full (run sessions backfill)',
      registers,
    }),
    repairsApplied: new Counter({
      name: 'session_store_repairs_total',
      help: 'Repairs applied to the secondary',
      registers,
    }),
    consistencyChecks: new Counter({
      name: 'session_store_consistency_checks_total',
      help: 'Sampled sessions compared between the two stores',
      registers,
    }),
    consistencyMismatches: new Counter({
      name: 'session_store_consistency_mismatches_total',
      help: 'Sampled sessions that differ between the two stores',
      labelNames: ['kind'] as const,
      registers,
    }),
    phaseInfo: new Gauge({
      name: 'session_store_phase_info',
      help: 'The session store phase this pod runs (SESSION_STORE_PHASE): always 1',
      labelNames: ['phase', 'from', 'to', 'config_hash'] as const,
      registers,
    }),
    phaseCompatible: new Gauge({
      name: 'session_store_phase_compatible',
      help: 'Phases other pods may run beside this one during a rolling deploy (its own and its neighbours): always 1',
      labelNames: ['phase', 'from', 'to'] as const,
      registers,
    }),
    throttles: new Counter({
      name: 'session_store_throttles_total',
      help: 'Throttled requests retried (DynamoDB)',
      labelNames: ['store'] as const,
      registers,
    }),
  };
  // A labelled counter has no series until its first increment, so a quiet pod's panels and
  // alerts would read "no data" (found by the cutover drill): the known label values start at 0.
  for (const reason of ['primary_miss', 'primary_error']) metrics.readFallbacks.inc({ reason }, 0);
  return metrics;
}

export type SessionStoreMetrics = ReturnType<typeof createSessionStoreMetrics>;

/** What a pod says about its phase (sessionPhaseInfo of @portcullis/config): one series of each. */
export interface PhaseLabels {
  phase: string;
  from: string;
  to: string;
  configHash: string;
  compatible: { phase: string; from: string; to: string }[];
}

/**
 * Sets session_store_phase_info and session_store_phase_compatible. The alert on non-adjacent
 * phases compares them across pods, so the adjacency rule lives in one place (the config lib).
 */
export function exportSessionPhase(metrics: SessionStoreMetrics, labels: PhaseLabels): void {
  metrics.phaseInfo.set({ phase: labels.phase, from: labels.from, to: labels.to, config_hash: labels.configHash }, 1);
  for (const position of labels.compatible) metrics.phaseCompatible.set(position, 1);
}

const OPERATIONS = [
  'get',
  'getMany',
  'put',
  'delete',
  'listByUser',
  'deleteByUser',
  'count',
  'sample',
  'scan',
] as const;

/** Wraps a backend so every operation is timed and its failures counted under `store`. */
export function instrumentBackend(
  backend: SessionBackend,
  metrics: SessionStoreMetrics,
  store = backend.name,
): SessionBackend {
  const instrumented = {
    ...backend,
    name: backend.name,
    maxDataBytes: backend.maxDataBytes,
    close: () => backend.close(),
  } as SessionBackend;
  for (const op of OPERATIONS) {
    const original = backend[op].bind(backend) as (...args: unknown[]) => Promise<unknown>;
    // The series of this store and operation, looked up once rather than by labels per call.
    const duration = metrics.operationDuration.labels({ store, op });
    metrics.operationErrors.inc({ store, op }, 0); // 0 on the dashboard before the first failure
    (instrumented as unknown as Record<string, unknown>)[op] = async (...args: unknown[]) => {
      const started = performance.now();
      try {
        return await original(...args);
      } catch (error) {
        metrics.operationErrors.inc({ store, op });
        throw error;
      } finally {
        duration.observe((performance.now() - started) / 1000);
      }
    };
  }
  return instrumented;
}

/**
 * Keeps `session_store_items` fresh on a schedule, never per scrape: a scrape reads the cached
 * figures, so Prometheus cannot turn into a load on a 10M-row table.
 */
export function startItemCounter(
  stores: Record<string, SessionBackend>,
  metrics: SessionStoreMetrics,
  intervalMs = 60_000,
) {
  const refresh = async () => {
    await Promise.all(
      Object.entries(stores).map(async ([store, backend]) => {
        let counts: SessionCounts;
        try {
          counts = await backend.count();
        } catch {
          return; // the failed count is already in session_store_errors_total
        }
        metrics.items.set({ store, state: 'live' }, counts.live);
        metrics.items.set({ store, state: 'expired' }, counts.expired);
        metrics.itemsExact.set({ store }, counts.exact ? 1 : 0);
      }),
    );
  };
  // A first count at start-up: a new pod's gauges would otherwise be missing for a minute.
  void refresh();
  const timer = setInterval(() => void refresh(), intervalMs);
  timer.unref();
  return { refresh, stop: () => clearInterval(timer) };
}
