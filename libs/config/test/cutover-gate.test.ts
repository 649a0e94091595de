// The cutover gate's verdict for every transition of a move, and each thing the cutover waits for.
import { judgeStep, phaseLabel, type CutoverEvidence, type LiveRelease, type PhasePosition } from '@portcullis/config';

const move: PhasePosition[] = [
  { phase: 'single', from: 'knex' },
  { phase: 'dual-write', from: 'knex', to: 'dynamodb' },
  { phase: 'cutover', from: 'knex', to: 'dynamodb' },
  { phase: 'retiring', from: 'knex', to: 'dynamodb' },
  { phase: 'single', from: 'dynamodb' },
];
const rolledOutAt = new Date('2026-12-03T10:00:00Z');
const IDLE = 1800;
const live = (position: PhasePosition, rolloutComplete = true): LiveRelease => ({
  position,
  rolloutComplete,
  rolloutDetail: rolloutComplete ? '' : 'prod-portcullis-auth-session: 1 of 2 pods updated',
  rolledOutAt,
  idleTimeoutSeconds: IDLE,
});
const later = (seconds: number) => new Date(rolledOutAt.getTime() + seconds * 1000).toISOString();
/** Everything the cutover needs: a backfill after the rollout, a GO verify after it, one idle timeout. */
const ready: CutoverEvidence = {
  backfill: { from: 'knex', to: 'dynamodb', completedAt: later(600) },
  verify: { primary: 'knex', secondary: 'dynamodb', go: true, at: later(900) },
};
// One idle timeout and the 10 s a stored session outlives its cookie.
const afterWait = new Date(rolledOutAt.getTime() + (IDLE + 10 + 1) * 1000);

describe('every transition of a move, with the rollout finished and the cutover ready', () => {
  const pairs = move.flatMap((from, i) => move.map((to, j) => [phaseLabel(from), phaseLabel(to), i, j] as const));
  it.each(pairs)('%s → %s', (_, __, i, j) => {
    const verdict = judgeStep({ live: live(move[i]!), target: move[j]!, evidence: ready, now: afterWait });
    expect(verdict.allowed).toBe(Math.abs(i - j) <= 1);
    if (Math.abs(i - j) > 1) expect(verdict.reason).toMatch(/skips a phase.*The next allowed step is/);
  });
});

describe('refuses', () => {
  it('any step while the last rollout is unfinished, naming the Deployment', () => {
    const verdict = judgeStep({ live: live(move[1]!, false), target: move[2]!, evidence: ready, now: afterWait });
    expect(verdict).toEqual({
      allowed: false,
      reason: expect.stringMatching(
        /rollout of dual-write\(knex→dynamodb\) has not finished \(prod-portcullis-auth-session: 1 of 2 pods updated\)/,
      ),
    });
  });

  it('a skipped phase with the step to take instead', () => {
    expect(judgeStep({ live: live(move[0]!), target: move[2]!, evidence: ready, now: afterWait }).reason).toBe(
      'Refused: single(knex) → cutover(knex→dynamodb) skips a phase (only neighbouring phases are safe side by side during the rollout). The next allowed step is dual-write(knex→dynamodb): sessionStore.phase=dual-write, sessionStore.from=knex, sessionStore.to=dynamodb.',
    );
  });

  it('a skipped phase on the way back with the step back to take', () => {
    expect(judgeStep({ live: live(move[3]!), target: move[1]!, evidence: ready, now: afterWait }).reason).toMatch(
      /The next allowed step is cutover\(knex→dynamodb\)/,
    );
    expect(judgeStep({ live: live(move[4]!), target: move[0]!, evidence: ready, now: afterWait }).reason).toMatch(
      /The next allowed step is dual-write\(dynamodb→knex\)/,
    );
  });

  it('a move of another pair beside a running one', () => {
    expect(
      judgeStep({
        live: live(move[1]!),
        target: { phase: 'dual-write', from: 'knex', to: 'redis' },
        evidence: ready,
        now: afterWait,
      }).allowed,
    ).toBe(false);
  });

  const cutover = (evidence: CutoverEvidence, now = afterWait) =>
    judgeStep({ live: live(move[1]!), target: move[2]!, evidence, now });
  it.each([
    [
      'without a backfill',
      { verify: ready.verify },
      /Run `portcullis sessions backfill --from knex --to dynamodb` to completion first \(none recorded\)/,
    ],
    [
      'with a backfill from before dual-write finished rolling out',
      { ...ready, backfill: { ...ready.backfill!, completedAt: later(-60) } },
      /is not one of this dual-write/,
    ],
    [
      'with a backfill of the other direction',
      { ...ready, backfill: { from: 'dynamodb', to: 'knex', completedAt: later(600) } },
      /the last one recorded, dynamodb → knex/,
    ],
    [
      'without a verify',
      { backfill: ready.backfill },
      /Run `portcullis sessions verify --from knex --to dynamodb` after the backfill \(none recorded for this pair\)/,
    ],
    [
      'with a verify from before the backfill',
      { ...ready, verify: { ...ready.verify!, at: later(300) } },
      /ran before the backfill completed/,
    ],
    ['with a NO-GO verify', { ...ready, verify: { ...ready.verify!, go: false } }, /said NO-GO/],
  ])('the cutover %s', (_, evidence, reason) => {
    const verdict = cutover(evidence as CutoverEvidence);
    expect(verdict.allowed).toBe(false);
    expect(verdict.reason).toMatch(reason);
  });

  it.each([IDLE - 60, IDLE + 5])(
    'the cutover before one idle timeout and the 10 s stored copies outlive cookies have passed since dual-write finished rolling out (%i s)',
    (seconds) => {
      const verdict = cutover(ready, new Date(rolledOutAt.getTime() + seconds * 1000));
      expect(verdict.allowed).toBe(false);
      expect(verdict.reason).toMatch(
        /Wait until 2026-12-03T10:30:10Z \(SESSION_IDLE_TIMEOUT_SECONDS, 1800 s, plus the 10 s stored sessions outlive their cookies, after dual-write finished rolling out at 2026-12-03T10:00:00Z\)/,
      );
    },
  );
});

describe('allows', () => {
  it('the first install and a re-apply of the same phase', () => {
    expect(judgeStep({ live: undefined, target: move[2]!, evidence: {}, now: afterWait }).allowed).toBe(true);
    expect(judgeStep({ live: live(move[2]!, false), target: move[2]!, evidence: {}, now: afterWait }).allowed).toBe(
      true,
    );
  });

  it('a step back without any evidence', () => {
    expect(judgeStep({ live: live(move[2]!), target: move[1]!, evidence: {}, now: rolledOutAt }).allowed).toBe(true);
  });

  it('the next move once one has ended', () => {
    expect(
      judgeStep({
        live: live(move[4]!),
        target: { phase: 'dual-write', from: 'dynamodb', to: 'knex' },
        evidence: {},
        now: rolledOutAt,
      }).allowed,
    ).toBe(true);
  });
});
