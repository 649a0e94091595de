// `portcullis sessions …`: the commands of a session-store move (docs/session-store.md). The
// work is in @portcullis/session-store (backfill, verify, preflight); this file reads flags
// and configuration, and prints. Progress goes to stderr as plain lines (a Kubernetes Job log
// has no terminal), results to stdout.
import { readFile } from 'node:fs/promises';
import { parseEnv } from 'node:util';
import { Option, type Command } from 'commander';
import { loadConfig, variables, type Config } from '@portcullis/config';
import {
  backfillSessions,
  BackfillError,
  checkSessionStore,
  compareSessionConfigs,
  createDynamoSessionTable,
  dynamoSessionTableOf,
  createSingleBackend,
  describeDynamoSessionTable,
  readBackfillCheckpoint,
  verifyFigures,
  verifyStores,
  writeBackfillCheckpoint,
  type BackfillProgress,
  type JobFigures,
  type JobOutcome,
  type DriverName,
  type PreflightCheck,
  type SessionConfigView,
  type VerifyReport,
} from '@portcullis/session-store';
import { CliError, EXIT, messageOf } from '../cli-error.js';
import { positiveNumber, wholeNumber } from '../options.js';
import type { CliContext } from '../program.js';
import { formatDuration as seconds, progressWriter } from '../progress.js';
import { registerCleanupCommand } from './sessions-cleanup.js';
import { registerCapacityPlanCommand } from './sessions-capacity.js';
import { registerSessionTableCommand } from './sessions-table.js';
import { recordRun } from './job-runs.js';
import { registerCutoverCommands } from './cutover.js';
import {
  backfillJson,
  confirmExactCount,
  evidenceOptions,
  recordBackfill,
  recordVerify,
  verifyJson,
  type EvidenceFlags,
} from './sessions-evidence.js';

const STORES: readonly DriverName[] = ['memory', 'redis', 'knex', 'dynamodb'];
const storeOption = (flags: string, what: string) =>
  new Option(flags, `${what}; its settings come from the environment, as for the services`).choices(STORES);

function openStore(driver: DriverName, config: Config) {
  try {
    return createSingleBackend(driver, config);
  } catch (error) {
    throw new CliError(`Cannot open the ${driver} store: ${messageOf(error)}.`, EXIT.usage);
  }
}

/** Both stores, or neither: the first is closed again when the second cannot be opened. */
async function openStores(first: DriverName, second: DriverName, config: Config) {
  const a = openStore(first, config);
  try {
    return [a, openStore(second, config)] as const;
  } catch (error) {
    await a.close();
    throw error;
  }
}

const tally = (p: BackfillProgress, dryRun: boolean) =>
  `${p.scanned} scanned, ${p.copied} ${dryRun ? 'to copy' : 'copied'}, ${p.skippedExpired} expired skipped, ${p.skippedNewer} kept (target as new or newer), ${p.removed} removed (deleted in the source meanwhile)`;

/**
 * Progress on stderr at most every `everyMs`, and always for the last batch: plain lines,
 * since a Job's log is no terminal. The ETA divides what the count() estimate says is left by
 * this run's rate; each line ends with the cursor, so a log alone is enough to resume.
 */
function progressLines(
  context: CliContext,
  options: { label: string; total: number | undefined; dryRun: boolean; everyMs: number; startScanned: number },
) {
  const { label, total, dryRun, everyMs, startScanned } = options;
  const started = Date.now();
  const print = progressWriter(context, everyMs, { quietFirstInterval: true });
  return (p: BackfillProgress) =>
    print(() => {
      const now = Date.now();
      const rate = ((p.scanned - startScanned) * 1000) / Math.max(now - started, 1);
      const share = total ? `/~${total} (${Math.min(100, Math.floor((100 * p.scanned) / total))}%)` : '';
      const eta =
        total && rate > 0 && !p.done ? `, ETA ${seconds((Math.max(0, total - p.scanned) / rate) * 1000)}` : '';
      return `backfill ${label}: ${tally(p, dryRun).replace(' scanned', `${share} scanned`)}; ${Math.round(rate)} records/s${eta}${p.cursor ? `; cursor ${p.cursor}` : ''}`;
    }, p.done);
}

interface BackfillFlags extends EvidenceFlags {
  from: DriverName;
  to: DriverName;
  batch: number;
  rate?: number;
  resumeFrom?: string;
  checkpoint?: string;
  limit?: number;
  dryRun?: boolean;
  progressEvery: number;
}

async function backfill(context: CliContext, flags: BackfillFlags): Promise<void> {
  const { from, to, checkpoint, dryRun = false } = flags;
  const label = `${from} → ${to}`;
  if (from === to)
    throw new CliError('--from and --to name the same store; a backfill copies between two.', EXIT.usage);
  const config = loadConfig(context.env);
  const saved = checkpoint
    ? await readBackfillCheckpoint(checkpoint).catch((error: unknown) => {
        throw new CliError(
          `Cannot read the checkpoint ${checkpoint}: ${messageOf(error)}; fix or delete it.`,
          EXIT.usage,
        );
      })
    : undefined;
  if (saved && (saved.from !== from || saved.to !== to))
    throw new CliError(
      `The checkpoint ${checkpoint} belongs to a backfill ${saved.from} → ${saved.to}, not ${label}; use another --checkpoint path.`,
      EXIT.usage,
    );
  if (saved?.cursor && flags.resumeFrom)
    throw new CliError('Give --resume-from or a --checkpoint that holds a cursor, not both.', EXIT.usage);
  if (saved?.done) {
    context.stdout.write(
      `Backfill ${label} already completed (${checkpoint}); delete the checkpoint to run it again.\n`,
    );
    return;
  }
  const cursor = flags.resumeFrom ?? saved?.cursor;
  const resumeHint = checkpoint ? `--checkpoint ${checkpoint}` : '--resume-from <the last cursor printed>';

  const [source, target] = await openStores(from, to, config);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGTERM', onSignal).once('SIGINT', onSignal);
  const started = Date.now();
  try {
    const counts = await source.backend.count().catch(() => undefined);
    const total = counts ? counts.live + counts.expired : undefined;
    context.stderr.write(
      `backfill ${label}: ${total === undefined ? 'size unknown' : `~${total} sessions in ${from}`}, batch ${flags.batch}, rate ${flags.rate ?? 'unlimited'}/s${cursor ? `, resuming from ${cursor}` : ''}${dryRun ? ', dry run' : ''}\n`,
    );
    const report = progressLines(context, {
      label,
      total,
      dryRun,
      everyMs: flags.progressEvery * 1000,
      startScanned: saved?.scanned ?? 0,
    });
    const result = await backfillSessions({
      source: source.backend,
      target: target.backend,
      batchSize: flags.batch,
      ...(flags.rate ? { ratePerSecond: flags.rate } : {}),
      ...(cursor ? { cursor } : {}),
      ...(saved ? { stats: saved } : {}),
      ...(flags.limit ? { maxRecords: flags.limit } : {}),
      signal: abort.signal,
      dryRun,
      async onBatch(progress) {
        // A dry run leaves the checkpoint alone: a real run must not skip what it only read.
        if (checkpoint && !dryRun)
          await writeBackfillCheckpoint(checkpoint, { ...progress, from, to, updatedAt: new Date().toISOString() });
        report(progress);
      },
    });
    const took = seconds(Date.now() - started);
    if (flags.json)
      context.stdout.write(backfillJson(from, to, result, { dryRun, seconds: (Date.now() - started) / 1000 }));
    if (result.done) {
      if (!flags.json)
        context.stdout.write(
          `${dryRun ? 'Dry run of backfill' : 'Backfill'} ${label} complete in ${took}: ${tally(result, dryRun)}.\n`,
        );
      // Only a whole, real copy is evidence the cutover gate accepts.
      if (!dryRun) await recordBackfill(context, flags, from, to);
      return;
    }
    const stopped = `Backfill ${label} stopped ${abort.signal.aborted ? 'by a signal' : `after --limit ${flags.limit}`} in ${took}: ${tally(result, dryRun)}. Continue with ${resumeHint}${result.cursor ? ` (cursor ${result.cursor})` : ''}.`;
    if (abort.signal.aborted) throw new CliError(stopped, EXIT.failure);
    if (!flags.json) context.stdout.write(`${stopped}\n`);
  } catch (error) {
    if (!(error instanceof BackfillError)) throw error;
    const at = error.progress.cursor ? ` (last completed cursor ${error.progress.cursor})` : '';
    throw new CliError(
      `Backfill ${label} failed after ${error.progress.scanned} records${at}: ${messageOf(error.cause)}. Fix the cause and run again with ${resumeHint}; finished batches are not redone.`,
      EXIT.failure,
    );
  } finally {
    process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
    await Promise.allSettled([source.close(), target.close()]);
  }
}

interface VerifyFlags extends EvidenceFlags {
  exact?: boolean;
  yes?: boolean;
  from?: DriverName;
  primary?: DriverName;
  to?: DriverName;
  secondary?: DriverName;
  sample: number;
  toleranceMs: number;
  retiringTtlSeconds?: number;
  countTolerancePercent: number;
  record?: boolean;
}

/** The two stores: from the flags, or dual mode's primary and secondary. */
function pair(
  config: Config,
  from: DriverName | undefined,
  to: DriverName | undefined,
  command: string,
): [DriverName, DriverName] | undefined {
  if (from && to) {
    if (from === to) throw new CliError(`${command} needs two different stores; both flags name ${from}.`, EXIT.usage);
    return [from, to];
  }
  if (from || to) throw new CliError(`${command} needs both stores: give --from and --to together.`, EXIT.usage);
  if (config.SESSION_STORE_DRIVER === 'dual' && config.SESSION_STORE_PRIMARY && config.SESSION_STORE_SECONDARY)
    return [config.SESSION_STORE_PRIMARY, config.SESSION_STORE_SECONDARY];
  return undefined;
}

function printReport(
  context: CliContext,
  report: VerifyReport,
  toleranceMs: number,
  retiringMs: number | undefined,
): void {
  const counts = (side: VerifyReport['primary']) =>
    `${side.counts.live} live, ${side.counts.expired} expired (${side.counts.exact ? 'exact' : 'estimate'}); ${side.sampled} sampled`;
  const lines = [
    `primary   ${report.primary.name}: ${counts(report.primary)}`,
    `secondary ${report.secondary.name}: ${counts(report.secondary)}`,
    `compared ${report.compared} sessions, expiry tolerance ${toleranceMs} ms${retiringMs ? `, secondary capped at ${retiringMs / 1000} s (retiring store)` : ''}`,
    ...report.mismatches.slice(0, 20).map((mismatch) => `  ${mismatch.kind.padEnd(21)} ${mismatch.detail}`),
    ...(report.mismatches.length > 20 ? [`  … and ${report.mismatches.length - 20} more`] : []),
    ...(report.countNote ? [report.countNote] : []),
    report.go ? 'GO: the sampled sessions agree.' : `NO-GO: ${report.reasons.join(' ')}`,
  ];
  context.stdout.write(`${lines.join('\n')}\n`);
}

async function verify(context: CliContext, flags: VerifyFlags): Promise<void> {
  const config = loadConfig(context.env);
  for (const [a, b] of [
    ['from', 'primary'],
    ['to', 'secondary'],
  ] as const) {
    if (flags[a] && flags[b] && flags[a] !== flags[b])
      throw new CliError(`--${a} and --${b} are the same flag and disagree; give one.`, EXIT.usage);
  }
  const stores = pair(config, flags.from ?? flags.primary, flags.to ?? flags.secondary, 'sessions verify');
  if (!stores)
    throw new CliError(
      `Name the stores with --from and --to: SESSION_STORE_DRIVER is ${config.SESSION_STORE_DRIVER}, not dual.`,
      EXIT.usage,
    );
  // The configured retiring TTL applies when the secondary checked is the one dual mode shortens.
  const configured =
    config.SESSION_STORE_DRIVER === 'dual' && config.SESSION_STORE_SECONDARY === stores[1]
      ? config.SESSION_RETIRING_STORE_TTL_SECONDS
      : undefined;
  const retiringSeconds = flags.retiringTtlSeconds ?? configured;
  const retiringMs = retiringSeconds ? retiringSeconds * 1000 : undefined;
  const [primary, secondary] = await openStores(stores[0], stores[1], config);
  const startedAt = new Date();
  // --record: the verdict goes to operational_job_runs, where auth-session's /metrics reads it.
  const record = (outcome: JobOutcome, figures: JobFigures, verdict: string) =>
    flags.record
      ? recordRun(config, { job: 'sessions-verify', startedAt, finishedAt: new Date(), outcome, figures }, verdict)
      : Promise.resolve();
  let report: VerifyReport;
  try {
    if (flags.exact) await confirmExactCount(context, [primary.backend, secondary.backend], flags.yes);
    report = await verifyStores({
      exactCounts: flags.exact ?? false,
      primary: primary.backend,
      secondary: secondary.backend,
      sampleSize: flags.sample,
      toleranceMs: flags.toleranceMs,
      countTolerance: flags.countTolerancePercent / 100,
      ...(retiringMs ? { secondaryMaxTtlMs: retiringMs } : {}),
    });
  } catch (error) {
    if (error instanceof CliError) throw error;
    const unrecorded = await record('failure', { primary: stores[0], secondary: stores[1] }, '').then(
      () => '',
      (failure: unknown) => ` Also, ${messageOf(failure)}`,
    );
    throw new CliError(
      `Could not compare ${stores[0]} with ${stores[1]}: ${messageOf(error)}. Check both stores with sessions preflight and run again.${unrecorded}`,
      EXIT.failure,
    );
  } finally {
    await Promise.allSettled([primary.close(), secondary.close()]);
  }
  if (flags.json)
    context.stdout.write(
      verifyJson(report, { toleranceMs: flags.toleranceMs, retiringMs, exact: flags.exact ?? false }),
    );
  else printReport(context, report, flags.toleranceMs, retiringMs);
  await recordVerify(context, flags, report);
  await record(
    report.go ? 'success' : 'no_go',
    verifyFigures(report, (Date.now() - startedAt.getTime()) / 1000),
    `sessions verify said ${report.go ? 'GO' : 'NO-GO'} but `,
  );
  if (!report.go) throw new CliError(`NO-GO for ${stores[0]} → ${stores[1]}: ${report.reasons.join(' ')}`, EXIT.noGo);
}

interface TableFlags {
  billingMode?: 'PAY_PER_REQUEST' | 'PROVISIONED';
  rcu?: number;
  wcu?: number;
}

async function createTable(context: CliContext, flags: TableFlags): Promise<void> {
  const config = loadConfig(context.env);
  const billingMode = flags.billingMode ?? config.DYNAMODB_BILLING_MODE;
  if (billingMode === 'PAY_PER_REQUEST' && (flags.rcu !== undefined || flags.wcu !== undefined))
    throw new CliError('--rcu and --wcu apply only with --billing-mode PROVISIONED.', EXIT.usage);
  const { client, tableName } = dynamoSessionTableOf(config);
  try {
    const before = await describeDynamoSessionTable(client, tableName);
    const after = await createDynamoSessionTable(client, {
      tableName,
      billingMode,
      readCapacity: flags.rcu ?? config.DYNAMODB_READ_CAPACITY,
      writeCapacity: flags.wcu ?? config.DYNAMODB_WRITE_CAPACITY,
    });
    const capacity =
      after.billingMode === 'PROVISIONED'
        ? `PROVISIONED, ${after.readCapacity} RCU / ${after.writeCapacity} WCU`
        : 'PAY_PER_REQUEST';
    const lines = before.exists
      ? [
          `Table "${tableName}" already exists and can hold sessions; kept as it is (${capacity}).`,
          before.ttlEnabled ? 'Time to live was already enabled on expiresAt.' : 'Enabled time to live on expiresAt.',
        ]
      : [`Created table "${tableName}" (${capacity}) with the byUser index; time to live enabled on expiresAt.`];
    if (before.exists && after.billingMode !== billingMode)
      lines.push(
        `Note: it is ${after.billingMode}, not ${billingMode}; this command never changes an existing table's capacity.`,
      );
    context.stdout.write(`${lines.join('\n')}\n`);
  } catch (error) {
    throw new CliError(`Could not create the session table "${tableName}": ${messageOf(error)}.`, EXIT.failure);
  } finally {
    client.destroy();
  }
}

/** The other deployment's session settings, read with the same rules as loadConfig. */
async function otherConfig(path: string): Promise<SessionConfigView> {
  const env = parseEnv(
    await readFile(path, 'utf8').catch((error: unknown) => {
      throw new CliError(`Cannot read --other-env ${path}: ${messageOf(error)}.`, EXIT.usage);
    }),
  );
  type Parsed<T> = { success: boolean; data?: T; error?: { issues: { message: string }[] } };
  const read = <T>(name: keyof SessionConfigView, schema: { safeParse(value: unknown): Parsed<T> }): T => {
    const result = schema.safeParse(env[name] || undefined);
    if (!result.success || result.data === undefined)
      throw new CliError(
        `--other-env ${path}: ${name} ${result.error?.issues[0]?.message ?? 'is invalid'}.`,
        EXIT.usage,
      );
    return result.data;
  };
  return {
    SESSION_SECRET: read('SESSION_SECRET', variables.SESSION_SECRET.schema),
    SESSION_COOKIE_NAME: read('SESSION_COOKIE_NAME', variables.SESSION_COOKIE_NAME.schema),
    SESSION_IDLE_TIMEOUT_SECONDS: read('SESSION_IDLE_TIMEOUT_SECONDS', variables.SESSION_IDLE_TIMEOUT_SECONDS.schema),
    SESSION_ABSOLUTE_TIMEOUT_SECONDS: read(
      'SESSION_ABSOLUTE_TIMEOUT_SECONDS',
      variables.SESSION_ABSOLUTE_TIMEOUT_SECONDS.schema,
    ),
    NODE_ENV: read('NODE_ENV', variables.NODE_ENV.schema),
  };
}

async function preflight(
  context: CliContext,
  flags: { from?: DriverName; to?: DriverName; otherEnv?: string; throughProxy?: boolean; json?: boolean },
): Promise<void> {
  const config = loadConfig(context.env);
  const driver = config.SESSION_STORE_DRIVER;
  const stores = pair(config, flags.from, flags.to, 'sessions preflight') ?? (driver === 'dual' ? [] : [driver]);
  const checks: PreflightCheck[] = flags.otherEnv
    ? compareSessionConfigs(config, await otherConfig(flags.otherEnv))
    : [
        {
          name: 'config',
          ok: true,
          detail:
            'One configuration serves every store checked here; pass --other-env <file> to compare with the other deployment.',
        },
      ];
  for (const store of stores)
    checks.push(...(await checkSessionStore(store, config, { throughProxy: !!flags.throughProxy })));
  const width = Math.max(...checks.map((check) => check.name.length));
  const failed = checks.filter((check) => !check.ok).length;
  if (flags.json)
    context.stdout.write(
      `${JSON.stringify({ command: 'sessions preflight', at: new Date().toISOString(), stores, ok: failed === 0, checks })}\n`,
    );
  else
    context.stdout.write(
      `sessions preflight: ${stores.join(' → ')}\n${checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}`).join('\n')}\n`,
    );
  if (failed > 0)
    throw new CliError(
      `${failed} of ${checks.length} preflight checks failed; fix them before moving sessions.`,
      EXIT.noGo,
    );
  if (!flags.json) context.stdout.write(`All ${checks.length} checks passed.\n`);
}

export function registerSessionCommands(program: Command, context: CliContext): void {
  const sessions = program
    .command('sessions')
    .description('Session stores: move sessions between them (docs/session-store.md)');
  sessions
    .command('backfill')
    .description(
      'Copy live sessions from one store to another with their exact expiry; run while dual mode writes both',
    )
    .addOption(storeOption('--from <store>', 'store to copy from').makeOptionMandatory())
    .addOption(storeOption('--to <store>', 'store to copy to').makeOptionMandatory())
    .option('--batch <n>', 'records per page (also the largest burst under --rate)', wholeNumber(1), 500)
    .option('--rate <records/s>', 'records scanned per second at most', positiveNumber)
    .option('--checkpoint <path>', 'JSON file written after every batch; an existing one is resumed')
    .option('--resume-from <cursor>', 'continue from a cursor printed by an earlier run')
    .option(
      '--limit <n>',
      'stop after about n records (whole batches); continue later from the checkpoint',
      wholeNumber(1),
    )
    .option('--dry-run', 'read and compare, write nothing')
    .option('--progress-every <seconds>', 'seconds between progress lines on stderr', positiveNumber, 10);
  evidenceOptions(sessions.commands.at(-1)!).action((flags: BackfillFlags) => backfill(context, flags));
  sessions
    .command('verify')
    .description(
      'Compare two stores on sampled sessions; exit 0 = go, 3 = no-go, 1 = could not check (or could not record with --record)',
    )
    .addOption(storeOption('--from <store>', 'primary store (default SESSION_STORE_PRIMARY in dual mode)'))
    .addOption(storeOption('--primary <store>', 'same as --from'))
    .addOption(storeOption('--to <store>', 'secondary store (default SESSION_STORE_SECONDARY in dual mode)'))
    .addOption(storeOption('--secondary <store>', 'same as --to'))
    .option('--sample <n>', 'sessions sampled from each side', wholeNumber(1), 1000)
    .option('--tolerance-ms <ms>', 'largest accepted expiry difference', wholeNumber(0), 2000)
    .option(
      '--retiring-ttl-seconds <s>',
      'the secondary is the retiring store, written with this shorter TTL (default SESSION_RETIRING_STORE_TTL_SECONDS when it is the configured secondary)',
      wholeNumber(1),
    )
    .option('--count-tolerance-percent <p>', 'largest accepted gap between two exact live counts', positiveNumber, 1)
    .option(
      '--record',
      'record the verdict and figures in operational_job_runs (DATABASE_URL) for /metrics; the CronJob passes it',
    )
    .option(
      '--exact',
      'count both stores exactly by a full scan (counts of large tables are estimates, not compared); prints the cost first',
    )
    .option('--yes', `with --exact: go ahead above ${(1_000_000).toLocaleString('en')} records`);
  evidenceOptions(sessions.commands.at(-1)!).action((flags: VerifyFlags) => verify(context, flags));
  registerCleanupCommand(sessions, context);
  registerCutoverCommands(program, context);
  registerSessionTableCommand(sessions, context);
  registerCapacityPlanCommand(sessions, context);
  sessions
    .command('create-dynamodb-table')
    .description(
      'Create the DynamoDB session table (DYNAMODB_TABLE_PREFIX + DYNAMODB_SESSION_TABLE) with its index and TTL; idempotent',
    )
    .addOption(
      new Option('--billing-mode <mode>', 'capacity mode (default DYNAMODB_BILLING_MODE)').choices([
        'PAY_PER_REQUEST',
        'PROVISIONED',
      ]),
    )
    .option('--rcu <n>', 'read capacity with PROVISIONED (default DYNAMODB_READ_CAPACITY)', wholeNumber(1))
    .option('--wcu <n>', 'write capacity with PROVISIONED (default DYNAMODB_WRITE_CAPACITY)', wholeNumber(1))
    .action((flags: TableFlags) => createTable(context, flags));
  sessions
    .command('preflight')
    .description(
      "Check both stores and the two deployments' session settings before a move; exit 0 = all ok, 3 = a check failed",
    )
    .addOption(storeOption('--from <store>', 'store sessions move from (default: the configured stores)'))
    .addOption(storeOption('--to <store>', 'store sessions move to'))
    .option(
      '--other-env <file>',
      "the other deployment's environment (dotenv) to compare SESSION_SECRET, cookie and timeouts with",
    )
    .option(
      '--through-proxy',
      'knex store: run every statement the store uses through the configured URL (RDS Proxy) and check what would pin connections',
    )
    .option('--json', 'the checks as one JSON object on stdout (evidence for the change record)')
    .action(
      (flags: { from?: DriverName; to?: DriverName; otherEnv?: string; throughProxy?: boolean; json?: boolean }) =>
        preflight(context, flags),
    );
}
