import Router from '@koa/router';
import Koa from 'koa';
import request from 'supertest';
import { Writable } from 'node:stream';
import { createAdminApp, createLogger, createMetrics, installRequestObservability } from '@portcullis/observability';

function appWithMetrics() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const metrics = createMetrics('test');
  const app = new Koa();
  const router = new Router();
  router.get('/auth/sessions/:id', (ctx) => {
    ctx.log.info({ checked: true }, 'route line');
    ctx.body = { id: ctx.params.id, requestId: ctx.requestId };
  });
  app.use(installRequestObservability(app, createLogger({ service: 'test', destination }), metrics));
  app.use(router.routes());
  return { app, metrics, lines };
}

describe('http metrics and request id', () => {
  it('labels request durations by route template, never by raw path', async () => {
    const { app, metrics } = appWithMetrics();
    await request(app.callback()).get('/auth/sessions/abc').expect(200);
    await request(app.callback()).get('/auth/sessions/def').expect(200);
    await request(app.callback()).get('/nowhere/123').expect(404);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'http_request_duration_seconds_count{service="test",method="GET",route="/auth/sessions/:id",status="200"} 2',
    );
    expect(text).toContain('route="unmatched",status="404"');
    expect(text).not.toContain('/auth/sessions/abc');
    expect(text).not.toContain('/nowhere/123');
  });

  it('propagates a plain x-request-id and replaces one that could inject into logs', async () => {
    const { app } = appWithMetrics();
    const kept = await request(app.callback()).get('/auth/sessions/1').set('x-request-id', 'req-123.abc').expect(200);
    expect(kept.headers['x-request-id']).toBe('req-123.abc');
    expect(kept.body.requestId).toBe('req-123.abc');
    const replaced = await request(app.callback())
      .get('/auth/sessions/1')
      .set('x-request-id', 'evil\tid {"level":"fatal"}')
      .expect(200);
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs one line per request with the route template and the request id, and no header', async () => {
    const { app, lines } = appWithMetrics();
    await request(app.callback())
      .get('/auth/sessions/s3cr3t-id')
      .set('x-request-id', 'req-7')
      .set('cookie', 'portcullis.sid=abc')
      .expect(200);
    expect(lines).toEqual([
      expect.objectContaining({ requestId: 'req-7', msg: 'route line', checked: true }),
      expect.objectContaining({
        requestId: 'req-7',
        msg: 'request',
        method: 'GET',
        route: '/auth/sessions/:id',
        status: 200,
        durationMs: expect.any(Number),
      }),
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/s3cr3t-id|portcullis\.sid/);
  });
});

describe('admin app', () => {
  it('answers /healthz, /metrics in Prometheus text, and /readyz from its real checks', async () => {
    const { registry } = createMetrics('svc');
    let databaseUp = true;
    const admin = createAdminApp({
      registry,
      timeoutMs: 200,
      checks: {
        database: async () => {
          if (!databaseUp) throw new Error('connect ECONNREFUSED postgres://user:pw@db');
        },
        slow: () => new Promise((resolve) => setTimeout(resolve, 10)),
      },
    });
    const server = admin.callback();
    await request(server).get('/healthz').expect(200, { status: 'ok' });
    const metrics = await request(server).get('/metrics').expect(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.text).toContain('# TYPE process_cpu_user_seconds_total counter');
    await request(server)
      .get('/readyz')
      .expect(200, { status: 'ready', checks: { database: 'up', slow: 'up' } });
    databaseUp = false;
    const down = await request(server).get('/readyz').expect(503);
    expect(down.body).toEqual({ status: 'not ready', checks: { database: 'down', slow: 'up' } });
    expect(down.text).not.toContain('pw@db');
  });

  it('reports a check that hangs as down after its timeout', async () => {
    const admin = createAdminApp({
      registry: createMetrics('svc').registry,
      timeoutMs: 50,
      checks: { redis: () => new Promise(() => {}) },
    });
    await request(admin.callback())
      .get('/readyz')
      .expect(503, { status: 'not ready', checks: { redis: 'down' } });
  });
});
