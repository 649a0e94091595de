import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';
import pLimit from 'p-limit';
import { ApiError } from '@portcullis/http';

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

/**
 * How much argon2 work runs at once and how much may wait. Each hash holds 19 MiB and a thread
 * of libuv's pool (4 by default, shared with DNS and file I/O): unbounded, a burst of sign-ins
 * starves every other request of the pod. Past the queue a sign-in is refused at once with
 * 503 and Retry-After instead of waiting for seconds.
 */
export const PASSWORD_WORK_LIMITS = { concurrency: 1, maxWaiting: 32, retryAfterSeconds: 2 };

export function createPasswordHasher(parameters: { algorithm: 2; memoryCost: number; timeCost: number; parallelism: number } = ARGON2_PARAMETERS, limits = PASSWORD_WORK_LIMITS) {
  // Unknown accounts are checked against this, so they cost the same time as real ones.
  const dummyHash = hash('portcullis-timing-equaliser', parameters);
  const limit = pLimit(limits.concurrency);
  const busy = () => new ApiError('auth.busy', 503, `Too many sign-ins at once. Try again in ${limits.retryAfterSeconds} seconds.`, { retryAfterSeconds: limits.retryAfterSeconds });
  const full = () => limit.activeCount + limit.pendingCount >= limits.concurrency + limits.maxWaiting;
  const queued = <T>(work: () => Promise<T>): Promise<T> => (full() ? Promise.reject(busy()) : limit(work));
  return {
    /** Refuses at once (503) while the queue is full: called before any other work of a sign-in, so a flood is cheap to turn away. */
    admit(): void {
      if (full()) throw busy();
    },
    hash: (password: string) => queued(() => hash(password.normalize('NFC'), parameters)),
    verify: (passwordHash: string | undefined, password: string): Promise<boolean> =>
      queued(async () => {
        const target = passwordHash ?? (await dummyHash);
        try {
          const matches = await verify(target, password.normalize('NFC'));
          return matches && passwordHash !== undefined;
        } catch {
          return false;
        }
      }),
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;
