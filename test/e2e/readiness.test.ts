// /readyz follows its real dependency: a dedicated PostgreSQL is stopped and started again.
import { Writable } from 'node:stream';
import { createDatabase, pingDatabase, type Knex } from '@portcullis/db';
import { createAdminApp, createLogger, createMetrics } from '@portcullis/observability';
import { listen, type RunningServer } from '@portcullis/http';
import { createAuditWriter } from '@portcullis/audit';
import { createSessionIdHasher } from '@portcullis/crypto';
import { createMemoryBackend, createSessionStore } from '@portcullis/session-store';
import { createApp as createAuditApp } from '../../services/audit-log/src/app.js';
import { startPostgres, type ServerHandle } from '../support/index.js';

const silent = createLogger({ service: 'test', destination: new Writable({ write: (_c, _e, done) => done() }) });

describe('readiness on a real PostgreSQL', () => {
  let postgres: ServerHandle;
  let db: Knex;
  let admin: RunningServer;
  let server: RunningServer;

  beforeAll(async () => {
    postgres = await startPostgres();
    db = createDatabase({ url: postgres.url, poolMax: 2 });
    const metrics = createMetrics('audit-log');
    const settings = {
      production: false,
      cookieName: 'portcullis.sid',
      secrets: [`readiness-secret-${'x'.repeat(32)}`],
      idleTimeoutMs: 60_000,
      absoluteTimeoutMs: 3_600_000,
    };
    const store = createSessionStore({
      backend: createMemoryBackend(),
      hashers: settings.secrets.map((secret) => createSessionIdHasher(secret)),
    });
    const clock = { now: () => Date.now() };
    server = await listen(
      createAuditApp({ db, store, audit: createAuditWriter({ db }), logger: silent, metrics, clock, settings }),
      { host: '127.0.0.1', port: 0 },
    );
    admin = await listen(
      createAdminApp({ registry: metrics.registry, timeoutMs: 1000, checks: { database: () => pingDatabase(db) } }),
      { host: '127.0.0.1', port: 0 },
    );
  });

  afterAll(async () => {
    await server?.close(100);
    await admin?.close(100);
    await db?.destroy();
    await postgres?.dispose();
  });

  it('turns 503 while its database is stopped and 200 when it returns', async () => {
    expect((await fetch(`${admin.url}/readyz`)).status).toBe(200);

    await postgres.stop();
    const down = await fetch(`${admin.url}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'not ready', checks: { database: 'down' } });
    // Liveness is not readiness: the process itself is fine.
    expect((await fetch(`${admin.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/audit/healthz`)).status).toBe(200);

    await postgres.restart();
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await fetch(`${admin.url}/readyz`)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  });

  it('serves Prometheus text on the admin port, including request durations by route', async () => {
    await fetch(`${server.url}/audit/healthz`);
    const text = await (await fetch(`${admin.url}/metrics`)).text();
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toMatch(
      /http_request_duration_seconds_count\{service="audit-log",method="GET",route="\/audit\/healthz",status="200"\} \d+/,
    );
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });
});
