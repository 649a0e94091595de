import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { keyProblems } from './key-rings.js';
import {
  legacyDeprecation,
  LEGACY_STORE_VARIABLES,
  positionFromLegacy,
  settingsOfPhase,
  type DerivedStoreSettings,
  type PhasePosition,
  type SessionPhase,
  type StoreName,
} from './session-phase.js';
import {
  DEVELOPMENT_SESSION_SECRET,
  retiredVariables,
  secretVariables,
  variables,
  type VariableName,
} from './variables.js';

type Shape = { [K in VariableName]: (typeof variables)[K]['schema'] };
const shape = Object.fromEntries(Object.entries(variables).map(([name, spec]) => [name, spec.schema])) as Shape;

type Fields = z.output<z.ZodObject<Shape>>;
/** The phase and every setting derived from it are always filled in (session-phase.ts). */
export type Config = Readonly<
  Omit<Fields, keyof DerivedStoreSettings | 'SESSION_STORE_PHASE' | 'SESSION_STORE_FROM'> &
    DerivedStoreSettings & { SESSION_STORE_PHASE: SessionPhase; SESSION_STORE_FROM: StoreName }
>;
export type Environment = Record<string, string | undefined>;

type Problem = { variable: VariableName; message: string };

const fields = z.object(shape);

type Parsed = Partial<z.output<z.ZodObject<Shape>>>;

/**
 * The store phase: from SESSION_STORE_PHASE / _FROM / _TO, or, for one more release, from the
 * variables it replaces (`legacy` lists the ones set, for the deprecation warning).
 */
function storePhase(
  config: Parsed,
  input: Environment,
): { position?: PhasePosition; problems: Problem[]; legacy: VariableName[] } {
  const legacy = LEGACY_STORE_VARIABLES.filter((name) => input[name] !== undefined);
  const { SESSION_STORE_PHASE: phase, SESSION_STORE_FROM: from, SESSION_STORE_TO: to } = config;
  if (!phase) {
    if (from || to)
      return {
        problems: [
          {
            variable: 'SESSION_STORE_PHASE',
            message: `is required when SESSION_STORE_${from ? 'FROM' : 'TO'} is set (single, dual-write, cutover or retiring)`,
          },
        ],
        legacy,
      };
    const outcome = positionFromLegacy(config);
    return 'position' in outcome
      ? { position: outcome.position, problems: [], legacy }
      : { problems: outcome.problems as Problem[], legacy };
  }
  const problems: Problem[] = legacy.map((variable) => ({
    variable,
    message: `is derived from SESSION_STORE_PHASE; remove it (docs/session-cutover.md)`,
  }));
  if (!from)
    problems.push({
      variable: 'SESSION_STORE_FROM',
      message: `is required with SESSION_STORE_PHASE (${phase === 'single' ? 'the store sessions are in' : 'the store sessions move from'})`,
    });
  if (phase === 'single' && to)
    problems.push({
      variable: 'SESSION_STORE_TO',
      message:
        'names a second store, but the single phase uses one (SESSION_STORE_FROM): remove it, or set SESSION_STORE_PHASE=dual-write to start a move',
    });
  if (phase !== 'single' && !to)
    problems.push({
      variable: 'SESSION_STORE_TO',
      message: `is required in the ${phase} phase (the store sessions move to)`,
    });
  if (phase !== 'single' && to && to === from)
    problems.push({ variable: 'SESSION_STORE_TO', message: 'must differ from SESSION_STORE_FROM' });
  return problems.length > 0 || !from
    ? { problems, legacy: [] }
    : { position: { phase, from, to: phase === 'single' ? undefined : to }, problems, legacy: [] };
}

/** Each distinct deprecation once per process, as a Node DeprecationWarning (stderr, so in every pod's log). */
const warned = new Set<string>();
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.emitWarning(message, { type: 'DeprecationWarning', code: 'PORTCULLIS_SESSION_STORE_VARIABLES' });
}

function storesInUse(config: Parsed): string[] {
  if (config.SESSION_STORE_DRIVER !== 'dual') return config.SESSION_STORE_DRIVER ? [config.SESSION_STORE_DRIVER] : [];
  return [config.SESSION_STORE_PRIMARY, config.SESSION_STORE_SECONDARY].filter(
    (store): store is NonNullable<typeof store> => !!store,
  );
}

function crossFieldProblems(config: Parsed): Problem[] {
  const problems: Problem[] = [];
  if (config.SESSION_STORE_DRIVER === 'dual') {
    if (!config.SESSION_STORE_PRIMARY)
      problems.push({ variable: 'SESSION_STORE_PRIMARY', message: 'is required when SESSION_STORE_DRIVER is dual' });
    if (!config.SESSION_STORE_SECONDARY)
      problems.push({ variable: 'SESSION_STORE_SECONDARY', message: 'is required when SESSION_STORE_DRIVER is dual' });
    if (config.SESSION_STORE_PRIMARY && config.SESSION_STORE_PRIMARY === config.SESSION_STORE_SECONDARY) {
      problems.push({ variable: 'SESSION_STORE_SECONDARY', message: 'must differ from SESSION_STORE_PRIMARY' });
    }
  }
  const stores = storesInUse(config);
  if ((stores.includes('redis') || config.RATE_LIMIT_STORE === 'redis') && !config.REDIS_URL)
    problems.push({ variable: 'REDIS_URL', message: 'is required by the redis session store or rate limits' });
  if (config.DEFAULT_PLATFORM_ADMIN_EMAIL && !config.DEFAULT_PLATFORM_ADMIN_PASSWORD) {
    problems.push({
      variable: 'DEFAULT_PLATFORM_ADMIN_PASSWORD',
      message: 'is required when DEFAULT_PLATFORM_ADMIN_EMAIL is set',
    });
  }
  if (config.DEFAULT_PLATFORM_ADMIN_PASSWORD && !config.DEFAULT_PLATFORM_ADMIN_EMAIL) {
    problems.push({
      variable: 'DEFAULT_PLATFORM_ADMIN_EMAIL',
      message: 'is required when DEFAULT_PLATFORM_ADMIN_PASSWORD is set',
    });
  }
  if (config.SECRETS_SOURCE === 'aws' && !config.AWS_SECRETS_MANAGER_SECRET_ID && !config.AWS_SSM_PARAMETER_PATH) {
    problems.push({
      variable: 'AWS_SECRETS_MANAGER_SECRET_ID',
      message: 'or AWS_SSM_PARAMETER_PATH is required when SECRETS_SOURCE is aws',
    });
  }
  return problems;
}

/** Development conveniences that must never reach production. */
function productionProblems(config: Parsed): Problem[] {
  if (config.NODE_ENV !== 'production') return [];
  const problems: Problem[] = [];
  if (
    config.SESSION_SECRET?.some(
      (secret) => secret === DEVELOPMENT_SESSION_SECRET || /^(dev|development|test|changeme)/i.test(secret),
    )
  ) {
    problems.push({ variable: 'SESSION_SECRET', message: 'holds a development secret, refused in production' });
  }
  if (storesInUse(config).includes('memory')) {
    problems.push({
      variable: 'SESSION_STORE_DRIVER',
      message: 'the memory store is for development only, refused in production',
    });
  }
  if (config.RATE_LIMIT_STORE === 'memory')
    problems.push({
      variable: 'RATE_LIMIT_STORE',
      message: 'memory does not hold across replicas, refused in production',
    });
  if (!config.MFA_SECRET_ENCRYPTION_KEY)
    problems.push({ variable: 'MFA_SECRET_ENCRYPTION_KEY', message: 'is required in production' });
  if (!config.MFA_RESET_LOG_ENCRYPTION_KEY)
    problems.push({ variable: 'MFA_RESET_LOG_ENCRYPTION_KEY', message: 'is required in production' });
  // Every writer keys the audit chain with it (libs/audit), so a database-only attacker cannot rewrite the chain.
  if (!config.AUDIT_DETAILS_ENCRYPTION_KEY)
    problems.push({
      variable: 'AUDIT_DETAILS_ENCRYPTION_KEY',
      message: 'is required in production (it keys the audit hash chain)',
    });
  return problems;
}

/** Removes any secret's value from a message, whatever produced it. */
function scrub(message: string, env: Environment): string {
  return secretVariables.reduce((text, name) => {
    const value = env[name];
    return value && value.length >= 4 ? text.split(value).join('[redacted]') : text;
  }, message);
}

/**
 * Parses the environment once at start-up. Every problem is reported at once, by variable
 * name; the result is frozen and passed down (nothing deeper reads process.env).
 */
export function loadConfig(env: Environment = process.env, options: { warn?: (message: string) => void } = {}): Config {
  // Empty strings mean "unset" (Helm and ESO render missing values as "").
  const input: Environment = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const first = fields.safeParse(input);
  const fieldProblems = first.success
    ? []
    : first.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? 'configuration'),
        message: issue.message,
      }));
  // Cross-field and production rules run on what did parse, so one start-up reports everything.
  const badFields = new Set(fieldProblems.map((problem) => problem.variable));
  const lenient = fields.partial(
    Object.fromEntries([...badFields].filter((name) => name in shape).map((name) => [name, true])) as {
      [K in VariableName]?: true;
    },
  );
  const parsed = first.success
    ? first
    : lenient.safeParse(Object.fromEntries(Object.entries(input).filter(([name]) => !badFields.has(name))));
  const phase = parsed.success ? storePhase(parsed.data, input) : { problems: [], legacy: [] };
  const derived = phase.position
    ? {
        ...settingsOfPhase(phase.position, parsed.data?.SESSION_RETIRING_STORE_TTL_SECONDS),
        SESSION_STORE_PHASE: phase.position.phase,
        SESSION_STORE_FROM: phase.position.from,
        SESSION_STORE_TO: phase.position.to,
      }
    : {};
  const resolved = { ...parsed.data, ...derived };
  const ruleProblems = parsed.success
    ? [
        ...phase.problems,
        ...crossFieldProblems(resolved),
        ...productionProblems(resolved),
        ...keyProblems(resolved),
      ].filter((problem) => !badFields.has(problem.variable))
    : [];
  const retired = Object.keys(input)
    .filter((name) => Object.hasOwn(retiredVariables, name))
    .map((name) => ({ variable: name, message: retiredVariables[name]! }));
  const problems = [...fieldProblems, ...ruleProblems, ...retired].map((problem) => ({
    ...problem,
    message: scrub(problem.message, env),
  }));
  if (problems.length > 0 || !first.success || !phase.position) throw new ConfigError(problems);
  if (phase.legacy.length > 0) (options.warn ?? warnOnce)(legacyDeprecation(phase.position, phase.legacy));
  return Object.freeze({ ...first.data, ...derived }) as Config;
}
