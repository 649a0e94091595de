// What `sessions backfill` and `sessions verify` leave behind for the change record and the
// cutover gate: --json (one object on stdout), --evidence-configmap (an annotation the gate reads,
// services/cli/src/cutover/cluster.ts) and, for verify --exact, the cost of counting by scan.
import type { Command } from 'commander';
import type { BackfillStats, SessionBackend, VerifyReport } from '@portcullis/session-store';
import type { StoreName } from '@portcullis/config';
import { CliError, EXIT } from '../cli-error.js';
import { kubeConfigOf, recordEvidence } from '../cutover/cluster.js';
import type { CliContext } from '../program.js';

export interface EvidenceFlags {
  json?: boolean;
  evidenceConfigmap?: string;
  evidenceNamespace?: string;
}

export function evidenceOptions(command: Command): Command {
  return command
    .option('--json', 'the result as one JSON object on stdout (evidence for the change record)')
    .option(
      '--evidence-configmap <name>',
      'record the result on this ConfigMap for the cutover gate (the chart passes <release>-portcullis-cutover)',
    )
    .option('--evidence-namespace <namespace>', 'its namespace (default POD_NAMESPACE, else "default")');
}

function evidenceRef(context: CliContext, flags: EvidenceFlags) {
  return flags.evidenceConfigmap
    ? { name: flags.evidenceConfigmap, namespace: flags.evidenceNamespace ?? context.env.POD_NAMESPACE ?? 'default' }
    : undefined;
}

export async function recordBackfill(
  context: CliContext,
  flags: EvidenceFlags,
  from: StoreName,
  to: StoreName,
): Promise<void> {
  const ref = evidenceRef(context, flags);
  if (!ref) return;
  await recordEvidence(kubeConfigOf(context.env), ref, 'backfill', { from, to, completedAt: new Date().toISOString() });
  context.stderr.write(`recorded the backfill on ConfigMap ${ref.namespace}/${ref.name} for the cutover gate\n`);
}

export async function recordVerify(context: CliContext, flags: EvidenceFlags, report: VerifyReport): Promise<void> {
  const ref = evidenceRef(context, flags);
  if (!ref) return;
  await recordEvidence(kubeConfigOf(context.env), ref, 'verify', {
    primary: report.primary.name as StoreName,
    secondary: report.secondary.name as StoreName,
    go: report.go,
    at: new Date().toISOString(),
  });
  context.stderr.write(`recorded the verify verdict on ConfigMap ${ref.namespace}/${ref.name} for the cutover gate\n`);
}

/** The report as evidence: figures and verdicts, mismatches by their shortened hash only. */
export function verifyJson(
  report: VerifyReport,
  options: { toleranceMs: number; retiringMs: number | undefined; exact: boolean },
): string {
  return `${JSON.stringify({
    command: 'sessions verify',
    at: new Date().toISOString(),
    go: report.go,
    primary: report.primary,
    secondary: report.secondary,
    compared: report.compared,
    countsExact: report.countsExact,
    countDifference: report.countDifference,
    ...(report.countNote ? { countNote: report.countNote } : {}),
    exactRequested: options.exact,
    toleranceMs: options.toleranceMs,
    ...(options.retiringMs ? { retiringTtlSeconds: options.retiringMs / 1000 } : {}),
    mismatches: report.mismatches.map((mismatch) => ({
      kind: mismatch.kind,
      hash: `${mismatch.hash.slice(0, 12)}…`,
      detail: mismatch.detail,
    })),
    reasons: report.reasons,
  })}\n`;
}

export function backfillJson(
  from: StoreName,
  to: StoreName,
  result: BackfillStats & { done: boolean; cursor?: string | undefined },
  options: { dryRun: boolean; seconds: number },
): string {
  return `${JSON.stringify({ command: 'sessions backfill', at: new Date().toISOString(), from, to, done: result.done, dryRun: options.dryRun, seconds: options.seconds, scanned: result.scanned, copied: result.copied, skippedExpired: result.skippedExpired, skippedNewer: result.skippedNewer, removed: result.removed, ...(result.cursor ? { cursor: result.cursor } : {}) })}\n`;
}

/** Records an exact count reads without --yes; above it, `verify --exact` stops and says what it would cost. */
export const EXACT_COUNT_CONFIRM_ABOVE = 1_000_000;

/**
 * Prints what `--exact` will read (every record of both stores, from their cheap estimates) and
 * refuses a count above EXACT_COUNT_CONFIRM_ABOVE records unless --yes says go ahead.
 */
export async function confirmExactCount(
  context: CliContext,
  stores: SessionBackend[],
  yes: boolean | undefined,
): Promise<void> {
  const sizes = await Promise.all(
    stores.map(async (store) => ({ name: store.name, counts: await store.count().catch(() => undefined) })),
  );
  const total = sizes.reduce((sum, size) => sum + (size.counts ? size.counts.live + size.counts.expired : 0), 0);
  const dynamo = sizes.find((size) => size.name === 'dynamodb' && size.counts);
  // A scan reads 4 KB per RCU, eventually consistent at half price; sessions are ~1 KB: 8 items per RCU.
  const rcu = dynamo?.counts ? Math.ceil((dynamo.counts.live + dynamo.counts.expired) / 8) : 0;
  const parts = sizes.map(
    (size) => `${size.name} ~${size.counts ? size.counts.live + size.counts.expired : '?'} records`,
  );
  context.stderr.write(
    `exact count: a full scan of ${parts.join(' and ')} (${Math.ceil(total / 1000)} pages of 1000)${rcu ? `; on DynamoDB about ${rcu} RCU at 1 KB per session` : ''}\n`,
  );
  if (total > EXACT_COUNT_CONFIRM_ABOVE && !yes) {
    throw new CliError(
      `--exact would read about ${total} records; add --yes to go ahead (run it off-peak, or rely on the estimates and the sampled comparison).`,
      EXIT.usage,
    );
  }
}
