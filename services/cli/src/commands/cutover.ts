// `portcullis cutover status|next|gate`: where a release stands in a session store move, the one
// `helm upgrade` of its next step, and the pre-upgrade check the chart runs (docs/session-cutover.md,
// "The gate"). The verdict is judgeStep (libs/config); this file reads the cluster and prints.
import { Option, type Command } from 'commander';
import {
  judgeStep,
  phaseLabel,
  phaseValues,
  SESSION_PHASES,
  stepToward,
  type PhasePosition,
  type SessionPhase,
  type StoreName,
} from '@portcullis/config';
import { CliError, EXIT } from '../cli-error.js';
import { kubeConfigOf, readClusterState, type ClusterState, type ReleaseRef } from '../cutover/cluster.js';
import type { CliContext } from '../program.js';

const STORES: readonly StoreName[] = ['memory', 'redis', 'knex', 'dynamodb'];

interface ReleaseFlags {
  release: string;
  namespace?: string;
  json?: boolean;
}

function refOf(context: CliContext, flags: ReleaseFlags): ReleaseRef {
  return { release: flags.release, namespace: flags.namespace ?? context.env.POD_NAMESPACE ?? 'default' };
}

/** The `helm upgrade` of one step: only the three values change, everything else is reused. */
export function helmUpgradeCommand(ref: ReleaseRef, position: PhasePosition, chart = 'portcullis/portcullis'): string {
  const values = phaseValues(position);
  return `helm upgrade ${ref.release} ${chart} -n ${ref.namespace} --reuse-values --set sessionStore.phase=${values.phase} --set sessionStore.from=${values.from} --set-string sessionStore.to=${values.to} --wait`;
}

function describe(state: ClusterState): string[] {
  const { live, evidence } = state;
  if (!live) return ['The release is not installed (no live ConfigMap).'];
  return [
    `phase      ${phaseLabel(live.position)}`,
    `rollout    ${live.rolloutComplete ? `complete${live.rolledOutAt ? ` since ${live.rolledOutAt.toISOString()}` : ''}` : `in progress: ${live.rolloutDetail}`}`,
    ...state.deployments.map(
      (deployment) => `           ${deployment.complete ? 'ok  ' : 'wait'} ${deployment.detail}`,
    ),
    `backfill   ${evidence.backfill ? `${evidence.backfill.from} → ${evidence.backfill.to} completed ${evidence.backfill.completedAt}` : 'none recorded'}`,
    `verify     ${evidence.verify ? `${evidence.verify.primary} → ${evidence.verify.secondary}: ${evidence.verify.go ? 'GO' : 'NO-GO'} at ${evidence.verify.at}` : 'none recorded'}`,
  ];
}

async function status(
  context: CliContext,
  flags: ReleaseFlags & { chart?: string },
  mode: 'status' | 'next',
): Promise<void> {
  const ref = refOf(context, flags);
  const state = await readClusterState(kubeConfigOf(context.env), ref);
  if (!state.live)
    throw new CliError(
      `Release ${ref.release} is not installed in namespace ${ref.namespace}; install it with sessionStore set to the store the sessions are in.`,
      EXIT.usage,
    );
  const next = stepToward(state.live.position);
  const verdict = next
    ? judgeStep({ live: state.live, target: next, evidence: state.evidence, now: new Date() })
    : undefined;
  const command = next ? helmUpgradeCommand(ref, next, flags.chart) : undefined;
  if (flags.json) {
    context.stdout.write(
      `${JSON.stringify({ release: ref.release, namespace: ref.namespace, phase: phaseValues(state.live.position), rollout: { complete: state.live.rolloutComplete, detail: state.live.rolloutDetail, rolledOutAt: state.live.rolledOutAt }, evidence: state.evidence, next: next ? { ...phaseValues(next), allowed: verdict!.allowed, reason: verdict!.reason, command } : null })}\n`,
    );
  } else if (mode === 'status') {
    const verdictLine = next
      ? `next       ${phaseLabel(next)}: ${verdict!.allowed ? 'allowed now' : verdict!.reason}`
      : `next       ${phaseLabel(state.live.position)} ends a move; start another with sessionStore.phase=dual-write.`;
    context.stdout.write(
      `${[`release    ${ref.release} (namespace ${ref.namespace})`, ...describe(state), verdictLine].join('\n')}\n`,
    );
  } else if (next && verdict!.allowed) {
    context.stdout.write(`${command}\n`);
  }
  if (mode === 'next') {
    if (!next)
      throw new CliError(
        `${phaseLabel(state.live.position)} ends a move: there is no next step. Start another with sessionStore.phase=dual-write, sessionStore.from=${state.live.position.from} and sessionStore.to=<the new store>.`,
        EXIT.usage,
      );
    if (!verdict!.allowed) throw new CliError(`Not yet: ${verdict!.reason} Then: ${command}`, EXIT.noGo);
  }
}

interface GateFlags extends ReleaseFlags {
  phase: SessionPhase;
  from: StoreName;
  to?: string;
}

/** The pre-upgrade hook: exit 0 with the reason when the step may go ahead, 3 (no-go) when not. */
async function gate(context: CliContext, flags: GateFlags): Promise<void> {
  const ref = refOf(context, flags);
  const target: PhasePosition = {
    phase: flags.phase,
    from: flags.from,
    to: flags.phase === 'single' ? undefined : (flags.to as StoreName | undefined) || undefined,
  };
  if (target.phase !== 'single' && !target.to)
    throw new CliError(`--to is required with --phase ${target.phase}.`, EXIT.usage);
  const state = await readClusterState(kubeConfigOf(context.env), ref);
  const verdict = judgeStep({ live: state.live, target, evidence: state.evidence, now: new Date() });
  if (!verdict.allowed) throw new CliError(verdict.reason, EXIT.noGo);
  context.stdout.write(`cutover gate: ${verdict.reason}\n`);
}

export function registerCutoverCommands(program: Command, context: CliContext): void {
  const cutover = program
    .command('cutover')
    .description('Session store move: the phase a release runs and its next step (docs/session-cutover.md)');
  const releaseOptions = (command: Command) =>
    command
      .requiredOption('--release <name>', 'Helm release name')
      .option('--namespace <namespace>', 'its namespace (default POD_NAMESPACE, else "default")')
      .option('--json', 'one JSON object on stdout');
  releaseOptions(
    cutover
      .command('status')
      .description(
        'The phase every Deployment runs, the rollout, the recorded backfill/verify, and whether the next step may start',
      ),
  ).action((flags: ReleaseFlags) => status(context, flags, 'status'));
  releaseOptions(
    cutover
      .command('next')
      .description('Print the `helm upgrade` of the next step; exit 3 (no-go) with the reason while it may not start'),
  )
    .option('--chart <ref>', 'chart reference in the printed command', 'portcullis/portcullis')
    .action((flags: ReleaseFlags & { chart?: string }) => status(context, flags, 'next'));
  releaseOptions(
    cutover
      .command('gate')
      .description(
        'The pre-upgrade check: may the release go to this phase? exit 0 = yes, 3 = refused (one sentence names the next allowed step)',
      ),
  )
    .addOption(
      new Option('--phase <phase>', 'the phase the upgrade asks for').choices(SESSION_PHASES).makeOptionMandatory(),
    )
    .addOption(new Option('--from <store>', 'sessionStore.from of the upgrade').choices(STORES).makeOptionMandatory())
    .addOption(
      new Option('--to <store>', 'sessionStore.to of the upgrade (empty with single)').choices([...STORES, '']),
    )
    .action((flags: GateFlags) => gate(context, flags));
}
