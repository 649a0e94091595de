// `portcullis sessions cleanup`: deletes the knex store's expired sessions in batches, within
// a time bound, and records the run for Prometheus. Idempotent: running it again is the
// resume. The chart runs it as a CronJob wherever the knex store is in use (docs/session-store.md).
import type { Command } from 'commander';
import { loadConfig, type Config } from '@portcullis/config';
import { createDatabase } from '@portcullis/db';
import {
  cleanupFigures,
  runExpiredSessionCleanup,
  sessionJobsInUse,
  type CleanupProgress,
  type CleanupResult,
  type JobOutcome,
} from '@portcullis/session-store';
import { CliError, EXIT, messageOf } from '../cli-error.js';
import { wholeNumber } from '../options.js';
import type { CliContext } from '../program.js';
import { formatCount, formatDuration, progressWriter } from '../progress.js';
import { recordRun } from './job-runs.js';

interface CleanupFlags {
  batchSize: number;
  maxSeconds?: number;
  pauseMs: number;
  json?: boolean;
  record: boolean;
  progressEvery: number;
}

const storeDescription = (config: Config) =>
  config.SESSION_STORE_DRIVER === 'dual'
    ? `dual (${config.SESSION_STORE_PRIMARY} → ${config.SESSION_STORE_SECONDARY})`
    : config.SESSION_STORE_DRIVER;

async function cleanup(context: CliContext, flags: CleanupFlags): Promise<void> {
  const config = loadConfig(context.env);
  if (!sessionJobsInUse(config).cleanup) {
    throw new CliError(
      `SESSION_STORE_DRIVER is ${storeDescription(config)}: sessions cleanup deletes expired rows of the knex store only (Redis and DynamoDB expire sessions themselves); run it where SESSION_STORE_DRIVER is knex, or dual with knex as SESSION_STORE_PRIMARY or SESSION_STORE_SECONDARY.`,
      EXIT.usage,
    );
  }
  const table = config.SESSION_TABLE_NAME;
  const label = `cleanup ${table}`;
  const sessionDb = createDatabase({
    url: config.SESSION_DATABASE_URL ?? config.DATABASE_URL,
    client: config.SESSION_KNEX_CLIENT,
    poolMax: 1,
  });
  // Two reasons to stop between batches: the time bound (a normal end, exit 0) and SIGTERM
  // (the pod is going away: exit 1). Either way the batch in flight completes first.
  const abort = new AbortController();
  let signalled = false;
  const onSignal = () => ((signalled = true), abort.abort());
  const timer = flags.maxSeconds ? setTimeout(() => abort.abort(), flags.maxSeconds * 1000) : undefined;
  process.once('SIGTERM', onSignal).once('SIGINT', onSignal);

  const startedAt = new Date();
  const print = progressWriter(context, flags.progressEvery * 1000, { quietFirstInterval: true });
  const line = (p: CleanupProgress) => {
    const ms = Date.now() - startedAt.getTime();
    return `${label}: ${formatCount(p.deleted)} expired sessions removed in ${p.batches} batches, ${formatCount((p.deleted * 1000) / Math.max(ms, 1))} rows/s, ${formatDuration(ms)}`;
  };
  context.stderr.write(
    `${label} (${config.SESSION_KNEX_CLIENT}, store ${storeDescription(config)}): batches of ${flags.batchSize}${flags.maxSeconds ? `, at most ${flags.maxSeconds} s` : ''}\n`,
  );
  let progress: CleanupProgress = { deleted: 0, batches: 0 };
  let result: CleanupResult | undefined;
  let failure: unknown;
  try {
    result = await runExpiredSessionCleanup(sessionDb, table, {
      batchSize: flags.batchSize,
      pauseMs: flags.pauseMs,
      signal: abort.signal,
      onBatch: (p) => print(() => line((progress = p))),
    });
    progress = result;
  } catch (error) {
    failure = error;
  } finally {
    clearTimeout(timer);
    process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
    await sessionDb.destroy();
  }
  print(() => line(progress), true);

  const finishedAt = new Date();
  const seconds = Number(((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(2));
  const finished = result?.finished ?? false;
  const outcome: JobOutcome = failure || signalled ? 'failure' : finished ? 'success' : 'stopped_early';
  const figures = cleanupFigures(
    { ...progress, finished, cutoff: result?.cutoff ?? startedAt.getTime() },
    { batchSize: flags.batchSize, seconds, table },
  );
  const run = { job: 'sessions-cleanup' as const, startedAt, finishedAt, outcome, figures };
  // After a failed cleanup, a failed record is added to the cleanup's own error, not put in its place.
  let unrecorded = '';
  if (flags.record && failure)
    unrecorded = await recordRun(config, run).then(
      () => '',
      (error: unknown) => ` Also, ${messageOf(error)}`,
    );
  else if (flags.record) await recordRun(config, run, `${label} removed ${formatCount(progress.deleted)} rows but `);

  const evidence = {
    job: 'sessions-cleanup',
    outcome,
    ...figures,
    stopped_early: outcome === 'stopped_early',
    recorded: flags.record,
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
  };
  if (flags.json) context.stdout.write(`${JSON.stringify(evidence)}\n`);
  const tally = `${formatCount(progress.deleted)} expired sessions removed from ${table} in ${progress.batches} batches, ${formatDuration(seconds * 1000)}`;
  if (failure)
    throw new CliError(
      `Cleanup failed after ${tally}: ${messageOf(failure)}. Fix the cause and run it again; it goes on where it stopped.${unrecorded}`,
      EXIT.failure,
    );
  if (signalled) throw new CliError(`Cleanup stopped by a signal after ${tally}; run it again to go on.`, EXIT.failure);
  if (!flags.json) {
    context.stdout.write(
      finished
        ? `Cleanup done: ${tally}; no session that expired before the run is left.\n`
        : `Cleanup stopped at --max-seconds ${flags.maxSeconds}: ${tally}; the next run goes on.\n`,
    );
  }
}

export function registerCleanupCommand(sessions: Command, context: CliContext): void {
  sessions
    .command('cleanup')
    .description(
      'Delete expired sessions of the knex store in batches and record the run for Prometheus; idempotent (run again to go on). Exit 0 = done or stopped at --max-seconds, 1 = failed, 2 = not the knex store / bad configuration',
    )
    .option('--batch-size <rows>', 'rows per DELETE (one short statement each)', wholeNumber(1), 1000)
    .option(
      '--max-seconds <s>',
      'start no batch after this many seconds; the next run goes on (default: until done)',
      wholeNumber(1),
    )
    .option('--pause-ms <ms>', 'pause between batches, to leave room for the hot path and replicas', wholeNumber(0), 0)
    .option(
      '--json',
      'print the result as one JSON object on stdout (rows_removed, batches, seconds, finished, outcome)',
    )
    .option('--no-record', 'do not record the run in operational_job_runs (what /metrics exports)')
    .option('--progress-every <seconds>', 'seconds between progress lines on stderr', wholeNumber(1), 10)
    .action((flags: CleanupFlags) => cleanup(context, flags));
}
