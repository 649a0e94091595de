// The password policy and the sign-in queue for argon2 work; the hashing itself is
// @portcullis/crypto's createPasswordHasher (one set of argon2id parameters for every service).
import { dictionary } from '@zxcvbn-ts/language-common';
import { ARGON2_PARAMETERS, createPasswordHasher, type Argon2Parameters } from '@portcullis/crypto';
import { apiError } from '@portcullis/http';

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

/**
 * How much argon2 work runs at once and how much may wait (see PasswordWorkLimits in
 * @portcullis/crypto). Past the queue a sign-in is refused at once with 503 and Retry-After
 * instead of waiting for seconds.
 */
export const PASSWORD_WORK_LIMITS = { concurrency: 1, maxWaiting: 32, retryAfterSeconds: 2 };

/** The hasher of sign-ins and password changes: argon2 work queued, 503 auth.busy past the queue. */
export function createSignInPasswordHasher(
  parameters: Argon2Parameters = ARGON2_PARAMETERS,
  limits = PASSWORD_WORK_LIMITS,
) {
  const busy = () =>
    apiError('auth.busy', `Too many sign-ins at once. Try again in ${limits.retryAfterSeconds} seconds.`, {
      retryAfterSeconds: limits.retryAfterSeconds,
    });
  return createPasswordHasher({
    parameters,
    limits: { concurrency: limits.concurrency, maxWaiting: limits.maxWaiting, busy },
  });
}
