// One reader for the commands that need only a variable or two (migrate, mfa-logs, audit), so a
// Job gets no more of the services' secrets than it uses. Same zod rules as loadConfig; "" is
// unset, as Helm and ESO render a missing value. Commands that need a store read loadConfig.
import { keyRingOf, resolveSecretSources, variables, type Environment, type KeyRingVariable } from '@portcullis/config';
import { KeyConfigError, type KeyRing } from '@portcullis/crypto';
import { CliError, EXIT } from './cli-error.js';

type Name = keyof typeof variables;
/** The environment, or a loaded Config (break-glass reads one). */
type KeyValues = { readonly [name: string]: unknown };
type Value<K extends Name> = NonNullable<ReturnType<(typeof variables)[K]['schema']['parse']>>;

export function readVariable<K extends Name>(env: Environment, name: K, hint = ''): Value<K> {
  const parsed = variables[name].schema.safeParse(env[name] || undefined);
  if (!parsed.success || parsed.data === undefined) {
    const problem = parsed.success ? 'is required' : (parsed.error.issues[0]?.message ?? 'is invalid');
    throw new CliError(`${name} ${problem}: set it in the environment${hint ? ` (see ${hint})` : ''}`, EXIT.usage);
  }
  return parsed.data as Value<K>;
}

/**
 * The key ring of `variable` and its `*_KEYS_PREVIOUS` list, as the services build it; undefined
 * when unset. A malformed key is a usage error naming the variable, never its value.
 */
export function readKeyRing(values: KeyValues, variable: KeyRingVariable): KeyRing | undefined {
  try {
    return keyRingOf(values, variable);
  } catch (error) {
    if (error instanceof KeyConfigError) throw new CliError(`${error.message}: fix the key and run again`, EXIT.usage);
    throw error;
  }
}

/** As readKeyRing, for a command that cannot run without the ring: unset is a usage error saying what it is for. */
export function requireKeyRing(values: KeyValues, variable: KeyRingVariable, purpose: string): KeyRing {
  const ring = readKeyRing(values, variable);
  if (!ring)
    throw new CliError(
      `${variable} is not set: ${purpose}. Set it, or SECRETS_SOURCE=aws, with the services' key ring (docs/key-rotation.md).`,
      EXIT.usage,
    );
  return ring;
}

/**
 * The environment every command reads, loaded as the services load theirs: with
 * SECRETS_SOURCE=aws, Secrets Manager and then SSM values override the plain environment, so an
 * operator never exports a key into a shell. Resolved once per run; the result says
 * SECRETS_SOURCE=env, so child processes (mfa-logs --parallel shards) inherit the values rather
 * than fetch them again.
 */
export async function resolveEnvironment(env: Environment): Promise<Environment> {
  if (readVariable(env, 'SECRETS_SOURCE') !== 'aws') return env;
  if (!env.AWS_SECRETS_MANAGER_SECRET_ID && !env.AWS_SSM_PARAMETER_PATH) {
    throw new CliError(
      'SECRETS_SOURCE is aws but neither AWS_SECRETS_MANAGER_SECRET_ID nor AWS_SSM_PARAMETER_PATH is set: set one, as for the services.',
      EXIT.usage,
    );
  }
  return { ...(await resolveSecretSources(env)), SECRETS_SOURCE: 'env' };
}
