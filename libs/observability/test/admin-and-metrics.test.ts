import Router from '@koa/router';
import Koa from 'koa';
import request from 'supertest';
import { Writable } from 'node:stream';
import { createAdminApp, createLogger, createMetrics, koaHttpMetrics, koaRequestId } from '@portcullis/observability';

const silent = new Writable({ write: (_chunk, _encoding, done) => done() });

function appWithMetrics() {
  const metrics = createMetrics('test');
  const app = new Koa();
  const router = new Router();
  router.get('/auth/sessions/:id', (ctx) => {
    ctx.body = { id: ctx.params.id, requestId: ctx.requestId };
  });
  app.use(koaRequestId(createLogger({ service: 'test', destination: silent })));
  app.use(koaHttpMetrics(metrics));
  app.use(router.routes());
  return { app, metrics };
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
