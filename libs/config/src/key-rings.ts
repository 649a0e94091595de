// The key rings of the configuration: each key variable with its `*_KEYS_PREVIOUS` list. The one
// place a ring is built from configuration, for the services' main.ts and the CLI alike.
import { createKeyRing, KeyConfigError, listedKeys, type KeyRing } from '@portcullis/crypto';
import { ConfigError } from './config-error.js';

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
  return createKeyRing({
    primary: { name: primary, value },
    previous: listedKeys(
      previous,
      typeof listed === 'string' || Array.isArray(listed) ? (listed as string | string[]) : undefined,
    ),
  });
}

/** Keys are checked by libs/crypto's own rules (length, encoding, randomness) at start-up. */
export function keyProblems(config: { readonly [name: string]: unknown }): { variable: string; message: string }[] {
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

/**
 * The rings a process cannot run without, by variable: one ConfigError naming every one that is
 * unset and how to make a key, so each service says it the same way at start-up.
 */
export function requireKeyRings<V extends KeyRingVariable>(
  values: { readonly [name: string]: unknown },
  variables: readonly V[],
  user: string,
): Record<V, KeyRing> {
  const rings = variables.map((variable) => [variable, keyRingOf(values, variable)] as const);
  const missing = rings
    .filter(([, ring]) => !ring)
    .map(([variable]) => ({
      variable,
      message: `is required by ${user} (generate one with \`portcullis keys generate\`)`,
    }));
  if (missing.length > 0) throw new ConfigError(missing);
  return Object.fromEntries(rings) as Record<V, KeyRing>;
}
