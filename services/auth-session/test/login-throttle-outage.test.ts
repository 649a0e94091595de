// The login throttle on a Redis that stops answering without closing the connection (frozen,
// partitioned): with the client options the service uses, its check fails within seconds,
// which the error middleware answers as 503 with Retry-After, instead of holding the sign-in.
import { Redis } from 'ioredis';
import { BOUNDED_REDIS_OPTIONS } from '@portcullis/session-store';
import { createLoginThrottle } from '../src/libraries/login-throttle.js';
import { startRedis } from '../../../test/support/index.js';

it('fails a sign-in check and a failure count within seconds when its Redis is frozen, and counts again once it answers', async () => {
  const redis = await startRedis();
  const client = new Redis(redis.url, BOUNDED_REDIS_OPTIONS);
  client.on('error', () => undefined);
  try {
    const throttle = createLoginThrottle({ store: { redis: client }, keyPrefix: 'frozen:' });
    await throttle.recordFailure('password', 'acme/a@example.com', '203.0.113.9');
    process.kill(redis.pid!, 'SIGSTOP');
    const started = Date.now();
    const check = throttle.assertAllowed('password', 'acme/a@example.com', '203.0.113.9');
    // Without a bound the check would wait for as long as Redis stays frozen (here: 20 s).
    const outcome = await Promise.race([
      check.then(
        () => 'allowed',
        (error: Error) => error.message,
      ),
      new Promise((resolve) => setTimeout(() => resolve('still waiting after 20 s'), 20_000)),
    ]);
    expect(outcome).toBe('Command timed out');
    expect(Date.now() - started).toBeLessThan(20_000);
    // A failure that cannot be counted is an error, not a silent pass.
    await expect(throttle.recordFailure('password', 'acme/a@example.com', '203.0.113.9')).rejects.toThrow(
      'Command timed out',
    );
    process.kill(redis.pid!, 'SIGCONT');
    await expect(throttle.assertAllowed('password', 'acme/a@example.com', '203.0.113.9')).resolves.toBeUndefined();
  } finally {
    if (redis.pid) process.kill(redis.pid, 'SIGCONT');
    client.disconnect();
    await redis.dispose();
  }
}, 30_000);
