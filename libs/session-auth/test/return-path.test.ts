// The page a browser first asked for, carried through the sign-in pages: its query comes along
// (an audit filter survives the detour), and nothing but this product's own paths gets through.
import Koa from 'koa';
import request from 'supertest';
import { createSessionIdHasher } from '@portcullis/crypto';
import { createMemoryBackend, createSessionStore } from '@portcullis/session-store';
import { consoleReturnPath, installSessions, requireSession } from '@portcullis/session-auth';

const SECRET = 'return-path-test-secret-0123456789abcdefghijklm';

function app() {
  const clock = { now: () => Date.parse('2026-12-03T10:00:00Z') };
  const store = createSessionStore({
    backend: createMemoryBackend({ clock }),
    hashers: [createSessionIdHasher(SECRET)],
    clock,
  });
  const koa = new Koa();
  koa.use(
    installSessions(koa, { store, secrets: [SECRET], cookieName: 'sid', production: false, idleTimeoutMs: 60_000 }),
  );
  koa.use(requireSession({ clock, idleTimeoutMs: 60_000, absoluteTimeoutMs: 3600_000 }));
  return koa.callback();
}

it('sends a browser to sign-in with the page and its filter query, to come back to', async () => {
  const asked = '/audit/events?tenant=&actor=&action=mfa.reset&from=2026-12-01&to=';
  const response = await request(app()).get(asked).set('accept', 'text/html').expect(303);
  const next = new URL(response.headers.location!, 'http://x').searchParams.get('next');
  expect(next).toBe(asked);
  expect(consoleReturnPath(next)).toBe(asked);
});

it.each([
  ['another host', '//evil.example/audit'],
  ['a backslash host', '/\\evil.example'],
  ['a scheme', 'https://evil.example/audit'],
  ['another path', '/elsewhere?x=1'],
  ['a fragment', '/audit/events?x=1#fragment'],
  ['markup', '/audit/events?x=<script>'],
  ['a quote', '/audit/events?x="onload'],
  ['a header break', '/audit/events?x=1\r\nSet-Cookie: a=b'],
  ['over 1,024 characters', `/audit/events?long=${'a'.repeat(1100)}`],
])('refuses a page to come back to with %s', (_, value) => {
  expect(consoleReturnPath(value)).toBeUndefined();
});

it('sends a browser to the bare sign-in page when the page asked for cannot be carried', async () => {
  const response = await request(app())
    .get(`/audit/events?q=${'a'.repeat(1100)}`)
    .set('accept', 'text/html')
    .expect(303);
  expect(response.headers.location).toBe('/auth/login');
});
