// The one session guard, against every session-store driver and every dual phase, with two
// replicas that each hold their own connections to the same real stores (as two pods do).
// What it proves (docs/auth-session.md, "Revocation"): a revoke-all on one replica is refused
// on the other at its very next request, even when the store's per-admin index has not seen
// the session (nothing is deleted here: only the marker is written), and a store that cannot
// be read fails closed.
import type Koa from 'koa';
import request from 'supertest';
import { settingsOfPhase, type SessionPhase } from '@portcullis/config';
import { createSessionIdHasher } from '@portcullis/crypto';
import { createServiceApp } from '@portcullis/http';
import { createLogger, createMetrics } from '@portcullis/observability';
import {
  createSessionRevocation,
  installSessions,
  regenerateSession,
  requireAal2,
  requireSession,
  signedInAdmin,
  type AdminSession,
} from '@portcullis/session-auth';
import {
  createDualBackend,
  createMemoryBackend,
  createRedisBackend,
  createSessionStore,
  dualOptionsOf,
  SESSION_REDIS_CLIENT_OPTIONS,
  type SessionBackend,
} from '@portcullis/session-store';
import { Redis } from 'ioredis';
import { realStores, type RealStore, type StoreKind } from '../../libs/session-store/test/backends.js';
import { TestClock } from '../../libs/session-store/test/contract.js';
import { startRedis, type ServerHandle } from '../support/index.js';

const SECRET = 'guard-suite-secret-0123456789abcdefghijklmnop';
const IDLE_MS = 30 * 60_000;
const ABSOLUTE_MS = 12 * 3600_000;

const stores = realStores();
afterAll(() => stores.dispose());

/** One replica: the shared request path and cookie settings, the guard, a sign-in route for the test and a protected route. */
function replica(backend: SessionBackend, clock: TestClock) {
  const store = createSessionStore({ backend, hashers: [createSessionIdHasher(SECRET)], clock, defaultTtlMs: IDLE_MS });
  const signIn: Koa.Middleware = async (ctx) => {
    const now = clock.now();
    const admin = String(ctx.query.admin);
    const session: AdminSession = {
      userId: `tenant:${admin}`,
      kind: 'tenant',
      adminId: admin,
      tenantId: 't-1',
      email: 'a@example.com',
      aal: 2,
      createdAt: now,
      lastSeenAt: now,
    };
    ctx.session = session as unknown as typeof ctx.session;
    await regenerateSession(ctx);
    ctx.status = 204;
  };
  const me: Koa.Middleware[] = [
    requireSession({ clock, idleTimeoutMs: IDLE_MS, absoluteTimeoutMs: ABSOLUTE_MS }),
    requireAal2(),
    (ctx) => {
      ctx.body = signedInAdmin(ctx);
    },
  ];
  // Two routes, without a router: POST /sign-in for the test, GET /me behind the guards.
  const routes: Koa.Middleware = (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === '/sign-in') return signIn(ctx, next);
    if (ctx.method !== 'GET' || ctx.path !== '/me') return next();
    const step = (i: number): Promise<unknown> => Promise.resolve(me[i]?.(ctx, () => step(i + 1)));
    return step(0);
  };
  const app = createServiceApp({
    logger: createLogger({ service: 'guard-suite', level: 'silent' }),
    metrics: createMetrics('guard-suite'),
    routers: [],
    beforeRoutes: (koa) => [
      installSessions(koa, { store, secrets: [SECRET], cookieName: 'sid', production: false, idleTimeoutMs: IDLE_MS }),
      routes,
    ],
  });
  return {
    server: app.callback(),
    store,
    revocation: createSessionRevocation({ store, absoluteTimeoutMs: ABSOLUTE_MS, clock }),
  };
}

type Replica = ReturnType<typeof replica>;

async function signIn(on: Replica, admin: string): Promise<string> {
  const response = await request(on.server).post(`/sign-in?admin=${admin}`).expect(204);
  return ([] as string[])
    .concat(response.headers['set-cookie'] ?? [])
    .map((cookie) => cookie.split(';')[0])
    .join('; ');
}

const me = (on: Replica, cookie: string) =>
  request(on.server).get('/me').set('accept', 'application/json').set('cookie', cookie);

/** The scenario every configuration must pass. */
async function revokeAllOnOneReplica(a: Replica, b: Replica, clock: TestClock): Promise<void> {
  const admin = `admin-${Math.random().toString(36).slice(2)}`;
  const cookie = await signIn(a, admin);
  const other = await signIn(b, `${admin}-other`);
  const before = await me(b, cookie).expect(200);
  expect(before.body).toMatchObject({
    kind: 'tenant',
    id: admin,
    userId: `tenant:${admin}`,
    tenantId: 't-1',
    email: 'a@example.com',
    assurance: 2,
  });

  clock.advance(1);
  await a.revocation.revokeAll('tenant', admin);
  const after = await me(b, cookie).expect(401);
  expect(after.body.code).toBe('auth.session_expired');
  await me(a, cookie).expect(401);
  // Another admin's session is untouched; a sign-in after the cut-off works everywhere.
  await me(b, other).expect(200);
  clock.advance(1);
  const fresh = await signIn(a, admin);
  await me(b, fresh).expect(200);
}

describe.each<StoreKind>(['redis', 'knex', 'dynamodb'])('the session guard on %s', (kind) => {
  let store: RealStore;
  const opened: SessionBackend[] = [];
  beforeAll(async () => {
    store = await stores.create(kind);
  });
  afterAll(async () => {
    await Promise.all(opened.map((backend) => backend.close().catch(() => undefined)));
    await store.drop();
  });
  const connect = (clock: TestClock) => {
    const backend = store.connect(clock);
    opened.push(backend);
    return backend;
  };

  it('refuses a session revoked on another replica at its very next request', async () => {
    const clock = new TestClock();
    await revokeAllOnOneReplica(replica(connect(clock), clock), replica(connect(clock), clock), clock);
  });
});

it('the session guard on memory (one process) refuses a revoked session at the next request', async () => {
  const clock = new TestClock();
  const one = replica(createMemoryBackend({ clock }), clock);
  await revokeAllOnOneReplica(one, one, clock);
});

describe.each<[StoreKind, StoreKind]>([
  ['redis', 'knex'],
  ['knex', 'dynamodb'],
])('the session guard on dual %s → %s', (from, to) => {
  let stores2: Record<'from' | 'to', RealStore>;
  const opened: SessionBackend[] = [];
  beforeAll(async () => {
    stores2 = { from: await stores.create(from), to: await stores.create(to) };
  });
  afterAll(async () => {
    await Promise.all(opened.map((backend) => backend.close().catch(() => undefined)));
    await Promise.all([stores2.from.drop(), stores2.to.drop()]);
  });

  /** A pod in `phase` of the move from → to, as SESSION_STORE_PHASE configures it. */
  function pod(phase: SessionPhase | 'single-to', clock: TestClock): Replica {
    const connect = (which: RealStore) => {
      const backend = which.connect(clock);
      opened.push(backend);
      return backend;
    };
    if (phase === 'single') return replica(connect(stores2.from), clock);
    if (phase === 'single-to') return replica(connect(stores2.to), clock);
    const settings = settingsOfPhase({ phase, from, to });
    const [primary, secondary] =
      settings.SESSION_STORE_PRIMARY === from ? [stores2.from, stores2.to] : [stores2.to, stores2.from];
    return replica(
      createDualBackend({
        primary: connect(primary),
        secondary: connect(secondary),
        clock,
        repairIntervalMs: 3_600_000,
        ...dualOptionsOf(settings),
      }),
      clock,
    );
  }

  // Each phase beside itself and beside the phase after it: the pods a rolling deploy runs together.
  const pairs: [SessionPhase | 'single-to', SessionPhase | 'single-to'][] = [
    ['single', 'dual-write'],
    ['dual-write', 'dual-write'],
    ['dual-write', 'cutover'],
    ['cutover', 'cutover'],
    ['cutover', 'retiring'],
    ['retiring', 'retiring'],
    ['retiring', 'single-to'],
  ];
  it.each(pairs)(
    'refuses a revoked session at the next request: revoked on %s, used on %s, and the other way round',
    async (first, second) => {
      const clock = new TestClock();
      await revokeAllOnOneReplica(pod(first, clock), pod(second, clock), clock);
      await revokeAllOnOneReplica(pod(second, clock), pod(first, clock), clock);
    },
  );
});

describe('a session store that cannot be read', () => {
  /** A replica on its own Redis, with the client the services use (createSessionStoreFromSettings). */
  async function replicaOnOwnRedis(run: (handles: { redis: ServerHandle; one: Replica }) => Promise<void>) {
    const redis = await startRedis();
    const client = new Redis(redis.url, SESSION_REDIS_CLIENT_OPTIONS);
    client.on('error', () => undefined);
    try {
      const clock = new TestClock();
      const one = replica(createRedisBackend({ client, keyPrefix: 'guard-outage:', clock }), clock);
      await run({ redis, one });
    } finally {
      client.disconnect();
      if (redis.pid) process.kill(redis.pid, 'SIGCONT');
      await redis.dispose();
    }
  }

  /** Polls until the store answers again (the client reconnects on its own). */
  async function servesAgain(one: Replica, cookie: string) {
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await me(one, cookie)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(200);
  }

  it('fails closed: 503, never the protected answer, and serves again once the store is back', async () => {
    await replicaOnOwnRedis(async ({ redis, one }) => {
      const cookie = await signIn(one, 'admin-outage');
      await me(one, cookie).expect(200);
      await redis.stop();
      const refused = await me(one, cookie);
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('service.unavailable');
      await redis.restart();
      await servesAgain(one, cookie);
    });
  });

  it('fails closed within seconds when Redis stops answering without closing the connection (frozen)', async () => {
    await replicaOnOwnRedis(async ({ redis, one }) => {
      const cookie = await signIn(one, 'admin-frozen');
      await me(one, cookie).expect(200);
      process.kill(redis.pid!, 'SIGSTOP');
      // Without a bound on the wait the request would hang (TCP keeps the connection open).
      const refused = await me(one, cookie).timeout(15_000);
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('service.unavailable');
      process.kill(redis.pid!, 'SIGCONT');
      await servesAgain(one, cookie);
    });
  });
});
