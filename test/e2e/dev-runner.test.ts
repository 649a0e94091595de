// `npm run dev` as a developer uses it: one command brings up embedded PostgreSQL, the three
// services and the gateway; Ctrl-C (SIGINT) stops everything; a second start reuses the data.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createGateway } from '../../scripts/gateway.js';

const root = join(import.meta.dirname, '..', '..');
const parent = mkdtempSync(join(tmpdir(), 'portcullis-dev-'));
// The embedded PostgreSQL runs as the `postgres` user when we are root: it must reach the dir.
chmodSync(parent, 0o755);
// Not there yet: the runner makes its state folder itself.
const dir = join(parent, 'state');

// Below Linux's ephemeral range (32768+), where the other tests' servers get their ports, and
// probed: the runner needs the gateway, PostgreSQL and 3 + 3 service ports at fixed offsets.
const OFFSETS = [0, 5, 11, 12, 13, 1011, 1012, 1013];
const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer().once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
async function freeBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const candidate = 10_000 + Math.floor(Math.random() * 20_000);
    if ((await Promise.all(OFFSETS.map((offset) => isFree(candidate + offset)))).every(Boolean)) return candidate;
  }
  throw new Error('no free port range for the dev runner');
}
let base = 0;
let ports: Record<string, string> = {};
beforeAll(async () => {
  base = await freeBase();
  ports = {
    DEV_GATEWAY_PORT: String(base),
    DEV_POSTGRES_PORT: String(base + 5),
    DEV_SERVICE_PORT_BASE: String(base + 10),
  };
});

function startDevRunner(): { child: ChildProcess; output: () => string; ready: Promise<void> } {
  const child = spawn(
    process.execPath,
    ['--conditions=development', '--import', 'tsx', join(root, 'scripts', 'dev.ts')],
    {
      env: { ...process.env, ...ports, PORTCULLIS_DEV_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('Portcullis is running')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`dev runner exited with ${code}:\n${output}`)));
  });
  return { child, output: () => output, ready };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

afterAll(() => rmSync(parent, { recursive: true, force: true }));

it('serves every service through one gateway port, stops cleanly on Ctrl-C and reuses its data', async () => {
  const first = startDevRunner();
  await first.ready;
  const gateway = `http://127.0.0.1:${base}`;
  for (const prefix of ['/auth', '/admin', '/audit']) {
    const response = await fetch(`${gateway}${prefix}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  }
  const elsewhere = await fetch(`${gateway}/elsewhere`);
  expect([elsewhere.status, await elsewhere.json()]).toEqual([
    404,
    expect.objectContaining({ code: 'gateway.no_route' }),
  ]);
  // A browser gets a page leading on, and the printed entry URL opens the console.
  const page = await fetch(`${gateway}/elsewhere`, { headers: { accept: 'text/html' } });
  expect([page.status, page.headers.get('content-type')]).toEqual([404, 'text/html; charset=utf-8']);
  expect(await page.text()).toContain('<a href="/auth/me">console</a>');
  const root = await fetch(`${gateway}/`, { redirect: 'manual' });
  expect([root.status, root.headers.get('location')]).toEqual([303, '/auth/me']);
  for (const offset of [1001, 1002, 1003]) {
    const metrics = await fetch(`http://127.0.0.1:${base + 10 + offset}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('# TYPE http_request_duration_seconds histogram');
  }
  // The credentials are printed once, on the first start, and match the .env written then.
  const dotEnv = readFileSync(join(dir, '.env'), 'utf8');
  const password = /DEFAULT_PLATFORM_ADMIN_PASSWORD=(.+)/.exec(dotEnv)![1]!;
  const email = /DEFAULT_PLATFORM_ADMIN_EMAIL=(.+)/.exec(dotEnv)![1]!;
  expect(first.output()).toContain(password);
  // One session for all three services: a password sign-in at /auth is known to /admin, which
  // then asks for the second factor (403) instead of a sign-in (401).
  expect((await fetch(`${gateway}/admin/tenants`, { headers: { accept: 'application/json' } })).status).toBe(401);
  const signIn = await fetch(`${gateway}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  expect(signIn.status).toBe(200);
  const cookie = signIn.headers
    .getSetCookie()
    .map((value) => value.split(';')[0])
    .join('; ');
  const admin = await fetch(`${gateway}/admin/tenants`, { headers: { accept: 'application/json', cookie } });
  expect(admin.status).toBe(403);
  expect(await stop(first.child)).toBe(0);
  await expect(fetch(`${gateway}/auth/healthz`)).rejects.toThrow();

  const second = startDevRunner();
  await second.ready;
  expect(existsSync(join(dir, '.data', 'postgres', 'PG_VERSION'))).toBe(true);
  expect(second.output()).not.toContain(password);
  expect((await fetch(`${gateway}/audit/healthz`)).status).toBe(200);
  expect(await stop(second.child)).toBe(0);
}, 120_000);

it('answers a browser with a page that leads on when the service behind a route is down, and a script with JSON', async () => {
  // A port that was free a moment ago: nothing answers there.
  const down = createServer();
  await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
  const port = (down.address() as AddressInfo).port;
  await new Promise<void>((resolve) => down.close(() => resolve()));
  const gateway = createGateway([{ prefix: '/admin', target: { host: '127.0.0.1', port } }]);
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/admin/tenants`;
    const page = await fetch(url, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect([page.status, page.headers.get('content-type')]).toEqual([502, 'text/html; charset=utf-8']);
    const text = await page.text();
    expect(text).toContain('<h1>Service not answering</h1>');
    expect(text).toContain('Try again in a moment');
    expect(text).toContain('<a href="/auth/me">console</a>');
    const api = await fetch(url, { headers: { accept: 'application/json' } });
    expect([api.status, await api.json()]).toEqual([
      502,
      expect.objectContaining({ code: 'gateway.upstream_unavailable' }),
    ]);
  } finally {
    await new Promise<void>((resolve) => gateway.close(() => resolve()));
  }
});
