// The session middleware on its own, over the memory store: what a browser's cookie can and
// cannot make it do.
import Koa from 'koa';
import request from 'supertest';
import { createSessionIdHasher } from '@portcullis/crypto';
import { createMemoryBackend, createSessionStore } from '@portcullis/session-store';
import { cookieKeys, installSessions, sessionOf } from '@portcullis/session-auth';

const SECRET = 'koa-sessions-test-secret-0123456789abcdefghij';

function app() {
  const store = createSessionStore({ backend: createMemoryBackend(), hashers: [createSessionIdHasher(SECRET)] });
  const koa = new Koa();
  koa.use(
    installSessions(koa, { store, secrets: [SECRET], cookieName: 'sid', production: false, idleTimeoutMs: 60_000 }),
  );
  koa.use((ctx) => {
    const session = sessionOf(ctx);
    if (ctx.path === '/write')
      Object.assign(session, { returnTo: '/admin', keptForm: { action: 'reset', fields: {} } });
    // Changes to a loaded session: a field, a field removed, a field inside an object in place.
    if (ctx.path === '/change') session.returnTo = '/audit';
    if (ctx.path === '/remove') delete session.returnTo;
    if (ctx.path === '/nested') session.keptForm!.fields.reason = 'ticket 7';
    ctx.body = { returnTo: session.returnTo ?? null };
  });
  return { server: koa.callback(), store };
}

const idOf = (response: request.Response) =>
  /(?:^|,\s*)sid=([^;]+)/.exec(([] as string[]).concat(response.headers['set-cookie'] ?? []).join(', '))?.[1];
const signedCookie = (id: string) => `sid=${id}; sid.sig=${cookieKeys([SECRET]).sign(`sid=${id}`)}`;

it('never adopts an id the store does not know: a session written then gets a fresh id', async () => {
  const { server, store } = app();
  const planted = 'planted-id-chosen-by-someone-else-0123456789';
  const response = await request(server).get('/write').set('cookie', signedCookie(planted)).expect(200);
  const issued = idOf(response);
  expect(issued).toBeDefined();
  expect(issued).not.toBe(planted);
  expect(await store.get(planted)).toBeUndefined();
  expect(await store.get(issued)).toMatchObject({ returnTo: '/admin' });
});

it('keeps a known session under its id and writes nothing when nothing changed', async () => {
  const { server, store } = app();
  const id = idOf(await request(server).get('/write').expect(200))!;
  const again = await request(server).get('/read').set('cookie', signedCookie(id)).expect(200);
  expect(again.body).toEqual({ returnTo: '/admin' });
  expect(idOf(again)).toBeUndefined();
  expect(await store.get(id)).toMatchObject({ returnTo: '/admin' });
});

it('stores nothing for a visitor whose session nobody wrote to', async () => {
  const { server, store } = app();
  const response = await request(server).get('/read').expect(200);
  expect(idOf(response)).toBeUndefined();
  expect((await store.count()).live).toBe(0);
});

it('checks each signature it has not seen: a remembered cookie does not vouch for another signature', () => {
  const keys = cookieKeys([SECRET, 'b'.repeat(32)]);
  const digest = keys.sign('sid=abc');
  expect(keys.verify('sid=abc', digest)).toBe(true);
  expect(keys.verify('sid=abc', digest)).toBe(true);
  expect(keys.verify('sid=abc', `${digest.slice(0, -1)}${digest.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
  expect(keys.verify('sid=abd', digest)).toBe(false);
  expect(keys.index('sid=abc', cookieKeys(['b'.repeat(32)]).sign('sid=abc'))).toBe(1);
});

it('writes every change to a loaded session back under its id: a field, a removed field, a change inside an object', async () => {
  const { server, store } = app();
  const id = idOf(await request(server).get('/write').expect(200))!;
  const cookie = signedCookie(id);
  await request(server).get('/nested').set('cookie', cookie).expect(200);
  expect(await store.get(id)).toMatchObject({ keptForm: { fields: { reason: 'ticket 7' } } });
  await request(server).get('/change').set('cookie', cookie).expect(200);
  expect(await store.get(id)).toMatchObject({ returnTo: '/audit' });
  await request(server).get('/remove').set('cookie', cookie).expect(200);
  expect(await store.get(id)).not.toHaveProperty('returnTo');
  expect((await store.count()).live).toBe(1);
});
