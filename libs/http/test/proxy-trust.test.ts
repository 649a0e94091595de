// The client address and scheme a service believes, for each TRUSTED_PROXY_HOPS, over real HTTP
// (supertest's socket peer is 127.0.0.1, standing in for the last proxy).
import Router from '@koa/router';
import request from 'supertest';
import { Writable } from 'node:stream';
import { createServiceApp, proxyTrust } from '@portcullis/http';
import { createLogger, createMetrics } from '@portcullis/observability';

function appTrusting(trustedProxyHops?: number) {
  const router = new Router();
  router.get('/whoami', (ctx) => {
    ctx.body = { ip: ctx.ip, protocol: ctx.protocol };
  });
  const logger = createLogger({
    service: 'test',
    destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
  });
  return createServiceApp({
    logger,
    metrics: createMetrics('test'),
    routers: [router],
    ...(trustedProxyHops === undefined ? {} : { trustedProxyHops }),
  }).callback();
}

const whoami = (app: ReturnType<typeof appTrusting>, headers: Record<string, string> = {}) =>
  request(app)
    .get('/whoami')
    .set(headers)
    .expect(200)
    .then((response) => response.body as { ip: string; protocol: string });

describe('proxy trust', () => {
  it('reads no X-Forwarded-* header by default', async () => {
    for (const app of [appTrusting(), appTrusting(0)]) {
      const seen = await whoami(app, { 'X-Forwarded-For': '203.0.113.9', 'X-Forwarded-Proto': 'https' });
      expect(seen.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
      expect(seen.protocol).toBe('http');
    }
  });

  it('with one hop, takes the entry the proxy appended and ignores what the client wrote left of it', async () => {
    const app = appTrusting(1);
    expect(await whoami(app, { 'X-Forwarded-For': '198.51.100.7', 'X-Forwarded-Proto': 'https' })).toEqual({
      ip: '198.51.100.7',
      protocol: 'https',
    });
    expect((await whoami(app, { 'X-Forwarded-For': '10.6.6.6, 10.7.7.7, 198.51.100.7' })).ip).toBe('198.51.100.7');
  });

  it('with two hops, takes the second entry from the right', async () => {
    expect((await whoami(appTrusting(2), { 'X-Forwarded-For': '10.6.6.6, 198.51.100.7, 10.0.0.2' })).ip).toBe(
      '198.51.100.7',
    );
  });

  it('falls back to the socket peer when a trusted proxy sent no X-Forwarded-For', async () => {
    expect((await whoami(appTrusting(1))).ip).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });

  it.each([-1, 1.5, Number.NaN])('refuses %s hops when the app is built', (hops) => {
    expect(() => proxyTrust(hops)).toThrow(/whole number ≥ 0/);
  });
});
