// argon2 work is bounded: a burst of sign-ins past the queue is refused at once (503 with
// Retry-After) instead of starving every other request of the pod.
import type { ApiError } from '@portcullis/http';
import { createSignInPasswordHasher } from '../src/libraries/passwords.js';

const cheap = { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 } as const;

describe('password work queue', () => {
  it('runs up to concurrency + maxWaiting at once and refuses the next with 503 auth.busy', async () => {
    const hasher = createSignInPasswordHasher(cheap, { concurrency: 1, maxWaiting: 2, retryAfterSeconds: 3 });
    const stored = await hasher.hash('correct horse battery staple');
    const burst = Array.from({ length: 5 }, () => hasher.verify(stored, 'correct horse battery staple'));
    const outcomes = await Promise.allSettled(burst);
    expect(outcomes.slice(0, 3).map((outcome) => outcome.status === 'fulfilled' && outcome.value)).toEqual([
      true,
      true,
      true,
    ]);
    for (const refused of outcomes.slice(3)) {
      expect(refused.status).toBe('rejected');
      const error = (refused as PromiseRejectedResult).reason as ApiError;
      expect(error).toMatchObject({ code: 'auth.busy', status: 503, data: { retryAfterSeconds: 3 } });
    }
    // The queue drains: the next request is served again.
    await expect(hasher.verify(stored, 'wrong password here')).resolves.toBe(false);
  });

  it('admits a sign-in only while the queue has room, so a refusal costs no other work', async () => {
    const hasher = createSignInPasswordHasher(cheap, { concurrency: 1, maxWaiting: 0, retryAfterSeconds: 1 });
    expect(() => hasher.admit()).not.toThrow();
    const running = hasher.hash('correct horse battery staple');
    expect(() => hasher.admit()).toThrow(expect.objectContaining({ code: 'auth.busy', status: 503 }));
    await running;
    expect(() => hasher.admit()).not.toThrow();
  });
});
