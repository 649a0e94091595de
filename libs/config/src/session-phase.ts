// The session-store move as one value: SESSION_STORE_PHASE with SESSION_STORE_FROM / _TO.
// Every dual setting is derived here, so the settings docs/session-cutover.md gives each phase
// (and that libs/session-store/test/mixed-phase.test.ts proves safe side by side) cannot be
// mis-set; the runbook's table is generated from this file (sessionPhaseTable) and a test keeps
// the two equal. The six variables a phase used to be spelled with stay readable for one release.
import { createHash } from 'node:crypto';

export const SESSION_PHASES = ['single', 'dual-write', 'cutover', 'retiring'] as const;
export type SessionPhase = (typeof SESSION_PHASES)[number];
export type StoreName = 'memory' | 'redis' | 'knex' | 'dynamodb';

/** Where a deployment stands: `single` uses `from` alone; the dual phases move sessions from → to. */
export interface PhasePosition {
  phase: SessionPhase;
  from: StoreName;
  to?: StoreName | undefined;
}

/** What a phase means for the store: the values the six old variables used to be set to by hand. */
export interface DerivedStoreSettings {
  SESSION_STORE_DRIVER: StoreName | 'dual';
  SESSION_STORE_PRIMARY: StoreName | undefined;
  SESSION_STORE_SECONDARY: StoreName | undefined;
  SESSION_DUAL_FALLBACK_ON_MISS: boolean;
  SESSION_DUAL_READ_REPAIR: boolean;
  SESSION_RETIRING_STORE_TTL_SECONDS: number | undefined;
}

/** A retiring store's copies outlive their last write by at most this (well under the 30-minute idle timeout). */
export const DEFAULT_RETIRING_TTL_SECONDS = 900;

/** The variables a phase was spelled with before SESSION_STORE_PHASE; read for one more release. */
export const LEGACY_STORE_VARIABLES = [
  'SESSION_STORE_DRIVER',
  'SESSION_STORE_PRIMARY',
  'SESSION_STORE_SECONDARY',
  'SESSION_DUAL_FALLBACK_ON_MISS',
  'SESSION_DUAL_READ_REPAIR',
] as const;

const STEP: Record<SessionPhase, number> = { single: 0, 'dual-write': 1, cutover: 2, retiring: 3 };

/** `dual-write(knex→dynamodb)`, `single(redis)`: how logs, the gate and the docs name a position. */
export function phaseLabel(position: PhasePosition): string {
  return position.phase === 'single'
    ? `single(${position.from})`
    : `${position.phase}(${position.from}→${position.to})`;
}

/** The chart values (and variables) of a position, e.g. for the `helm upgrade` a step needs. */
export function phaseValues(position: PhasePosition): { phase: SessionPhase; from: StoreName; to: StoreName | '' } {
  return { phase: position.phase, from: position.from, to: position.phase === 'single' ? '' : position.to! };
}

export function samePosition(a: PhasePosition, b: PhasePosition): boolean {
  return phaseLabel(a) === phaseLabel(b);
}

/**
 * Every dual setting of a phase. `dual-write` reads the old store first with fallback off (an
 * old-store pod's logout must not come back from the new store); `cutover` reads the new store
 * first with fallback on (covers writes a terminated pod never repaired); `retiring` turns
 * fallback off again (a new-store pod's logout must not come back from the old store) and
 * shortens the old store's copies. Read repair is never on: it can undo a logout for good.
 */
export function settingsOfPhase(
  position: PhasePosition,
  retiringTtlSeconds = DEFAULT_RETIRING_TTL_SECONDS,
): DerivedStoreSettings {
  const off = { SESSION_DUAL_READ_REPAIR: false, SESSION_RETIRING_STORE_TTL_SECONDS: undefined };
  const { from, to } = position;
  switch (position.phase) {
    case 'single':
      return {
        SESSION_STORE_DRIVER: from,
        SESSION_STORE_PRIMARY: undefined,
        SESSION_STORE_SECONDARY: undefined,
        SESSION_DUAL_FALLBACK_ON_MISS: false,
        ...off,
      };
    case 'dual-write':
      return {
        SESSION_STORE_DRIVER: 'dual',
        SESSION_STORE_PRIMARY: from,
        SESSION_STORE_SECONDARY: to,
        SESSION_DUAL_FALLBACK_ON_MISS: false,
        ...off,
      };
    case 'cutover':
      return {
        SESSION_STORE_DRIVER: 'dual',
        SESSION_STORE_PRIMARY: to,
        SESSION_STORE_SECONDARY: from,
        SESSION_DUAL_FALLBACK_ON_MISS: true,
        ...off,
      };
    case 'retiring':
      return {
        ...settingsOfPhase({ ...position, phase: 'cutover' }),
        SESSION_DUAL_FALLBACK_ON_MISS: false,
        SESSION_RETIRING_STORE_TTL_SECONDS: retiringTtlSeconds,
      };
  }
}

/** The position one step forward (undefined at the end of a move: start the next with dual-write). */
export function nextPosition(position: PhasePosition): PhasePosition | undefined {
  switch (position.phase) {
    case 'single':
      return undefined;
    case 'dual-write':
      return { ...position, phase: 'cutover' };
    case 'cutover':
      return { ...position, phase: 'retiring' };
    case 'retiring':
      return { phase: 'single', from: position.to! };
  }
}

/** The position one step back, the way back of a step (single has none within a move). */
export function previousPosition(position: PhasePosition): PhasePosition | undefined {
  switch (position.phase) {
    case 'single':
      return undefined;
    case 'dual-write':
      return { phase: 'single', from: position.from };
    case 'cutover':
      return { ...position, phase: 'dual-write' };
    case 'retiring':
      return { ...position, phase: 'cutover' };
  }
}

/**
 * Positions whose pods may run beside this one's during a rolling deploy (itself included): the
 * step before and the step after. `single(X)` neighbours `dual-write(X→Y)` and `retiring(Y→X)`
 * for any other store Y. Anything else can bring back a logout or lose a session.
 */
export function compatiblePositions(
  position: PhasePosition,
  stores: readonly StoreName[] = ['redis', 'knex', 'dynamodb', 'memory'],
): PhasePosition[] {
  if (position.phase !== 'single') return [position, previousPosition(position)!, nextPosition(position)!];
  const others = stores.filter((store) => store !== position.from);
  return [
    position,
    ...others.flatMap((other) => [
      { phase: 'dual-write' as const, from: position.from, to: other },
      { phase: 'retiring' as const, from: other, to: position.from },
    ]),
  ];
}

export function areAdjacent(a: PhasePosition, b: PhasePosition): boolean {
  return compatiblePositions(a).some((candidate) => samePosition(candidate, b));
}

/** 0 … 4 along the move from → to (single(from) = 0, single(to) = 4); for ordering and plots. */
export function stepOf(position: PhasePosition, move: { from: StoreName; to: StoreName }): number | undefined {
  if (position.phase === 'single') return position.from === move.from ? 0 : position.from === move.to ? 4 : undefined;
  return position.from === move.from && position.to === move.to ? STEP[position.phase] : undefined;
}

export interface PhaseProblem {
  variable: string;
  message: string;
}

const assignment = (position: PhasePosition) =>
  `SESSION_STORE_PHASE=${position.phase} SESSION_STORE_FROM=${position.from}${position.phase === 'single' ? '' : ` SESSION_STORE_TO=${position.to}`}`;

/** What the six old variables meant, as a position; or why the combination is refused. */
export function positionFromLegacy(values: {
  SESSION_STORE_DRIVER?: StoreName | 'dual' | undefined;
  SESSION_STORE_PRIMARY?: StoreName | undefined;
  SESSION_STORE_SECONDARY?: StoreName | undefined;
  /** undefined when the variable was not set. */
  SESSION_DUAL_FALLBACK_ON_MISS?: boolean | undefined;
  SESSION_DUAL_READ_REPAIR?: boolean | undefined;
  SESSION_RETIRING_STORE_TTL_SECONDS?: number | undefined;
}): { position: PhasePosition } | { problems: PhaseProblem[] } {
  const driver = values.SESSION_STORE_DRIVER ?? 'memory';
  if (driver !== 'dual') return { position: { phase: 'single', from: driver } };
  const primary = values.SESSION_STORE_PRIMARY;
  const secondary = values.SESSION_STORE_SECONDARY;
  if (!primary || !secondary || primary === secondary) return { problems: [] }; // the dual checks of load-config name these
  const firstDual: PhasePosition = { phase: 'dual-write', from: primary, to: secondary };
  const cutover: PhasePosition = { phase: 'cutover', from: secondary, to: primary };
  const retiring: PhasePosition = { phase: 'retiring', from: secondary, to: primary };
  const problems: PhaseProblem[] = [];
  if (values.SESSION_DUAL_READ_REPAIR === true) {
    problems.push({
      variable: 'SESSION_DUAL_READ_REPAIR',
      message: `true lets one pod undo another pod's logout for good (docs/session-cutover.md, "Read repair"); no phase uses it. Remove it and the other session store variables, and set ${assignment(values.SESSION_RETIRING_STORE_TTL_SECONDS ? retiring : values.SESSION_DUAL_FALLBACK_ON_MISS === true ? cutover : firstDual)}`,
    });
  }
  const ttl = values.SESSION_RETIRING_STORE_TTL_SECONDS;
  if (values.SESSION_DUAL_FALLBACK_ON_MISS === undefined) {
    problems.push({
      variable: 'SESSION_DUAL_FALLBACK_ON_MISS',
      message: `is unset, and its old default (true) brings back sessions that a single-store pod logged out beside the first dual phase and the retiring one. Set ${assignment(ttl ? retiring : firstDual)}${ttl ? '' : `, or, only after backfill, verify and the wait, ${assignment(cutover)}`}`,
    });
  } else if (values.SESSION_DUAL_FALLBACK_ON_MISS && ttl) {
    problems.push({
      variable: 'SESSION_DUAL_FALLBACK_ON_MISS',
      message: `true beside SESSION_RETIRING_STORE_TTL_SECONDS brings back sessions a single-store ${primary} pod logged out (the retiring phase keeps fallback off). Set ${assignment(retiring)}`,
    });
  }
  if (problems.length > 0) return { problems };
  return { position: ttl ? retiring : values.SESSION_DUAL_FALLBACK_ON_MISS ? cutover : firstDual };
}

/** The one-line replacement of a legacy configuration, for the deprecation warning. */
export function legacyDeprecation(position: PhasePosition, used: readonly string[]): string {
  return `${used.join(', ')} ${used.length === 1 ? 'is' : 'are'} deprecated and will not be read in the next release: replace ${used.length === 1 ? 'it' : 'them'} with ${assignment(position)} (the same settings; docs/session-cutover.md).`;
}

const yes = (value: boolean) => (value ? '`true`' : '`false`');
const unset = (value: string | number | undefined) => (value === undefined ? 'unset' : `\`${value}\``);

/**
 * The runbook's phase table for a move from → to, generated from settingsOfPhase: which
 * variables each step sets and what they derive to. docs/session-cutover.md holds it between
 * markers; test/docs keeps the two equal.
 */
export function sessionPhaseTable(from: StoreName = 'knex', to: StoreName = 'dynamodb'): string {
  const steps: { label: string; position?: PhasePosition; note?: string }[] = [
    { label: 'single (A)', position: { phase: 'single', from } },
    { label: 'dual-write', position: { phase: 'dual-write', from, to } },
    { label: 'backfill, wait, verify', note: '*(dual-write unchanged)*' },
    { label: 'cutover', position: { phase: 'cutover', from, to } },
    { label: 'retiring', position: { phase: 'retiring', from, to } },
    { label: 'single (B)', position: { phase: 'single', from: to } },
  ];
  const header =
    '| # | step | `SESSION_STORE_PHASE` | `_FROM` | `_TO` | reads first | also writes | fallback on miss | read repair | retiring TTL (s) |';
  const rows = steps.map((step, index) => {
    if (!step.position) return `| ${index} | ${step.label} | ${step.note} | | | | | | | |`;
    const settings = settingsOfPhase(step.position);
    const dual = settings.SESSION_STORE_DRIVER === 'dual';
    const values = phaseValues(step.position);
    return `| ${index} | ${step.label} | \`${values.phase}\` | \`${values.from}\` | ${values.to ? `\`${values.to}\`` : 'unset'} | \`${dual ? settings.SESSION_STORE_PRIMARY : settings.SESSION_STORE_DRIVER}\` | ${dual ? `\`${settings.SESSION_STORE_SECONDARY}\`` : '—'} | ${dual ? yes(settings.SESSION_DUAL_FALLBACK_ON_MISS) : '—'} | ${dual ? yes(settings.SESSION_DUAL_READ_REPAIR) : '—'} | ${unset(settings.SESSION_RETIRING_STORE_TTL_SECONDS)} |`;
  });
  return [header, '|---|---|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}

/** The labels of `session_store_phase_info` and `session_store_phase_compatible` (libs/session-store metrics.ts). */
export interface SessionPhaseInfo {
  phase: SessionPhase;
  from: StoreName;
  /** '' in the single phase. */
  to: StoreName | '';
  /** Short hash of every derived store setting: pods of one phase with different settings show up as two values. */
  configHash: string;
  /** This position and its neighbours: the phases other pods may run beside it. */
  compatible: { phase: SessionPhase; from: StoreName; to: StoreName | '' }[];
}

export function sessionPhaseInfo(
  config: DerivedStoreSettings & {
    SESSION_STORE_PHASE: SessionPhase;
    SESSION_STORE_FROM: StoreName;
    SESSION_STORE_TO?: StoreName | undefined;
  },
): SessionPhaseInfo {
  const position: PhasePosition = {
    phase: config.SESSION_STORE_PHASE,
    from: config.SESSION_STORE_FROM,
    to: config.SESSION_STORE_TO,
  };
  const settings = (Object.keys(settingsOfPhase(position)) as (keyof DerivedStoreSettings)[]).map((name) => [
    name,
    config[name] ?? null,
  ]);
  return {
    ...phaseValues(position),
    configHash: createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 12),
    compatible: compatiblePositions(position).map(phaseValues),
  };
}
