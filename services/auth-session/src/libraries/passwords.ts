import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * argon2id at OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1). `npm run bench -- auth`
 * measures sign-ins/s with these parameters.
 */
// algorithm 2 = Algorithm.Argon2id (a const enum, which isolated modules cannot import).
export const ARGON2_PARAMETERS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

// 49k most common passwords, shipped with @zxcvbn-ts/language-common.
const commonPasswords = new Set((dictionary['passwords-common'] as string[]).map((word) => word.toLowerCase()));

/** Problems with a proposed password, as sentences; empty when it is acceptable. */
export function passwordProblems(password: string, email?: string): string[] {
  const problems: string[] = [];
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) problems.push(`The password must have at least ${PASSWORD_MIN_LENGTH} characters.`);
  if (length > PASSWORD_MAX_LENGTH) problems.push(`The password must have at most ${PASSWORD_MAX_LENGTH} characters.`);
  const lowered = password.toLowerCase();
  if (commonPasswords.has(lowered) || commonPasswords.has(lowered.replace(/[\d!@#$%^&*.]+$/, ''))) {
    problems.push('The password is on the list of commonly used passwords.');
  }
  if (email && lowered.includes(email.toLowerCase().split('@')[0]!) && email.split('@')[0]!.length >= 4) {
    problems.push('The password must not contain your email name.');
  }
  if (new Set(password).size < 4) problems.push('The password repeats too few different characters.');
  return problems;
}

export function createPasswordHasher(parameters = ARGON2_PARAMETERS) {
  // Unknown accounts are checked against this, so they cost the same time as real ones.
  const dummyHash = hash('portcullis-timing-equaliser', parameters);
  return {
    hash: (password: string) => hash(password.normalize('NFC'), parameters),
    async verify(passwordHash: string | undefined, password: string): Promise<boolean> {
      const target = passwordHash ?? (await dummyHash);
      try {
        const matches = await verify(target, password.normalize('NFC'));
        return matches && passwordHash !== undefined;
      } catch {
        return false;
      }
    },
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;
