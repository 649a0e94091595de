// The session guard's idle timeout over the memory store, with one test clock for the guard and
// the store: an admin who keeps using a session is never signed out by it, whatever the setting.
import Koa from 'koa';
import request from 'supertest';
import { createSessionIdHasher } from '@portcullis/crypto';
import { createMemoryBackend, createSessionStore } from '@portcullis/session-store';
import { installSessions, requireSession, sessionOf } from '@portcullis/session-auth';

const SECRET = 'require-session-test-secret-0123456789abcdefghij';

function app(idleTimeoutMs: number) {
  let now = Date.parse('2026-12-03T10:00:00Z');
  const clock = { now: () => now };
  const store = createSessionStore({
    backend: createMemoryBackend({ clock }),
    hashers: [createSessionIdHasher(SECRET)],
    clock,
  });
  const koa = new Koa();
  koa.use(installSessions(koa, { store, secrets: [SECRET], cookieName: 'sid', production: false, idleTimeoutMs }));
  const guard = requireSession({ clock, idleTimeoutMs, absoluteTimeoutMs: 12 * 3600_000 });
  koa.use(async (ctx, next) => {
    if (ctx.path !== '/sign-in') return next();
    Object.assign(sessionOf(ctx), { userId: 'tenant:a1', kind: 'tenant', adminId: 'a1', aal: 2, createdAt: now });
    sessionOf(ctx).signedInAt = now;
    ctx.body = { ok: true };
  });
  koa.use(guard);
  koa.use((ctx) => {
    ctx.body = { ok: true };
  });
  return { server: koa.callback(), advance: (ms: number) => (now += ms) };
}

const cookieOf = (response: request.Response) =>
  ([] as string[])
    .concat(response.headers['set-cookie'] ?? [])
    .map((line) => line.split(';')[0])
    .join('; ');

it.each([60_000, 90_000, 1_800_000])(
  'keeps a session used within each idle timeout (%i ms) alive, and ends it after one idle timeout unused',
  async (idleTimeoutMs) => {
    const { server, advance } = app(idleTimeoutMs);
    let cookie = cookieOf(await request(server).get('/sign-in').expect(200));
    // Ten uses, each 5/6 of the idle timeout after the one before.
    for (let use = 0; use < 10; use++) {
      advance((idleTimeoutMs * 5) / 6);
      const response = await request(server).get('/me').set('accept', 'application/json').set('cookie', cookie);
      expect(response.status).toBe(200);
      cookie = cookieOf(response) || cookie;
    }
    advance(idleTimeoutMs + 1);
    await request(server).get('/me').set('accept', 'application/json').set('cookie', cookie).expect(401);
  },
);
