import Router from '@koa/router';
import request from 'supertest';
import { Writable } from 'node:stream';
import { z } from 'zod';
import { apiError, assertThat, createServiceApp, errorPages, healthRoutes, staticRoutes } from '@portcullis/http';
import { createLogger, createMetrics } from '@portcullis/observability';

function buildApp(lines: string[] = []) {
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const router = new Router({ prefix: '/auth' });
  router.get('/conflict', () =>
    assertThat(false, apiError('mfa.reset_already_rolled_back', 'This reset was already rolled back.')),
  );
  router.get('/invalid', (ctx) => {
    ctx.body = z.object({ email: z.email(), tenant: z.string().min(1) }).parse({ email: 'x', tenant: '' });
  });
  router.get('/busy', () => {
    throw apiError('auth.busy', 'Too many sign-ins at once. Try again in 2 seconds.', {
      retryAfterSeconds: 2,
    });
  });
  router.get('/throttled', () => {
    throw apiError('auth.too_many_attempts', 'Too many attempts. Try again in 60 seconds.', {
      retryAfterSeconds: 60,
    });
  });
  router.get('/outage/:kind', (ctx) => {
    const outages: Record<string, Error> = {
      refused: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      restarting: Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      pool: Object.assign(new Error('Knex: Timeout acquiring a connection.'), { name: 'KnexTimeoutError' }),
      store: Object.assign(new Error('the session store did not answer'), {
        name: 'SessionStoreError',
        code: 'session.store_unavailable',
      }),
      wrapped: new Error('audit write failed', { cause: Object.assign(new Error('Connection is closed.'), {}) }),
      // ioredis' commandTimeout: a Redis that stopped answering.
      frozen: new Error('Command timed out'),
    };
    throw outages[ctx.params.kind!];
  });
  router.get('/duplicate', () => {
    throw Object.assign(new Error('duplicate key value violates unique constraint "tenant_admins_email"'), {
      code: '23505',
    });
  });
  router.get('/crash', () => {
    throw new Error('connection to postgres://app:Sup3rSecret@db failed');
  });
  const logger = createLogger({ service: 'test', destination });
  return createServiceApp({
    logger,
    metrics: createMetrics('test'),
    routers: [healthRoutes('/auth'), router],
    errorPages: errorPages({ stylesheetHref: '/auth/assets/style.css', siteName: 'Test' }),
  }).callback();
}

describe('the shared service app', () => {
  it('answers /healthz on the public port with security headers and a request id', async () => {
    const response = await request(buildApp()).get('/auth/healthz').expect(200, { status: 'ok' });
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    // Framing is refused by both headers alike; SAMEORIGIN here contradicted the CSP.
    expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-request-id']).toBeTruthy();
    // Nothing is cached unless a route says so: errors included.
    expect(response.headers['cache-control']).toBe('no-store');
    expect((await request(buildApp()).get('/auth/conflict').expect(409)).headers['cache-control']).toBe('no-store');
  });

  it('sends a script (Accept: application/json) the headers of a non-document answer, a browser the full set', async () => {
    const api = await request(buildApp()).get('/auth/healthz').set('accept', 'application/json').expect(200);
    expect(api.headers).toMatchObject({
      'content-security-policy': expect.stringContaining("frame-ancestors 'none'"),
      'cross-origin-resource-policy': 'same-origin',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
    });
    for (const documentOnly of ['cross-origin-opener-policy', 'referrer-policy', 'x-dns-prefetch-control'])
      expect(api.headers[documentOnly]).toBeUndefined();
    // An error answer to a script carries them too.
    const refused = await request(buildApp()).get('/auth/conflict').set('accept', 'application/json').expect(409);
    expect(refused.headers['x-frame-options']).toBe('DENY');
    expect(refused.headers['cache-control']).toBe('no-store');

    const page = await request(buildApp()).get('/auth/healthz').set('accept', 'text/html,application/json;q=0.9');
    expect(page.headers).toMatchObject({
      'cross-origin-opener-policy': 'same-origin',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
  });

  it('lets a route that may be cached say so (the stylesheet)', async () => {
    const app = createServiceApp({
      logger: createLogger({ service: 'test', level: 'silent' }),
      metrics: createMetrics('test'),
      routers: [staticRoutes('/auth', { stylesheet: 'body{}' })],
    }).callback();
    expect((await request(app).get('/auth/assets/style.css').expect(200)).headers['cache-control']).toBe(
      'public, max-age=3600',
    );
  });

  it('maps ApiError to its status and code', async () => {
    const response = await request(buildApp()).get('/auth/conflict').expect(409);
    expect(response.body).toMatchObject({
      code: 'mfa.reset_already_rolled_back',
      message: 'This reset was already rolled back.',
    });
  });

  it('answers a deliberate refusal (503 busy, 429 throttled) with its message and a Retry-After header', async () => {
    const lines: string[] = [];
    const busy = await request(buildApp(lines)).get('/auth/busy').expect(503);
    expect(busy.body).toMatchObject({
      code: 'auth.busy',
      message: 'Too many sign-ins at once. Try again in 2 seconds.',
    });
    expect(busy.headers['retry-after']).toBe('2');
    expect((await request(buildApp()).get('/auth/throttled').expect(429)).headers['retry-after']).toBe('60');
    expect(lines.map((line) => JSON.parse(line)).filter((line) => line.level === 'error')).toEqual([]);
  });

  it('answers a dependency outage with 503 and Retry-After, not a 500, and still logs it as an error', async () => {
    for (const kind of ['refused', 'restarting', 'pool', 'store', 'wrapped', 'frozen']) {
      const lines: string[] = [];
      const response = await request(buildApp(lines)).get(`/auth/outage/${kind}`).expect(503);
      expect(response.body).toMatchObject({ code: 'service.unavailable' });
      expect(response.headers['retry-after']).toBe('5');
      expect(lines.map((line) => JSON.parse(line)).filter((line) => line.level === 'error')).toHaveLength(1);
    }
  });

  it('maps a validation error to 400 naming every field', async () => {
    const response = await request(buildApp()).get('/auth/invalid').expect(400);
    expect(response.body.code).toBe('request.invalid');
    expect(response.body.fields.map((field: { path: string }) => field.path).sort()).toEqual(['email', 'tenant']);
    expect(response.body.message).toContain('email');
  });

  it('maps a unique violation to 409 without leaking the constraint', async () => {
    const response = await request(buildApp()).get('/auth/duplicate').expect(409);
    expect(response.body).toMatchObject({ code: 'resource.conflict' });
    expect(response.text).not.toContain('tenant_admins_email');
  });

  it('turns anything else into a 500 with no detail for the client, logged with stack and request id', async () => {
    const lines: string[] = [];
    const response = await request(buildApp(lines)).get('/auth/crash').set('x-request-id', 'crash-1').expect(500);
    expect(response.body).toEqual({ code: 'internal', message: 'Internal server error', requestId: 'crash-1' });
    const logged = lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'request failed');
    expect(logged).toMatchObject({ requestId: 'crash-1', level: 'error' });
    expect(logged.err.stack).toContain('Error: connection to');
  });

  it('gives a browser a page for a 500 and a 503, logged once, with the request id and no detail', async () => {
    const lines: string[] = [];
    const crash = await request(buildApp(lines))
      .get('/auth/crash')
      .set('accept', 'text/html')
      .set('x-request-id', 'crash-2')
      .expect(500);
    expect(crash.headers['content-type']).toContain('text/html');
    expect(crash.text).toContain('Something went wrong on our side');
    expect(crash.text).toContain('request crash-2');
    expect(crash.text).not.toMatch(/Sup3rSecret|postgres:|at .*\.ts/);
    const failures = lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'request failed');
    expect(failures).toHaveLength(1);
    expect(failures[0].err.stack).toContain('Error: connection to');

    const outage = await request(buildApp()).get('/auth/outage/refused').set('accept', 'text/html').expect(503);
    expect([outage.headers['content-type'], outage.headers['retry-after']]).toEqual([
      'text/html; charset=utf-8',
      expect.stringMatching(/^\d+$/),
    ]);
    expect(outage.text).toContain('Busy for a moment');
  });

  it('answers 404 and 405 for unknown paths and methods', async () => {
    await request(buildApp()).get('/auth/nothing-here').expect(404);
    await request(buildApp()).post('/auth/healthz').expect(405);
  });

  it('answers 405 with Allow, not 501, to a method the router does not implement (TRACE) on a routed path', async () => {
    const response = await request(buildApp()).trace('/auth/healthz').expect(405);
    expect(response.headers.allow).toMatch(/\bGET\b/);
    await request(buildApp()).trace('/auth/nothing-here').expect(404);
  });
});
