// `portcullis mfa-logs …`: the re-encryption jobs of tenant_admin_mfa_reset_logs
// (docs/key-rotation.md). Batched and resumable; safe beside live traffic; each runs as a
// Kubernetes Job (one process, or an Indexed Job with --shard $(JOB_COMPLETION_INDEX)/N).
// Reads only DATABASE_URL and the MFA_RESET_LOG_ENCRYPTION_KEY ring.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { KeyRing } from '@portcullis/crypto';
import { createDatabase, type Knex } from '@portcullis/db';
import {
  createResetLogJobs,
  keyUsageMetricText,
  type JobOptions,
  type Progress,
  type ResetLogJobs,
} from '@portcullis/mfa-reset-log';
import { CliError, EXIT } from '../cli-error.js';
import { readVariable, requireKeyRing } from '../env.js';
import { wholeNumber as whole } from '../options.js';
import type { CliContext } from '../program.js';
import { formatCount as number, progressWriter } from '../progress.js';

interface JobResult {
  job: string;
  rows: number;
  rows_written: number;
  rows_skipped_changed: number;
  counts: Record<string, number>;
  resumed_from?: string | null;
  shards?: number;
}

interface Flags {
  batchSize: number;
  shard?: { index: number; count: number };
  chunk?: number;
  parallel?: number;
  restart?: boolean;
}

const shardOf = (value: string) => {
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const [index, count] = [Number(match?.[1]), Number(match?.[2])];
  if (!match || count < 1 || index >= count)
    throw new InvalidArgumentError('must be INDEX/COUNT with 0 ≤ INDEX < COUNT, e.g. 0/4');
  return { index, count };
};

function readSetup(env: CliContext['env']): { url: string; ring: KeyRing } {
  const url = readVariable(env, 'DATABASE_URL');
  const ring = requireKeyRing(
    { ...env, MFA_RESET_LOG_ENCRYPTION_KEY: env.MFA_RESET_LOG_ENCRYPTION_KEY?.trim() },
    'MFA_RESET_LOG_ENCRYPTION_KEY',
    'the job reads and rewrites the reset log with it',
  );
  return { url, ring };
}

async function withJobs<T>(
  context: CliContext,
  work: (jobs: ResetLogJobs, ring: KeyRing, db: Knex) => Promise<T>,
): Promise<T> {
  const { url, ring } = readSetup(context.env);
  const db = createDatabase({ url, poolMax: 2 });
  try {
    return await work(createResetLogJobs({ db, ring }), ring, db);
  } finally {
    await db.destroy();
  }
}

/** Progress on stderr at most every 2 s (and at the end), so stdout stays the result. */
function progressPrinter(context: CliContext, label: string): (progress: Progress) => void {
  const startedAt = Date.now();
  const print = progressWriter(context, 2000);
  return ({ rowsDone, rowsTotal, counts }) =>
    print(() => {
      const rate = (1000 * rowsDone) / Math.max(1, Date.now() - startedAt);
      const summary = Object.entries(counts)
        .map(([state, count]) => `${state} ${number(count)}`)
        .join(', ');
      return `${label}: ${number(rowsDone)}/${number(rowsTotal)} rows, ${number(rate)} rows/s${summary ? ` (${summary})` : ''}`;
    }, rowsDone >= rowsTotal);
}

/** --parallel N: this command again in N processes, each with --shard k/N; their JSON lines are summed. */
async function runParallel(context: CliContext, job: string, flags: Flags): Promise<JobResult> {
  const script = process.argv[1];
  if (!script) throw new CliError('--parallel needs the portcullis command itself: run it as `portcullis`', EXIT.usage);
  const children = Array.from(
    { length: flags.parallel! },
    (_, index) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const args = [
          ...process.execArgv,
          script,
          'mfa-logs',
          job,
          '--batch-size',
          String(flags.batchSize),
          '--shard',
          `${index}/${flags.parallel}`,
          ...(flags.chunk ? ['--chunk', String(flags.chunk)] : []),
          ...(flags.restart ? ['--restart'] : []),
        ];
        const child = spawn(process.execPath, args, {
          env: { ...process.env, ...context.env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (chunk) => (out += chunk));
        child.stderr.on('data', (chunk) => context.stderr.write(`[shard ${index}] ${chunk}`));
        child.on('exit', (code) =>
          code === 0
            ? resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>)
            : reject(
                new CliError(
                  `shard ${index}/${flags.parallel} failed (exit ${code}): run the command again, it continues where it stopped`,
                ),
              ),
        );
      }),
  );
  const results = await Promise.all(children);
  const sum = (key: string) => results.reduce((total, result) => total + Number(result[key] ?? 0), 0);
  const counts: Record<string, number> = {};
  for (const result of results)
    for (const [state, count] of Object.entries((result.counts ?? {}) as Record<string, number>))
      counts[state] = (counts[state] ?? 0) + count;
  return {
    job,
    rows: sum('rows'),
    rows_written: sum('rows_written'),
    rows_skipped_changed: sum('rows_skipped_changed'),
    counts,
    shards: flags.parallel,
  };
}

function registerWriter(
  mfaLogs: Command,
  context: CliContext,
  job: 'encrypt-legacy' | 'rewrap',
  description: string,
  run: (jobs: ResetLogJobs, options: JobOptions) => ReturnType<ResetLogJobs['rewrap']>,
): void {
  mfaLogs
    .command(job)
    .description(description)
    .option('--batch-size <rows>', 'rows per batch (one short UPDATE each)', whole(1), 5000)
    .option(
      '--shard <index/count>',
      'only rows with id % count = index (Kubernetes Indexed Job: $(JOB_COMPLETION_INDEX)/N)',
      shardOf,
    )
    .option('--chunk <ids>', 'consecutive ids per shard chunk (default 10000)', whole(1))
    .option('--parallel <processes>', 'run in this many processes, one shard each', whole(2))
    .option('--restart', 'ignore the saved cursor and start from the first row')
    .action(async (flags: Flags) => {
      const startedAt = Date.now();
      const result = await withJobs(context, async (jobs) => {
        const before = await jobs.countPlaintext();
        const summary: JobResult = flags.parallel
          ? await runParallel(context, job, flags)
          : await (async () => {
              const done = await run(jobs, {
                batchSize: flags.batchSize,
                restart: !!flags.restart,
                onProgress: progressPrinter(context, job),
                ...(flags.shard ? { shard: { ...flags.shard, ...(flags.chunk ? { chunk: flags.chunk } : {}) } } : {}),
              });
              return {
                job,
                rows: done.rows,
                rows_written: done.rowsWritten,
                rows_skipped_changed: done.rowsSkippedChanged,
                counts: done.counts,
                resumed_from: done.resumedFrom,
              };
            })();
        return { ...summary, plaintext_values_before: before, plaintext_values_after: await jobs.countPlaintext() };
      });
      const seconds = (Date.now() - startedAt) / 1000;
      context.stdout.write(
        `${job}: ${number(result.rows)} rows, ${number(result.rows_written)} written, ${number(result.rows_skipped_changed)} changed meanwhile (run again for those); values in plaintext: ${number(result.plaintext_values_before)} before, ${number(result.plaintext_values_after)} after\n`,
      );
      context.stdout.write(`${JSON.stringify({ ...result, seconds: Number(seconds.toFixed(2)) })}\n`);
    });
}

export function registerMfaLogCommands(program: Command, context: CliContext): void {
  const mfaLogs = program
    .command('mfa-logs')
    .description('MFA reset log encryption: legacy plaintext, key rotation, checks (docs/key-rotation.md)');

  registerWriter(
    mfaLogs,
    context,
    'encrypt-legacy',
    'Encrypt previous_* values still in plaintext, in place',
    (jobs, options) => jobs.encryptLegacy(options),
  );
  registerWriter(
    mfaLogs,
    context,
    'rewrap',
    'Re-encrypt every previous_* value under the primary key',
    (jobs, options) => jobs.rewrap(options),
  );

  mfaLogs
    .command('key-usage')
    .description('Count previous_* values per key id and state (authenticated); an old key is removed only at 0')
    .option('--batch-size <rows>', 'rows per read', whole(1), 5000)
    .option('--prometheus', 'print the mfa_reset_log_values{key_id,state} gauge in Prometheus text format')
    .option('--textfile <path>', "also write the gauge to this file (node_exporter's textfile collector)")
    .action(async (flags: { batchSize: number; prometheus?: boolean; textfile?: string }) => {
      const usage = await withJobs(context, (jobs) =>
        jobs.keyUsage({ batchSize: flags.batchSize, onProgress: progressPrinter(context, 'key-usage') }),
      );
      const metric = keyUsageMetricText(usage.rows);
      if (flags.textfile) writeFileSync(flags.textfile, metric);
      if (flags.prometheus) return void context.stdout.write(metric);
      for (const row of usage.rows)
        context.stdout.write(`${row.keyId.padEnd(12)}  ${row.state.padEnd(13)}  ${number(row.count)}\n`);
      context.stdout.write(`${JSON.stringify({ total: usage.total, remaining: usage.remaining, keys: usage.rows })}\n`);
    });

  mfaLogs
    .command('verify-decrypt')
    .description(
      'Decrypt every previous_* value (or those of a random sample of rows) with the configured keys; exit 1 on any failure',
    )
    .option('--sample <rows>', 'check this many random rows instead of all', whole(1))
    .option('--batch-size <rows>', 'rows per read', whole(1), 5000)
    .action(async (flags: { sample?: number; batchSize: number }) => {
      const result = await withJobs(context, (jobs) =>
        jobs.verifyDecrypt({
          batchSize: flags.batchSize,
          onProgress: progressPrinter(context, 'verify-decrypt'),
          ...(flags.sample ? { sample: flags.sample } : {}),
        }),
      );
      context.stdout.write(`${JSON.stringify(result)}\n`);
      if (result.failed > 0) {
        const first = result.failures[0]!;
        throw new CliError(
          `${number(result.failed)} of ${number(result.values)} values cannot be decrypted with the configured keys (first: row ${first.id} ${first.column}, ${first.problem}, key id ${first.keyId}): ` +
            'put a missing key back in MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS, encrypt plaintext with `portcullis mfa-logs encrypt-legacy`, and remove no key until this passes (docs/key-rotation.md)',
        );
      }
      context.stderr.write(
        `verify-decrypt: all ${number(result.values)} values of ${number(result.checked)} rows decrypt\n`,
      );
    });
}
