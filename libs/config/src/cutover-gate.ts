// The verdict of the cutover gate: may the release go from the phase it runs to the one an
// upgrade asks for? Pure (the CLI reads the cluster, services/cli/src/cutover/), so every
// transition is tested without a cluster. docs/session-cutover.md, "The gate".
import { STORED_SESSION_MARGIN_MS } from '@portcullis/session-store';
import {
  areAdjacent,
  nextPosition,
  phaseLabel,
  phaseValues,
  previousPosition,
  samePosition,
  settingsOfPhase,
  stepOf,
  type PhasePosition,
  type StoreName,
} from './session-phase.js';

/** What `sessions backfill` and `sessions verify` record where the gate reads it (ISO times). */
export interface CutoverEvidence {
  backfill?: { from: StoreName; to: StoreName; completedAt: string } | undefined;
  verify?: { primary: StoreName; secondary: StoreName; go: boolean; at: string } | undefined;
}

export interface LiveRelease {
  /** The phase in the release's live ConfigMap: what its pods run once the rollout is complete. */
  position: PhasePosition;
  /** Every Deployment rolled out (no pod of an older ReplicaSet left, all available). */
  rolloutComplete: boolean;
  /** Why not, when not: one sentence naming the Deployments. */
  rolloutDetail: string;
  /** When the last Deployment finished rolling out the current phase. */
  rolledOutAt?: Date | undefined;
  /** SESSION_IDLE_TIMEOUT_SECONDS of the live ConfigMap. */
  idleTimeoutSeconds: number;
}

export interface StepVerdict {
  allowed: boolean;
  /** One or more sentences: why, and what to do next. */
  reason: string;
}

const at = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The one step from `position` towards `target` (forward by default); undefined when none leads there. */
export function stepToward(position: PhasePosition, target?: PhasePosition): PhasePosition | undefined {
  if (position.phase === 'single') {
    // Back into the move that ended here: its retiring phase.
    if (target && target.phase !== 'single' && target.to === position.from)
      return { phase: 'retiring', from: target.from, to: position.from };
    const to = target?.phase === 'single' ? target.from : target?.from === position.from ? target.to : undefined;
    return to && to !== position.from ? { phase: 'dual-write', from: position.from, to } : undefined;
  }
  const move = { from: position.from, to: position.to! };
  const [here, there] = [stepOf(position, move)!, target ? stepOf(target, move) : undefined];
  return there !== undefined && there < here ? previousPosition(position) : nextPosition(position);
}

/** The sentence naming the step the release may take from `position` (towards `target`). */
export function nextStepSentence(position: PhasePosition, target?: PhasePosition): string {
  const next = stepToward(position, target);
  if (!next)
    return `${phaseLabel(position)} ends a move; start the next one with sessionStore.phase=dual-write, sessionStore.from=${position.from} and sessionStore.to=<the new store>.`;
  const values = phaseValues(next);
  return `The next allowed step is ${phaseLabel(next)}: sessionStore.phase=${values.phase}, sessionStore.from=${values.from}${values.to ? `, sessionStore.to=${values.to}` : ', sessionStore.to=""'}.`;
}

/** What the cutover (dual-write → cutover) needs besides a finished rollout. */
function cutoverProblems(live: LiveRelease, evidence: CutoverEvidence, now: Date): string[] {
  const { from, to } = live.position as Required<PhasePosition>;
  const since = live.rolledOutAt;
  const problems: string[] = [];
  const backfill = evidence.backfill;
  const backfillDone =
    backfill && backfill.from === from && backfill.to === to && (!since || new Date(backfill.completedAt) >= since)
      ? new Date(backfill.completedAt)
      : undefined;
  if (!backfillDone) {
    problems.push(
      `Run \`portcullis sessions backfill --from ${from} --to ${to}\` to completion first (${backfill ? `the last one recorded, ${backfill.from} → ${backfill.to} at ${backfill.completedAt}, is not one of this dual-write` : 'none recorded'}).`,
    );
  }
  // dual-write reads `from` first: verify compares it (primary) with `to` (secondary).
  const primary = settingsOfPhase(live.position).SESSION_STORE_PRIMARY;
  const verify = evidence.verify;
  const verified =
    verify &&
    verify.primary === primary &&
    verify.secondary === to &&
    backfillDone &&
    new Date(verify.at) >= backfillDone;
  if (!verified) {
    problems.push(
      `Run \`portcullis sessions verify --from ${from} --to ${to}\` after the backfill (${verify && verify.primary === primary && verify.secondary === to ? `the last one, at ${verify.at}, ran before the backfill completed` : 'none recorded for this pair'}).`,
    );
  } else if (!verify.go) {
    problems.push(
      `The last \`sessions verify\` (${verify.at}) said NO-GO: fix what it reported and run it again until it says GO.`,
    );
  }
  // A stored copy outlives its cookie by STORED_SESSION_MARGIN_MS: one idle timeout alone left
  // a copy a single-store pod's sign-out missed (the drill's verify said NO-GO once).
  const waitMs = live.idleTimeoutSeconds * 1000 + STORED_SESSION_MARGIN_MS;
  const ready = since ? new Date(since.getTime() + waitMs) : undefined;
  if (!ready || ready > now) {
    problems.push(
      `Wait until ${ready ? at(ready) : 'one idle timeout and 10 s after the rollout'} (SESSION_IDLE_TIMEOUT_SECONDS, ${live.idleTimeoutSeconds} s, plus the ${STORED_SESSION_MARGIN_MS / 1000} s stored sessions outlive their cookies, after dual-write finished rolling out${since ? ` at ${at(since)}` : ''}): until then ${to} may hold sessions that ${from}-only pods logged out.`,
    );
  }
  return problems;
}

/**
 * May the release move from `live` to `target`? Refuses a phase that is not a neighbour of the
 * running one (a skipped step, or another move), any step while the last rollout is unfinished,
 * and the cutover before backfill, a GO verify after it and one idle timeout since dual-write
 * finished rolling out. Steps back to the previous phase need only a finished rollout.
 */
export function judgeStep(options: {
  live: LiveRelease | undefined;
  target: PhasePosition;
  evidence: CutoverEvidence;
  now: Date;
}): StepVerdict {
  const { live, target, evidence, now } = options;
  if (!live) return { allowed: true, reason: `No release is running: ${phaseLabel(target)} is the first phase.` };
  if (samePosition(live.position, target)) return { allowed: true, reason: `The phase stays ${phaseLabel(target)}.` };
  if (!areAdjacent(live.position, target)) {
    return {
      allowed: false,
      reason: `Refused: ${phaseLabel(live.position)} → ${phaseLabel(target)} skips a phase (only neighbouring phases are safe side by side during the rollout). ${nextStepSentence(live.position, target)}`,
    };
  }
  if (!live.rolloutComplete) {
    return {
      allowed: false,
      reason: `Refused: the rollout of ${phaseLabel(live.position)} has not finished (${live.rolloutDetail}); wait for it (kubectl rollout status), then go to ${phaseLabel(target)}.`,
    };
  }
  const forwardToCutover = live.position.phase === 'dual-write' && target.phase === 'cutover';
  const problems = forwardToCutover ? cutoverProblems(live, evidence, now) : [];
  if (problems.length > 0)
    return {
      allowed: false,
      reason: `Refused: ${phaseLabel(live.position)} → ${phaseLabel(target)} is the cutover, and it is not ready. ${problems.join(' ')}`,
    };
  return { allowed: true, reason: `${phaseLabel(live.position)} → ${phaseLabel(target)} is allowed.` };
}
