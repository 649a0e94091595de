// The servers `npm run bench -- peers` compares Portcullis with, each run as its own process:
//   node bench/peers/apps.ts <target>      (PORT, REDIS_URL, DATABASE_URL, SESSION_SECRET from the environment)
// Plain Node runs this file (type stripping, no loader), so it imports packages only. Each app is
// written as its README shows, with the store a Node user would write: the same JSON user behind
// POST /login (creates the session) and GET /me (reads it; 401 without one).
import { createServer, type RequestListener } from 'node:http';

export const TARGETS = [
  'ceiling',
  'floor',
  'koa-session-redis',
  'koa-session-redis-shell',
  'express-session-redis',
  'express-session-redis-readme',
  'koa-session-knex',
] as const;
export type PeerTarget = (typeof TARGETS)[number];

/** What every /me answers: about the size of Portcullis' /auth/me body. */
export const USER = {
  id: '8d3c1c52-1b0e-4d8a-9a57-2f1c9e4b7a10',
  kind: 'tenant',
  email: 'bench@example.com',
  tenantId: '5b1f7f0e-54c3-4c43-8f4e-1d6a2b9c0e21',
  assurance: 2,
  mfaEnrolled: true,
};
/** The Redis key the floor reads. */
export const FLOOR_KEY = 'floor:user';
const SESSION_TTL_S = 1800;

const required = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (the bench sets it)`);
  return value;
};

/** ceiling: Koa answering the JSON, no session, no store. */
async function ceiling(): Promise<RequestListener> {
  const { default: Koa } = await import('koa');
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = USER;
  });
  return app.callback();
}

/** floor: Koa, one Redis GET and a JSON.parse per request: what any session read costs at least. */
async function floor(): Promise<RequestListener> {
  const [{ default: Koa }, { Redis }] = await Promise.all([import('koa'), import('ioredis')]);
  const redis = new Redis(required('REDIS_URL'));
  const app = new Koa();
  app.use(async (ctx) => {
    const raw = await redis.get(FLOOR_KEY);
    ctx.body = raw ? (JSON.parse(raw) as unknown) : {};
  });
  return app.callback();
}

interface KoaSessionStore {
  get(key: string): Promise<unknown>;
  set(key: string, session: unknown, maxAge: number): Promise<void>;
  destroy(key: string): Promise<void>;
}

/** koa-session with an external store (signed cookie holding the id), GET /me and POST /login. */
async function koaSessionApp(store: KoaSessionStore): Promise<RequestListener> {
  const [{ default: Koa }, { default: session }] = await Promise.all([import('koa'), import('koa-session')]);
  const app = new Koa();
  app.keys = [required('SESSION_SECRET')];
  app.use(session({ store, maxAge: SESSION_TTL_S * 1000 }, app));
  app.use((ctx) => {
    const current = ctx.session as { user?: typeof USER } | null;
    if (ctx.method === 'POST' && ctx.path === '/login') {
      if (current) current.user = USER;
      ctx.body = { ok: true };
    } else if (ctx.path === '/me' && current?.user) {
      ctx.body = current.user;
    } else {
      ctx.status = 401;
      ctx.body = { error: 'unauthenticated' };
    }
  });
  return app.callback();
}

/** A minimal ioredis store for koa-session: get, set with a TTL, destroy, JSON values. */
async function ioredisKoaSessionStore(): Promise<KoaSessionStore> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(required('REDIS_URL'));
  return {
    async get(key) {
      const raw = await redis.get(`koa:sess:${key}`);
      return raw ? (JSON.parse(raw) as unknown) : undefined;
    },
    async set(key, value, maxAge) {
      await redis.set(`koa:sess:${key}`, JSON.stringify(value), 'EX', Math.ceil(maxAge / 1000));
    },
    async destroy(key) {
      await redis.del(`koa:sess:${key}`);
    },
  };
}

/** koa-session + a minimal ioredis store. */
async function koaSessionRedis(): Promise<RequestListener> {
  return koaSessionApp(await ioredisKoaSessionStore());
}

/**
 * The same koa-session + ioredis store inside Portcullis' console service shell
 * (createConsoleApp, compiled: request id, request log at info to stdout, metrics, security
 * headers, error pages, body parsing, CSRF): what that production path costs around a session
 * stack, so Portcullis' session layer and guard can be compared with koa-session's alone.
 */
async function koaSessionRedisShell(): Promise<RequestListener> {
  const [{ default: session }, { default: Router }, { createConsoleApp }, observability, { koaCsrf }] =
    await Promise.all([
      import('koa-session'),
      import('@koa/router'),
      import('@portcullis/http'),
      import('@portcullis/observability'),
      import('@portcullis/session-auth'),
    ]);
  const store = await ioredisKoaSessionStore();
  const metrics = observability.createMetrics('bench-peer');
  const router = new Router();
  router.post('/login', (ctx) => {
    (ctx.session as unknown as { user?: typeof USER }).user = USER;
    ctx.body = { ok: true };
  });
  router.get('/me', (ctx) => {
    const user = (ctx.session as unknown as { user?: typeof USER } | null)?.user;
    ctx.status = user ? 200 : 401;
    ctx.body = user ?? { error: 'unauthenticated' };
  });
  const app = createConsoleApp(
    {
      logger: observability.createLogger({ service: 'bench-peer', level: 'info' }),
      metrics,
      prefix: '/peer',
      siteName: 'peer',
      home: '/me',
      openApiDocument: undefined,
      routers: [router],
      sessions: (koa) => {
        koa.keys = [required('SESSION_SECRET')];
        return session({ store, maxAge: SESSION_TTL_S * 1000 }, koa);
      },
      csrf: koaCsrf(),
    },
    observability.securityCounters(metrics.registry),
  );
  return app.callback();
}

/** koa-session + a minimal knex store on PostgreSQL: one table, upsert on write. */
async function koaSessionKnex(): Promise<RequestListener> {
  const { default: knex } = await import('knex');
  const db = knex({ client: 'pg', connection: required('DATABASE_URL') });
  if (!(await db.schema.hasTable('koa_sessions'))) {
    await db.schema.createTable('koa_sessions', (table) => {
      table.string('id').primary();
      table.text('data').notNullable();
      table.timestamp('expires_at', { useTz: true }).notNullable();
    });
  }
  return koaSessionApp({
    async get(key) {
      const row = (await db('koa_sessions')
        .where({ id: key })
        .andWhere('expires_at', '>', new Date())
        .first('data')) as { data: string } | undefined;
      return row ? (JSON.parse(row.data) as unknown) : undefined;
    },
    async set(key, value, maxAge) {
      await db('koa_sessions')
        .insert({ id: key, data: JSON.stringify(value), expires_at: new Date(Date.now() + maxAge) })
        .onConflict('id')
        .merge();
    },
    async destroy(key) {
      await db('koa_sessions').where({ id: key }).del();
    },
  });
}

/**
 * Express 5 + express-session + connect-redis on node-redis. `defaults`: express-session's own
 * defaults (resave and saveUninitialized true: the store is written on every request), the peer
 * issue 14 names; otherwise the options connect-redis' README shows (both false).
 */
async function expressSessionRedis(options: 'defaults' | 'readme'): Promise<RequestListener> {
  const [{ default: express }, { default: session }, { RedisStore }, { createClient }] = await Promise.all([
    import('express'),
    import('express-session'),
    import('connect-redis'),
    import('redis'),
  ]);
  const client = createClient({ url: required('REDIS_URL') });
  await client.connect();
  const app = express();
  app.use(
    session({
      store: new RedisStore({ client, prefix: 'express:sess:' }),
      ...(options === 'readme' ? { resave: false, saveUninitialized: false } : {}),
      secret: required('SESSION_SECRET'),
    }),
  );
  app.post('/login', (req, res) => {
    (req.session as unknown as { user: typeof USER }).user = USER;
    res.json({ ok: true });
  });
  app.get('/me', (req, res) => {
    const user = (req.session as unknown as { user?: typeof USER }).user;
    if (user) res.json(user);
    else res.status(401).json({ error: 'unauthenticated' });
  });
  return app as unknown as RequestListener;
}

const builders: Record<PeerTarget, () => Promise<RequestListener>> = {
  ceiling,
  floor,
  'koa-session-redis': koaSessionRedis,
  'koa-session-redis-shell': koaSessionRedisShell,
  'express-session-redis': () => expressSessionRedis('defaults'),
  'express-session-redis-readme': () => expressSessionRedis('readme'),
  'koa-session-knex': koaSessionKnex,
};

/** Runs only as the entry point: the bench imports this file for TARGETS, USER and FLOOR_KEY. */
if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const target = process.argv[2] as PeerTarget;
  if (!TARGETS.includes(target)) {
    console.error(`usage: node bench/peers/apps.ts <${TARGETS.join('|')}>`);
    process.exit(2);
  }
  const listener = await builders[target]();
  createServer(listener).listen(Number(required('PORT')), '127.0.0.1');
}
