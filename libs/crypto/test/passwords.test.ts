// The one password hasher: argon2id with the shared parameters, NFC-normalised, and a bounded
// queue only when the caller asks for one (auth-session's sign-ins; see its password-work test).
import { ARGON2_PARAMETERS, createPasswordHasher } from '@portcullis/crypto';
import { createLimiter } from '../src/passwords.js';

const cheap = { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 } as const;

describe('createPasswordHasher', () => {
  it('hashes with argon2id and the shared parameters by default (OWASP minimum)', async () => {
    expect(ARGON2_PARAMETERS).toEqual({ algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
    const stored = await createPasswordHasher().hash('correct horse battery staple');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('verifies the same password, refuses another, and treats composed and decomposed text as one', async () => {
    const hasher = createPasswordHasher({ parameters: cheap });
    const stored = await hasher.hash('Caf\u00e9 au lait 2026');
    await expect(hasher.verify(stored, 'Cafe\u0301 au lait 2026')).resolves.toBe(true);
    await expect(hasher.verify(stored, 'Cafe au lait 2026')).resolves.toBe(false);
    await expect(hasher.verify('not a PHC string', 'Cafe au lait 2026')).resolves.toBe(false);
  });

  it('says no for an unknown account (no hash) after doing the same work', async () => {
    const hasher = createPasswordHasher({ parameters: cheap });
    await expect(hasher.verify(undefined, 'portcullis-timing-equaliser')).resolves.toBe(false);
  });

  it('queues nothing and admits everything without limits', async () => {
    const hasher = createPasswordHasher({ parameters: cheap });
    const all = await Promise.all(
      Array.from({ length: 8 }, () => (hasher.admit(), hasher.hash('correct horse battery staple'))),
    );
    expect(new Set(all).size).toBe(8);
  });

  it("refuses past concurrency + maxWaiting with the caller's busy error", async () => {
    const busy = new Error('busy');
    const hasher = createPasswordHasher({
      parameters: cheap,
      limits: { concurrency: 1, maxWaiting: 1, busy: () => busy },
    });
    const outcomes = await Promise.allSettled([
      hasher.hash('a password one'),
      hasher.hash('a password two'),
      hasher.hash('a password three'),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toBe(busy);
  });
});

describe('the work queue', () => {
  it('runs at most `concurrency` tasks at once and starts the waiting ones in order as slots free', async () => {
    const limiter = createLimiter(2);
    const started: number[] = [];
    const finish: (() => void)[] = [];
    const task = (n: number) => () =>
      new Promise<number>((resolve) => {
        started.push(n);
        finish[n] = () => resolve(n);
      });
    const results = [0, 1, 2, 3].map((n) => limiter.run(task(n)));
    expect(limiter.size()).toBe(4);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1]);
    finish[1]!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    finish[0]!();
    finish[2]!();
    await new Promise((resolve) => setImmediate(resolve));
    finish[3]!();
    await expect(Promise.all(results)).resolves.toEqual([0, 1, 2, 3]);
    expect(limiter.size()).toBe(0);
  });

  it('frees the slot of a task that fails', async () => {
    const limiter = createLimiter(1);
    await expect(limiter.run(() => Promise.reject(new Error('argon2 failed')))).rejects.toThrow('argon2 failed');
    await expect(
      limiter.run(() => {
        throw new Error('thrown at once');
      }),
    ).rejects.toThrow('thrown at once');
    await expect(limiter.run(async () => 'next')).resolves.toBe('next');
    expect(limiter.size()).toBe(0);
  });
});
