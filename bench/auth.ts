// `npm run bench -- auth`: GET /auth/me with a valid session on the Redis store (requests/s,
// p99), and sign-ins/s with the production argon2id parameters. Baselines in the same run: a bare
// Koa app answering the same JSON (the framework's floor), and raw argon2id verifications/s.
// Then /auth/me latency while 150 connections sign in at once, with the bounded password queue
// (PASSWORD_WORK_LIMITS) and, as its peer in the same run, with no bound.
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import Koa from 'koa';
import knex from 'knex';
import { verify } from '@node-rs/argon2';
import { createAuditWriter } from '@portcullis/audit';
import { createKeyRing, createSessionIdHasher } from '@portcullis/crypto';
import { listen } from '@portcullis/http';
import { migrateLatest } from '@portcullis/migrations';
import { createLogger, createMetrics } from '@portcullis/observability';
import { createRedisBackend, createSessionStore } from '@portcullis/session-store';
import { createApp } from '../services/auth-session/src/app.js';
import { createLoginThrottle, DEFAULT_LIMITS } from '../services/auth-session/src/libraries/login-throttle.js';
import { createSignInPasswordHasher } from '../services/auth-session/src/libraries/passwords.js';
import { startPostgres, startRedis } from '../test/support/index.js';
import { printResult, printTable, round } from './harness.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);

async function load(
  url: string,
  options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; connections: number },
) {
  const result = await autocannon({
    url,
    duration: DURATION_S,
    connections: options.connections,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body ? { body: options.body } : {}),
  });
  return {
    rps: result.requests.average,
    p97_5: result.latency.p97_5,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

export default async function bench(): Promise<void> {
  const [postgres, redisServer] = await Promise.all([startPostgres(), startRedis()]);
  const db = knex({ client: 'pg', connection: postgres.url, pool: { min: 0, max: 10 } });
  const redis = new Redis(redisServer.url);
  try {
    await migrateLatest(db);
    const passwords = createSignInPasswordHasher();
    const tenantId = randomUUID();
    const adminId = randomUUID();
    const password = `bench passphrase ${randomUUID()}`;
    const now = new Date();
    await db('tenants').insert({
      id: tenantId,
      slug: 'bench',
      name: 'bench',
      status: 'active',
      created_at: now,
      updated_at: now,
    });
    const passwordHash = await passwords.hash(password);
    await db('tenant_admins').insert({
      id: adminId,
      tenant_id: tenantId,
      email: 'bench@example.com',
      password_hash: passwordHash,
      mfa_enabled: false,
      failed_attempts: 0,
      must_change_password: false,
      created_at: now,
      updated_at: now,
    });

    const secret = randomBytes(32).toString('base64url');
    const clock = { now: () => Date.now() };
    const store = createSessionStore({
      backend: createRedisBackend({ url: redisServer.url, keyPrefix: 'bench:s:', clock }),
      hashers: [createSessionIdHasher(secret)],
      clock,
    });
    const generous = { points: 1_000_000, durationSeconds: 60 };
    const appWith = (hasher: typeof passwords) =>
      createApp({
        db,
        store,
        clock,
        passwords: hasher,
        totpKeys: createKeyRing({
          primary: { name: 'MFA_SECRET_ENCRYPTION_KEY', value: randomBytes(32).toString('base64') },
        }),
        audit: createAuditWriter({ db }),
        throttle: createLoginThrottle({
          store: { redis },
          keyPrefix: 'bench:',
          limits: { password: { perIp: generous, perAccount: generous }, totp: DEFAULT_LIMITS.totp },
        }),
        logger: createLogger({
          service: 'bench',
          level: 'warn',
          destination: new Writable({ write: (_c, _e, done) => done() }),
        }),
        metrics: createMetrics('auth-session'),
        settings: {
          production: false,
          cookieName: 'portcullis.sid',
          secrets: [secret],
          idleTimeoutMs: 3600_000,
          absoluteTimeoutMs: 12 * 3600_000,
          maxConcurrent: 1000,
          concurrencyMode: 'evict-oldest',
          lockout: { threshold: 1000, baseSeconds: 1, maxSeconds: 1 },
          reauthMaxAgeMs: 300_000,
        },
      });
    const server = await listen(appWith(passwords), { host: '127.0.0.1', port: 0 });
    const unboundedServer = await listen(
      appWith(createSignInPasswordHasher(undefined, { concurrency: 1_000_000, maxWaiting: 0, retryAfterSeconds: 1 })),
      { host: '127.0.0.1', port: 0 },
    );
    const loginBody = JSON.stringify({ tenant: 'bench', email: 'bench@example.com', password });
    const json = { 'content-type': 'application/json', accept: 'application/json' };

    // A level-2 session for /auth/me: this admin has no MFA, so set the session as a verified one would be.
    const login = await fetch(`${server.url}/auth/login`, { method: 'POST', headers: json, body: loginBody });
    const cookie = login.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    const sessionId = /portcullis\.sid=([^;]+)/.exec(cookie)![1]!;
    const session = (await store.get(sessionId))!;
    await store.set(sessionId, { ...session, aal: 2, mustEnrollMfa: false }, 3600_000);

    const bare = new Koa();
    bare.use((ctx) => {
      ctx.body = {
        id: adminId,
        kind: 'tenant',
        email: 'bench@example.com',
        tenantId,
        assurance: 2,
        mfaEnrolled: true,
        sessionCreatedAt: now.toISOString(),
      };
    });
    const bareServer = await listen(bare, { host: '127.0.0.1', port: 0 });

    const me = await load(`${server.url}/auth/me`, { headers: { ...json, cookie }, connections: 10 });
    const floor = await load(`${bareServer.url}/`, { connections: 10 });
    const signIns = await load(`${server.url}/auth/login`, {
      method: 'POST',
      headers: json,
      body: loginBody,
      connections: 4,
    });
    // Other users' /auth/me while 150 admins sign in at once (each client retries after a 503 as
    // its Retry-After says), with the bounded password queue and, as the peer, with no bound.
    const signInWave = async (url: string) => {
      const started = performance.now();
      let refused = 0;
      const signIn = async () => {
        for (;;) {
          const response = await fetch(`${url}/auth/login`, { method: 'POST', headers: json, body: loginBody });
          await response.arrayBuffer();
          if (response.status !== 503) return performance.now() - started;
          refused += 1;
          await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get('retry-after') ?? 1) * 1000));
        }
      };
      const durations = await Promise.all(Array.from({ length: 150 }, signIn));
      return { refused, lastSignInMs: Math.round(Math.max(...durations)) };
    };
    const burst = async (url: string) => {
      const [meDuring, logins] = await Promise.all([
        load(`${url}/auth/me`, { headers: { ...json, cookie }, connections: 10 }),
        signInWave(url),
      ]);
      return { meDuring, logins };
    };
    const bounded = await burst(server.url);
    const unbounded = await burst(unboundedServer.url);

    let argonVerifications = 0;
    const started = performance.now();
    while (performance.now() - started < DURATION_S * 1000) {
      await Promise.all([verify(passwordHash, password), verify(passwordHash, password)]);
      argonVerifications += 2;
    }
    const argonPerSecond = argonVerifications / ((performance.now() - started) / 1000);

    await server.close(1000);
    await unboundedServer.close(1000);
    await bareServer.close(1000);
    await store.close();

    printTable(`auth-session, ${DURATION_S} s per measurement, loopback, 2-core machine`, [
      {
        measurement: 'GET /auth/me (Redis session, PostgreSQL revocation check)',
        'req/s': round(me.rps),
        'p99 ms': me.p99,
        'non-2xx': me.non2xx,
      },
      {
        measurement: 'baseline: bare Koa, same JSON',
        'req/s': round(floor.rps),
        'p99 ms': floor.p99,
        'non-2xx': floor.non2xx,
      },
      {
        measurement: 'POST /auth/login (argon2id m=19456,t=2,p=1)',
        'req/s': round(signIns.rps),
        'p99 ms': signIns.p99,
        'non-2xx': signIns.non2xx,
      },
      {
        measurement: 'baseline: raw argon2id verify, 2 in parallel',
        'req/s': round(argonPerSecond),
        'p99 ms': '',
        'non-2xx': '',
      },
      {
        measurement: 'GET /auth/me while 150 admins sign in at once, bounded password queue',
        'req/s': round(bounded.meDuring.rps),
        'p99 ms': bounded.meDuring.p99,
        'non-2xx': bounded.meDuring.non2xx,
      },
      {
        measurement: `  the 150 sign-ins: all done after ${bounded.logins.lastSignInMs} ms, 503s on the way`,
        'req/s': '',
        'p99 ms': '',
        'non-2xx': bounded.logins.refused,
      },
      {
        measurement: 'peer: GET /auth/me while 150 admins sign in at once, no bound',
        'req/s': round(unbounded.meDuring.rps),
        'p99 ms': unbounded.meDuring.p99,
        'non-2xx': unbounded.meDuring.non2xx,
      },
      {
        measurement: `  the 150 sign-ins: all done after ${unbounded.logins.lastSignInMs} ms`,
        'req/s': '',
        'p99 ms': '',
        'non-2xx': unbounded.logins.refused,
      },
    ]);
    printResult({
      me_rps: round(me.rps),
      me_p99_ms: me.p99,
      me_non2xx: me.non2xx,
      baseline_bare_koa_rps: round(floor.rps),
      me_vs_bare_koa: round(me.rps / floor.rps, 3),
      signins_per_s: round(signIns.rps),
      signins_p99_ms: signIns.p99,
      signins_non2xx: signIns.non2xx,
      baseline_argon2_verify_per_s: round(argonPerSecond),
      signins_vs_argon2: round(signIns.rps / argonPerSecond, 3),
      me_p97_5_ms_alone: me.p97_5,
      me_p97_5_ms_during_burst_bounded: bounded.meDuring.p97_5,
      me_p99_ms_during_burst_bounded: bounded.meDuring.p99,
      me_p97_5_ms_during_burst_unbounded: unbounded.meDuring.p97_5,
      me_p99_ms_during_burst_unbounded: unbounded.meDuring.p99,
      wave_last_signin_ms_bounded: bounded.logins.lastSignInMs,
      wave_refusals_bounded: bounded.logins.refused,
      wave_last_signin_ms_unbounded: unbounded.logins.lastSignInMs,
      me_p99_bounded_vs_unbounded: round(bounded.meDuring.p99 / unbounded.meDuring.p99, 3),
      duration_s: DURATION_S,
    });
  } finally {
    redis.disconnect();
    await db.destroy();
    await Promise.all([postgres.dispose(), redisServer.dispose()]);
  }
}
