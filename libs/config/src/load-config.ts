import { createKeyRing, KeyConfigError, listedKeys, type KeyRing } from '@portcullis/crypto';
import { z } from 'zod';
import { DEVELOPMENT_SESSION_SECRET, retiredVariables, secretVariables, variables, type VariableName } from './variables.js';

type Shape = { [K in VariableName]: (typeof variables)[K]['schema'] };
const shape = Object.fromEntries(Object.entries(variables).map(([name, spec]) => [name, spec.schema])) as Shape;

export type Config = Readonly<z.output<z.ZodObject<Shape>>>;
export type Environment = Record<string, string | undefined>;

/** Thrown when configuration is invalid; the message lists every problem, never a value. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly { variable: string; message: string }[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((problem) => `  - ${problem.variable}: ${problem.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

type Problem = { variable: VariableName; message: string };

const fields = z.object(shape);

type Parsed = Partial<z.output<z.ZodObject<Shape>>>;

function storesInUse(config: Parsed): string[] {
  if (config.SESSION_STORE_DRIVER !== 'dual') return config.SESSION_STORE_DRIVER ? [config.SESSION_STORE_DRIVER] : [];
  return [config.SESSION_STORE_PRIMARY, config.SESSION_STORE_SECONDARY].filter((store): store is NonNullable<typeof store> => !!store);
}

function crossFieldProblems(config: Parsed): Problem[] {
  const problems: Problem[] = [];
  if (config.SESSION_STORE_DRIVER === 'dual') {
    if (!config.SESSION_STORE_PRIMARY) problems.push({ variable: 'SESSION_STORE_PRIMARY', message: 'is required when SESSION_STORE_DRIVER is dual' });
    if (!config.SESSION_STORE_SECONDARY) problems.push({ variable: 'SESSION_STORE_SECONDARY', message: 'is required when SESSION_STORE_DRIVER is dual' });
    if (config.SESSION_STORE_PRIMARY && config.SESSION_STORE_PRIMARY === config.SESSION_STORE_SECONDARY) {
      problems.push({ variable: 'SESSION_STORE_SECONDARY', message: 'must differ from SESSION_STORE_PRIMARY' });
    }
  }
  const stores = storesInUse(config);
  if ((stores.includes('redis') || config.RATE_LIMIT_STORE === 'redis') && !config.REDIS_URL) problems.push({ variable: 'REDIS_URL', message: 'is required by the redis session store or rate limits' });
  if (config.DEFAULT_PLATFORM_ADMIN_EMAIL && !config.DEFAULT_PLATFORM_ADMIN_PASSWORD) {
    problems.push({ variable: 'DEFAULT_PLATFORM_ADMIN_PASSWORD', message: 'is required when DEFAULT_PLATFORM_ADMIN_EMAIL is set' });
  }
  if (config.DEFAULT_PLATFORM_ADMIN_PASSWORD && !config.DEFAULT_PLATFORM_ADMIN_EMAIL) {
    problems.push({ variable: 'DEFAULT_PLATFORM_ADMIN_EMAIL', message: 'is required when DEFAULT_PLATFORM_ADMIN_PASSWORD is set' });
  }
  if (config.SECRETS_SOURCE === 'aws' && !config.AWS_SECRETS_MANAGER_SECRET_ID && !config.AWS_SSM_PARAMETER_PATH) {
    problems.push({ variable: 'AWS_SECRETS_MANAGER_SECRET_ID', message: 'or AWS_SSM_PARAMETER_PATH is required when SECRETS_SOURCE is aws' });
  }
  return problems;
}

const KEY_RINGS = [
  ['MFA_SECRET_ENCRYPTION_KEY', 'MFA_SECRET_ENCRYPTION_KEYS_PREVIOUS'],
  ['MFA_RESET_LOG_ENCRYPTION_KEY', 'MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS'],
  ['AUDIT_DETAILS_ENCRYPTION_KEY', 'AUDIT_DETAILS_ENCRYPTION_KEYS_PREVIOUS'],
] as const;

export type KeyRingVariable = (typeof KEY_RINGS)[number][0];

/**
 * The ring of one key variable: the key itself (primary) and its `*_KEYS_PREVIOUS` list, from a
 * loaded Config or a plain record of variables; undefined when the key is not set.
 */
export function keyRingOf(values: { readonly [name: string]: unknown }, primary: KeyRingVariable): KeyRing | undefined {
  const value = values[primary];
  if (typeof value !== 'string' || value === '') return undefined;
  const previous = KEY_RINGS.find(([name]) => name === primary)![1];
  const listed = values[previous];
  return createKeyRing({ primary: { name: primary, value }, previous: listedKeys(previous, typeof listed === 'string' || Array.isArray(listed) ? (listed as string | string[]) : undefined) });
}

/** Keys are checked by libs/crypto's own rules (length, encoding, randomness) at start-up. */
function keyProblems(config: Parsed): { variable: string; message: string }[] {
  const problems: { variable: string; message: string }[] = [];
  for (const [primary] of KEY_RINGS) {
    try {
      keyRingOf(config, primary);
    } catch (error) {
      if (!(error instanceof KeyConfigError)) throw error;
      problems.push(...error.problems.map((problem) => ({ variable: problem.variable, message: problem.message })));
    }
  }
  return problems;
}

/** Development conveniences that must never reach production. */
function productionProblems(config: Parsed): Problem[] {
  if (config.NODE_ENV !== 'production') return [];
  const problems: Problem[] = [];
  if (config.SESSION_SECRET?.some((secret) => secret === DEVELOPMENT_SESSION_SECRET || /^(dev|development|test|changeme)/i.test(secret))) {
    problems.push({ variable: 'SESSION_SECRET', message: 'holds a development secret, refused in production' });
  }
  if (storesInUse(config).includes('memory')) {
    problems.push({ variable: 'SESSION_STORE_DRIVER', message: 'the memory store is for development only, refused in production' });
  }
  if (config.RATE_LIMIT_STORE === 'memory') problems.push({ variable: 'RATE_LIMIT_STORE', message: 'memory does not hold across replicas, refused in production' });
  if (!config.MFA_SECRET_ENCRYPTION_KEY) problems.push({ variable: 'MFA_SECRET_ENCRYPTION_KEY', message: 'is required in production' });
  if (!config.MFA_RESET_LOG_ENCRYPTION_KEY) problems.push({ variable: 'MFA_RESET_LOG_ENCRYPTION_KEY', message: 'is required in production' });
  // Every writer keys the audit chain with it (libs/audit), so a database-only attacker cannot rewrite the chain.
  if (!config.AUDIT_DETAILS_ENCRYPTION_KEY) problems.push({ variable: 'AUDIT_DETAILS_ENCRYPTION_KEY', message: 'is required in production (it keys the audit hash chain)' });
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
export function loadConfig(env: Environment = process.env): Config {
  // Empty strings mean "unset" (Helm and ESO render missing values as "").
  const input: Environment = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const first = fields.safeParse(input);
  const fieldProblems = first.success
    ? []
    : first.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? 'configuration'), message: issue.message }));
  // Cross-field and production rules run on what did parse, so one start-up reports everything.
  const badFields = new Set(fieldProblems.map((problem) => problem.variable));
  const lenient = fields.partial(Object.fromEntries([...badFields].filter((name) => name in shape).map((name) => [name, true])) as { [K in VariableName]?: true });
  const parsed = first.success ? first : lenient.safeParse(Object.fromEntries(Object.entries(input).filter(([name]) => !badFields.has(name))));
  const ruleProblems = parsed.success
    ? [...crossFieldProblems(parsed.data), ...productionProblems(parsed.data), ...keyProblems(parsed.data)].filter((problem) => !badFields.has(problem.variable))
    : [];
  const retired = Object.keys(input)
    .filter((name) => Object.hasOwn(retiredVariables, name))
    .map((name) => ({ variable: name, message: retiredVariables[name]! }));
  const problems = [...fieldProblems, ...ruleProblems, ...retired].map((problem) => ({ ...problem, message: scrub(problem.message, env) }));
  if (problems.length > 0 || !first.success) throw new ConfigError(problems);
  return Object.freeze(first.data);
}

/** For `main.ts`: a bad configuration prints its one message and exits non-zero. */
export function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
