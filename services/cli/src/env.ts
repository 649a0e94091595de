// One reader for the commands that need only a variable or two (migrate, mfa-logs, audit), so a
// Job gets no more of the services' secrets than it uses. Same zod rules as loadConfig; "" is
// unset, as Helm and ESO render a missing value. Commands that need a store read loadConfig.
import { variables, type Environment } from '@portcullis/config';
import { CliError, EXIT } from './cli-error.js';

type Name = keyof typeof variables;
type Value<K extends Name> = NonNullable<ReturnType<(typeof variables)[K]['schema']['parse']>>;

export function readVariable<K extends Name>(env: Environment, name: K, hint = ''): Value<K> {
  const parsed = variables[name].schema.safeParse(env[name] || undefined);
  if (!parsed.success || parsed.data === undefined) {
    const problem = parsed.success ? 'is required' : (parsed.error.issues[0]?.message ?? 'is invalid');
    throw new CliError(`${name} ${problem}: set it in the environment${hint ? ` (see ${hint})` : ''}`, EXIT.usage);
  }
  return parsed.data as Value<K>;
}
