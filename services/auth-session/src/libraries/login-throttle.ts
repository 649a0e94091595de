import type { RateLimiterRes } from 'rate-limiter-flexible';
import {
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRedis,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import { apiError } from '@portcullis/http';

export type Factor = 'password' | 'totp';

export interface ThrottleLimits {
  perIp: { points: number; durationSeconds: number };
  perAccount: { points: number; durationSeconds: number };
}

export const DEFAULT_LIMITS: Record<Factor, ThrottleLimits> = {
  password: { perIp: { points: 30, durationSeconds: 900 }, perAccount: { points: 10, durationSeconds: 900 } },
  totp: { perIp: { points: 30, durationSeconds: 900 }, perAccount: { points: 10, durationSeconds: 900 } },
};

/**
 * Failed attempts per client IP and per account, on password and on TOTP separately, in Redis
 * so the limits hold across replicas. Accounts are keyed by what was typed (realm + email), not
 * by id, so unknown accounts are throttled exactly like real ones and reveal nothing.
 */
export type ThrottleStore = { redis: Redis } | { postgres: Knex } | { memory: true };

export function createLoginThrottle({
  store,
  keyPrefix = 'portcullis:',
  limits = DEFAULT_LIMITS,
}: {
  store: ThrottleStore;
  keyPrefix?: string;
  limits?: Record<Factor, ThrottleLimits>;
}) {
  const limiter = (
    name: string,
    { points, durationSeconds }: { points: number; durationSeconds: number },
  ): RateLimiterAbstract => {
    const common = { keyPrefix: `${keyPrefix}rl:${name}`, points, duration: durationSeconds };
    if ('redis' in store) return new RateLimiterRedis({ ...common, storeClient: store.redis, useRedisPackage: false });
    // The table comes from a migration (tableCreated), so the service needs no DDL rights.
    if ('postgres' in store)
      return new RateLimiterPostgres({
        ...common,
        storeClient: store.postgres,
        storeType: 'knex',
        tableName: 'rate_limits',
        tableCreated: true,
        clearExpiredByTimeout: true,
      });
    return new RateLimiterMemory(common);
  };
  const limiters = Object.fromEntries(
    (Object.keys(limits) as Factor[]).map((factor) => [
      factor,
      {
        ip: limiter(`${factor}:ip`, limits[factor].perIp),
        account: limiter(`${factor}:acct`, limits[factor].perAccount),
      },
    ]),
  ) as Record<Factor, { ip: RateLimiterAbstract; account: RateLimiterAbstract }>;

  const exhausted = (result: RateLimiterRes | null, points: number) => !!result && result.consumedPoints >= points;

  return {
    /** Refuses with 429 once either budget is spent. */
    async assertAllowed(factor: Factor, account: string, ip: string): Promise<void> {
      const { ip: byIp, account: byAccount } = limiters[factor];
      const [ipState, accountState] = await Promise.all([byIp.get(ip), byAccount.get(account)]);
      const blocked = [
        exhausted(ipState, limits[factor].perIp.points) && ipState,
        exhausted(accountState, limits[factor].perAccount.points) && accountState,
      ].filter(Boolean) as RateLimiterRes[];
      if (blocked.length === 0) return;
      const retryAfter = Math.ceil(Math.max(...blocked.map((state) => state.msBeforeNext)) / 1000);
      throw apiError('auth.too_many_attempts', `Too many attempts. Try again in ${retryAfter} seconds.`, {
        retryAfterSeconds: retryAfter,
      });
    },

    async recordFailure(factor: Factor, account: string, ip: string): Promise<void> {
      const { ip: byIp, account: byAccount } = limiters[factor];
      // consume() rejects with its state once the budget is spent, which is what was wanted; a
      // store that fails rejects with an Error, and a failure it did not count is not passed over.
      const spentIsFine = (rejection: unknown) => {
        if (rejection instanceof Error) throw rejection;
      };
      await Promise.all([byIp.consume(ip).catch(spentIsFine), byAccount.consume(account).catch(spentIsFine)]);
    },

    async recordSuccess(factor: Factor, account: string): Promise<void> {
      await limiters[factor].account.delete(account);
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
