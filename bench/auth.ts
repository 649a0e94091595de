// `npm run bench -- auth`: GET /auth/me with a valid session on the Redis store (requests/s,
// p99), and sign-ins/s with the production argon2id parameters. Baselines in the same run: a bare
// Koa app answering the same JSON (the framework's floor), and raw argon2id verifications/s.
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
import { createPasswordHasher } from '../services/auth-session/src/libraries/passwords.js';
import { startPostgres, startRedis } from '../test/support/index.js';
import { printResult, printTable, round } from './harness.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);

async function load(url: string, options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; connections: number }) {
  const result = await autocannon({ url, duration: DURATION_S, connections: options.connections, method: options.method ?? 'GET', headers: options.headers ?? {}, ...(options.body ? { body: options.body } : {}) });
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

export default async function bench(): Promise<void> {
  const [postgres, redisServer] = await Promise.all([startPostgres(), startRedis()]);
  const db = knex({ client: 'pg', connection: postgres.url, pool: { min: 0, max: 10 } });
  const redis = new Redis(redisServer.url);
  try {
    await migrateLatest(db);
    const passwords = createPasswordHasher();
    const tenantId = randomUUID();
    const adminId = randomUUID();
    const password = `bench passphrase ${randomUUID()}`;
    const now = new Date();
    await db('tenants').insert({ id: tenantId, slug: 'bench', name: 'bench', status: 'active', created_at: now, updated_at: now });
    const passwordHash = await passwords.hash(password);
    await db('tenant_admins').insert({ id: adminId, tenant_id: tenantId, email: 'bench@example.com', password_hash: passwordHash, mfa_enabled: false, failed_attempts: 0, must_change_password: false, created_at: now, updated_at: now });

    const secret = randomBytes(32).toString('base64url');
    const clock = { now: () => Date.now() };
    const store = createSessionStore({ backend: createRedisBackend({ url: redisServer.url, keyPrefix: 'bench:s:', clock }), hashers: [createSessionIdHasher(secret)], clock });
    const generous = { points: 1_000_000, durationSeconds: 60 };
    const app = createApp({
      db, store, clock, passwords,
      totpKeys: createKeyRing({ primary: { name: 'MFA_SECRET_ENCRYPTION_KEY', value: randomBytes(32).toString('base64') } }),
      audit: createAuditWriter({ db }),
      throttle: createLoginThrottle({ store: { redis }, keyPrefix: 'bench:', limits: { password: { perIp: generous, perAccount: generous }, totp: DEFAULT_LIMITS.totp } }),
      logger: createLogger({ service: 'bench', level: 'warn', destination: new Writable({ write: (_c, _e, done) => done() }) }),
      metrics: createMetrics('auth-session'),
      settings: { production: false, cookieName: 'portcullis.sid', secrets: [secret], idleTimeoutMs: 3600_000, absoluteTimeoutMs: 12 * 3600_000, maxConcurrent: 1000, concurrencyMode: 'evict-oldest', lockout: { threshold: 1000, baseSeconds: 1, maxSeconds: 1 }, reauthMaxAgeMs: 300_000 },
    });
    const server = await listen(app, { host: '127.0.0.1', port: 0 });
    const loginBody = JSON.stringify({ tenant: 'bench', email: 'bench@example.com', password });
    const json = { 'content-type': 'application/json', accept: 'application/json' };

    // A level-2 session for /auth/me: this admin has no MFA, so set the session as a verified one would be.
    const login = await fetch(`${server.url}/auth/login`, { method: 'POST', headers: json, body: loginBody });
    const cookie = login.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
    const sessionId = /portcullis\.sid=([^;]+)/.exec(cookie)![1]!;
    const session = (await store.get(sessionId))!;
    await store.set(sessionId, { ...session, aal: 2, mustEnrollMfa: false }, 3600_000);

    const bare = new Koa();
    bare.use((ctx) => {
      ctx.body = { id: adminId, kind: 'tenant', email: 'bench@example.com', tenantId, assurance: 2, mfaEnrolled: true, sessionCreatedAt: now.toISOString() };
    });
    const bareServer = await listen(bare, { host: '127.0.0.1', port: 0 });

    const me = await load(`${server.url}/auth/me`, { headers: { ...json, cookie }, connections: 10 });
    const floor = await load(`${bareServer.url}/`, { connections: 10 });
    const signIns = await load(`${server.url}/auth/login`, { method: 'POST', headers: json, body: loginBody, connections: 4 });

    let argonVerifications = 0;
    const started = performance.now();
    while (performance.now() - started < DURATION_S * 1000) {
      await Promise.all([verify(passwordHash, password), verify(passwordHash, password)]);
      argonVerifications += 2;
    }
    const argonPerSecond = argonVerifications / ((performance.now() - started) / 1000);

    await server.close(1000);
    await bareServer.close(1000);
    await store.close();

    printTable(`auth-session, ${DURATION_S} s per measurement, loopback, 2-core machine`, [
      { measurement: 'GET /auth/me (Redis session, PostgreSQL revocation check)', 'req/s': round(me.rps), 'p99 ms': me.p99, 'non-2xx': me.non2xx },
      { measurement: 'baseline: bare Koa, same JSON', 'req/s': round(floor.rps), 'p99 ms': floor.p99, 'non-2xx': floor.non2xx },
      { measurement: 'POST /auth/login (argon2id m=19456,t=2,p=1)', 'req/s': round(signIns.rps), 'p99 ms': signIns.p99, 'non-2xx': signIns.non2xx },
      { measurement: 'baseline: raw argon2id verify, 2 in parallel', 'req/s': round(argonPerSecond), 'p99 ms': '', 'non-2xx': '' },
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
      duration_s: DURATION_S,
    });
  } finally {
    redis.disconnect();
    await db.destroy();
    await Promise.all([postgres.dispose(), redisServer.dispose()]);
  }
}
