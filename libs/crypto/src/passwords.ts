// Password hashing for every service: argon2id with one set of parameters, NFC-normalised input,
// and optionally a bounded queue for the work (auth-session's sign-ins).
import { hash, verify } from '@node-rs/argon2';

/**
 * argon2id at OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1). `npm run bench -- auth`
 * measures sign-ins/s with these parameters. mfa-admin hashes new tenant admins' temporary
 * passwords with them too; auth-session verifies those (the PHC string carries the parameters).
 */
// algorithm 2 = Algorithm.Argon2id (a const enum, which isolated modules cannot import).
export const ARGON2_PARAMETERS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export interface Argon2Parameters {
  algorithm: 2;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * How much argon2 work runs at once and how much may wait. Each hash holds 19 MiB and a thread
 * of libuv's pool (4 by default, shared with DNS and file I/O): unbounded, a burst starves every
 * other request of the pod. Past the queue a call fails at once with `busy()`.
 */
export interface PasswordWorkLimits {
  concurrency: number;
  maxWaiting: number;
  /** The error a call past the queue gets (the service's 503 with Retry-After). */
  busy: () => Error;
}

export interface PasswordHasherOptions {
  parameters?: Argon2Parameters;
  /** Without limits, work is not queued (mfa-admin: an occasional hash of a temporary password). */
  limits?: PasswordWorkLimits;
}

/**
 * At most `concurrency` tasks run, the rest wait in order. Written here rather than taken from
 * p-limit: npm installs p-limit 7 nested under this package (the root holds jest's p-limit 3),
 * and the image copies only the root node_modules, so the import would fail there.
 */
export function createLimiter(concurrency: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    active -= 1;
    const next = waiting.shift();
    if (next) {
      active += 1;
      next();
    }
  };
  return {
    /** Running plus waiting. */
    size: () => active + waiting.length,
    run<T>(work: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        // The slot is free before the caller sees the outcome, so its next call finds room.
        const start = () =>
          void Promise.resolve()
            .then(work)
            .then(
              (value) => {
                release();
                resolve(value);
              },
              (error: unknown) => {
                release();
                reject(error);
              },
            );
        if (active < concurrency) {
          active += 1;
          start();
        } else {
          waiting.push(start);
        }
      });
    },
  };
}

export function createPasswordHasher({ parameters = ARGON2_PARAMETERS, limits }: PasswordHasherOptions = {}) {
  // Unknown accounts are checked against this, so they cost the same time as real ones (made
  // now, so the first unknown account costs no extra hash either).
  const dummyHash = hash('portcullis-timing-equaliser', parameters);
  const limiter = limits ? createLimiter(limits.concurrency) : undefined;
  const full = () => !!limiter && !!limits && limiter.size() >= limits.concurrency + limits.maxWaiting;
  const queued = <T>(work: () => Promise<T>): Promise<T> => {
    if (!limiter || !limits) return work();
    return full() ? Promise.reject(limits.busy()) : limiter.run(work);
  };
  return {
    /** Throws `busy()` at once while the queue is full: called before any other work of a sign-in, so a flood is cheap to turn away. */
    admit(): void {
      if (full()) throw limits!.busy();
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
