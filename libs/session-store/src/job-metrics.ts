// The results of the scheduled session jobs on /metrics. The CLI records each run in
// operational_job_runs (queries/job-runs.ts); a service reads the newest run of each (job,
// outcome) when Prometheus scrapes, at most once per `cacheMs` however many scrapes and gauges
// ask, and keeps the last figures it read while the database does not answer (the timestamps
// then age, which is what the staleness alert watches). This module owns the figures' format:
// what the CLI writes (cleanupFigures, verifyFigures) is what the gauges read.
import { Gauge, type Registry } from 'prom-client';
import type { CleanupResult } from './knex-schema.js';
import type { JobName, JobFigures, JobRun } from './queries/job-runs.js';
import { MISMATCH_KINDS, type VerifyReport } from './verify.js';

/** What a sessions-cleanup run records. */
export function cleanupFigures(
  result: CleanupResult,
  details: { batchSize: number; seconds: number; table: string },
): JobFigures {
  return {
    rows_removed: result.deleted,
    batches: result.batches,
    finished: result.finished,
    batch_size: details.batchSize,
    seconds: details.seconds,
    table: details.table,
  };
}

/** What a sessions-verify run records: the verdict and counts, never a session hash. */
export function verifyFigures(report: VerifyReport, seconds: number): JobFigures {
  const mismatches = Object.fromEntries(
    MISMATCH_KINDS.map((kind) => [kind, report.mismatches.filter((mismatch) => mismatch.kind === kind).length]),
  );
  return {
    go: report.go,
    primary: report.primary.name,
    secondary: report.secondary.name,
    compared: report.compared,
    mismatches,
    primary_live: report.primary.counts.live,
    secondary_live: report.secondary.counts.live,
    seconds,
  };
}

/** Which jobs apply to this deployment's store: cleanup when knex is one of the stores, verify while dual. */
export function sessionJobsInUse(settings: {
  SESSION_STORE_DRIVER: string;
  SESSION_STORE_PRIMARY?: string | undefined;
  SESSION_STORE_SECONDARY?: string | undefined;
}): { cleanup: boolean; verify: boolean } {
  const dual = settings.SESSION_STORE_DRIVER === 'dual';
  const stores = dual
    ? [settings.SESSION_STORE_PRIMARY, settings.SESSION_STORE_SECONDARY]
    : [settings.SESSION_STORE_DRIVER];
  return { cleanup: stores.includes('knex'), verify: dual };
}

export interface JobRunMetricsOptions {
  /** The newest run of each (job, outcome): JobRunQueries.latest. */
  latest: () => Promise<JobRun[]>;
  /** Export the sessions-cleanup series (only where the knex store is in use, so the alert does not fire elsewhere). */
  cleanup: boolean;
  /** Export the sessions-verify series (only while dual). */
  verify: boolean;
  /** Default 10 s: a figure changes once per job run, every few minutes at most. */
  cacheMs?: number;
  onError?: (error: unknown) => void;
}

const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

export function createJobRunMetrics(registry: Registry, options: JobRunMetricsOptions) {
  const { latest, cacheMs = 10_000, onError } = options;
  const exported: Record<JobName, boolean> = { 'sessions-cleanup': options.cleanup, 'sessions-verify': options.verify };
  // A read in flight is shared too: the gauges of one scrape are collected together.
  let cache: { at: number; pending: boolean; runs: Promise<JobRun[]> } | undefined;
  let lastRead: JobRun[] = [];
  const runs = (): Promise<JobRun[]> => {
    const now = Date.now();
    if (!cache || (!cache.pending && now - cache.at >= cacheMs)) {
      const entry: { at: number; pending: boolean; runs: Promise<JobRun[]> } = {
        at: now,
        pending: true,
        runs: Promise.resolve([]),
      };
      entry.runs = latest()
        .then(
          (rows) => (lastRead = rows.filter((run) => exported[run.job])),
          (error: unknown) => {
            onError?.(error);
            return lastRead;
          },
        )
        .finally(() => (entry.pending = false));
      cache = entry;
    }
    return cache.runs;
  };
  /** The newest run of a job among the given outcomes. */
  const newest = (all: JobRun[], job: JobName, outcomes?: readonly string[]) =>
    all
      .filter((run) => run.job === job && (!outcomes || outcomes.includes(run.outcome)))
      .sort((a, b) => b.finishedAt.getTime() - a.finishedAt.getTime())[0];
  const registers = [registry];

  new Gauge({
    name: 'portcullis_job_last_run_timestamp_seconds',
    help: 'When the newest run of each scheduled job with each outcome finished (from operational_job_runs)',
    labelNames: ['job', 'outcome'] as const,
    registers,
    async collect() {
      const all = await runs();
      this.reset();
      for (const run of all) this.set({ job: run.job, outcome: run.outcome }, run.finishedAt.getTime() / 1000);
    },
  });
  if (options.cleanup) {
    new Gauge({
      name: 'portcullis_session_cleanup_rows_removed',
      help: 'Expired sessions the newest `portcullis sessions cleanup` run deleted from the knex store',
      // A label, so that no series exists before the first recorded run (an unlabelled gauge reads 0).
      labelNames: ['table'] as const,
      registers,
      async collect() {
        const run = newest(await runs(), 'sessions-cleanup');
        const rows = num(run?.figures.rows_removed);
        this.reset();
        if (run && rows !== undefined) this.set({ table: String(run.figures.table ?? '') }, rows);
      },
    });
  }
  if (!options.verify) return;
  const verdict = async () => newest(await runs(), 'sessions-verify', ['success', 'no_go']);
  const pair = (run: JobRun) => ({
    primary: String(run.figures.primary ?? ''),
    secondary: String(run.figures.secondary ?? ''),
  });
  new Gauge({
    name: 'portcullis_sessions_verify_ok',
    help: 'Verdict of the newest `portcullis sessions verify --record` that compared the stores: 1 go, 0 no-go',
    labelNames: ['primary', 'secondary'] as const,
    registers,
    async collect() {
      const run = await verdict();
      this.reset();
      if (run) this.set(pair(run), run.outcome === 'success' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'portcullis_sessions_verify_mismatches',
    help: 'Sampled sessions that differed, by kind, in the newest recorded `portcullis sessions verify`',
    labelNames: ['primary', 'secondary', 'kind'] as const,
    registers,
    async collect() {
      const run = await verdict();
      this.reset();
      const mismatches = run?.figures.mismatches;
      if (!run || typeof mismatches !== 'object') return;
      for (const [kind, count] of Object.entries(mismatches)) this.set({ ...pair(run), kind }, count);
    },
  });
  new Gauge({
    name: 'portcullis_sessions_verify_compared',
    help: 'Sampled sessions compared by the newest recorded `portcullis sessions verify`',
    labelNames: ['primary', 'secondary'] as const,
    registers,
    async collect() {
      const run = await verdict();
      const compared = num(run?.figures.compared);
      this.reset();
      if (run && compared !== undefined) this.set(pair(run), compared);
    },
  });
}
