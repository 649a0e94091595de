// auth-session as deployed: compiled, NODE_ENV=production, TRUSTED_PROXY_HOPS=1, behind a real
// nginx that terminates TLS and appends to X-Forwarded-For as an ingress controller does
// (HTTPS at the edge, HTTP to the pod). The client connects from 127.0.0.2/127.0.0.3/127.0.0.4
// and nginx reaches the pod from 127.0.0.1, so the address the service records tells which
// X-Forwarded-For entry (or the socket) it believed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import {
  compiledEntryPoint,
  productionBackends,
  startCompiledService,
  type CompiledService,
  type ProductionBackends,
} from '../support/compiled-service.js';
import { totpNow } from '../support/authenticator.js';

const NGINX = '/usr/sbin/nginx';

interface Nginx {
  url: string;
  ca: Buffer;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** nginx on a free loopback port with a throwaway self-signed certificate; stopped by pid, its directory removed. */
async function startNginx(upstream: string): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-nginx-'));
  // nginx's workers run as `nobody` when the tests run as root: they must reach the directory.
  chmodSync(dir, 0o755);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    location / {
      proxy_pass ${upstream};
      proxy_set_header Host $host;
      # What ingress-nginx does: append the peer's address, overwrite the scheme.
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(
    NGINX,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const ca = readFileSync(join(dir, 'cert.pem'));
  const url = `https://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) {
      process.kill(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => !exited && process.kill(child.pid!, 'SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await send({ url, ca }, 'GET', '/auth/healthz').then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return { url, ca, stop };
    if (exited || Date.now() > deadline) {
      const log = (() => {
        try {
          return readFileSync(join(dir, 'error.log'), 'utf8');
        } catch {
          return '';
        }
      })();
      await stop();
      throw new Error(`nginx did not proxy /auth/healthz within 10 s (last status ${status}):\n${stderr}${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** One HTTPS request to nginx, from a chosen loopback source address. */
function send(
  edge: { url: string; ca: Buffer },
  method: string,
  path: string,
  options: { from?: string; headers?: Record<string, string>; json?: unknown } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const body = options.json === undefined ? undefined : JSON.stringify(options.json);
    const req = httpsRequest(
      `${edge.url}${path}`,
      {
        method,
        ca: edge.ca,
        localAddress: options.from ?? '127.0.0.2',
        headers: {
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = { text };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      },
    );
    req.once('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.once('error', reject);
    req.end(body);
  });
}

/** A browser's cookie jar, reduced to what this flow needs. */
class Jar {
  private readonly cookies = new Map<string, string>();
  take(response: Response): string[] {
    const lines = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
    for (const line of lines) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    return lines;
  }
  get header(): Record<string, string> {
    return { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
  }
}

let backends: ProductionBackends;
let service: CompiledService;
let edge: Nginx;
let db: Knex;

beforeAll(async () => {
  compiledEntryPoint('auth-session');
  backends = await productionBackends();
  db = knex({ client: 'pg', connection: backends.database.url, pool: { min: 0, max: 2 } });
  service = await startCompiledService('auth-session', { ...backends.env, TRUSTED_PROXY_HOPS: '1' });
  edge = await startNginx(service.url);
}, 60_000);

afterAll(async () => {
  await edge?.stop();
  await service?.stop();
  await db?.destroy();
  await backends?.close();
});

const auditIps = async (userAgent: string, action: string) =>
  (await db('audit_events').where({ user_agent: userAgent, action }).select('ip')).map(
    (row: { ip: string | null }) => row.ip,
  );

it('signs the default platform admin in over HTTPS at the edge and HTTP to the pod, with the __Host- Secure cookie', async () => {
  const jar = new Jar();
  const userAgent = `proxy-test-sign-in-${Date.now()}`;
  const headers = () => ({ ...jar.header, 'user-agent': userAgent });

  const password = await send(edge, 'POST', '/auth/login', {
    headers: headers(),
    json: { email: backends.admin.email, password: backends.admin.password },
  });
  expect(password.status).toBe(200);
  expect(password.body).toEqual({ assurance: 1, next: 'enroll-mfa' });
  const cookies = jar.take(password);
  expect(cookies.find((line) => line.startsWith('__Host-portcullis.sid='))).toMatch(/; path=\/;.*; secure; httponly$/);
  for (const line of cookies) expect(line).not.toMatch(/; domain=/i);

  const offer = await send(edge, 'GET', '/auth/mfa/enroll', { headers: headers() });
  expect(offer.status).toBe(200);
  const code = totpNow(offer.body.secret as string);
  const enrolled = await send(edge, 'POST', '/auth/mfa/enroll', { headers: headers(), json: { code } });
  expect(enrolled.status).toBe(200);
  expect(enrolled.body).toMatchObject({ assurance: 2, next: 'change-password' });
  // Step-up regenerates the session id: a new Secure cookie again.
  expect(jar.take(enrolled).find((line) => line.startsWith('__Host-portcullis.sid='))).toMatch(/; secure; httponly$/);

  // Recorded with the address nginx saw (127.0.0.2), not nginx's own (127.0.0.1, the pod's socket peer).
  expect(await auditIps(userAgent, 'auth.mfa_enrolled')).toEqual(['127.0.0.2']);
});

it('ignores a spoofed leftmost X-Forwarded-For: the per-IP throttle still closes, and audit events carry the real address', async () => {
  const userAgent = `proxy-test-spoof-${Date.now()}`;
  const attempt = (index: number, from: string) =>
    send(edge, 'POST', '/auth/login', {
      from,
      // A new forged client address on every attempt, and a new account so the per-account budget never closes first.
      headers: { 'user-agent': userAgent, 'x-forwarded-for': `203.0.113.${index % 250}, 10.0.${index}.1` },
      json: { email: `nobody-${index}@spoof.example`, password: 'wrong-password' },
    });

  // The password step's per-IP budget (services/auth-session login-throttle DEFAULT_LIMITS): 30 failures in 15 minutes.
  const statuses: number[] = [];
  for (let index = 1; index <= 30; index++) statuses.push((await attempt(index, '127.0.0.3')).status);
  expect(statuses).toEqual(Array(30).fill(401));
  const blocked = await attempt(31, '127.0.0.3');
  expect(blocked.status).toBe(429);
  expect(blocked.body).toMatchObject({ code: 'auth.too_many_attempts' });
  // Another client (another address at the edge) is not held by that budget.
  expect((await attempt(32, '127.0.0.4')).status).toBe(401);

  const ips = await auditIps(userAgent, 'auth.sign_in_failed');
  expect(ips).toHaveLength(31);
  expect(new Set(ips)).toEqual(new Set(['127.0.0.3', '127.0.0.4']));
}, 60_000);
