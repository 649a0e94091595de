// The compiled entry points the image and the chart run, in production mode against the test
// servers: each one becomes ready and answers a real request, and each refuses an empty
// configuration in one message.
import {
  compiledEntryPoint,
  productionBackends,
  runEntryPoint,
  startCompiledService,
  type CompiledService,
  type EntryPoint,
  type ProductionBackends,
} from '../support/compiled-service.js';

let backends: ProductionBackends;
beforeAll(async () => {
  // Fails first, with the sentence saying to build, when dist is missing.
  for (const name of ['auth-session', 'mfa-admin', 'audit-log', 'cli'] as const) compiledEntryPoint(name);
  backends = await productionBackends();
});
afterAll(async () => backends?.close());

// As the ingress forwards it (TRUSTED_PROXY_HOPS=1 in the chart): over plain HTTP the production
// session cookie (__Host-, Secure) could not be sent, and Koa refuses with a 500.
const viaIngress = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.20' };

/** One real request on the public port, answered as designed for a client without a session. */
const publicChecks: Record<Exclude<EntryPoint, 'cli'>, (service: CompiledService) => Promise<void>> = {
  'auth-session': async ({ url }) => {
    const page = await fetch(`${url}/auth/login`, { headers: { ...viaIngress, accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="_csrf"');
    // No session for an anonymous page view: only the sign-in form's signed CSRF cookie.
    expect(page.headers.get('set-cookie')).toMatch(
      /^__Host-portcullis\.sid\.csrf=[^;]+; path=\/; .*secure; .*httponly/i,
    );
    expect(page.headers.get('set-cookie')).not.toMatch(/__Host-portcullis\.sid=/);
    // A wrong password through the whole stack: argon2, the Redis throttle, the audit writer.
    const refused = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { ...viaIngress, accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ email: backends.admin.email, password: 'not-the-password' }),
    });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'auth.invalid_credentials' });
  },
  'mfa-admin': async ({ url }) => {
    const api = await fetch(`${url}/admin/tenants`, { headers: { ...viaIngress, accept: 'application/json' } });
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ code: 'auth.unauthenticated' });
    const page = await fetch(`${url}/admin/tenants`, {
      headers: { ...viaIngress, accept: 'text/html' },
      redirect: 'manual',
    });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/auth/login?next=%2Fadmin%2Ftenants');
  },
  'audit-log': async ({ url }) => {
    const api = await fetch(`${url}/audit/events`, { headers: { ...viaIngress, accept: 'application/json' } });
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ code: 'auth.unauthenticated' });
  },
};

describe.each(['auth-session', 'mfa-admin', 'audit-log'] as const)('compiled %s in production mode', (name) => {
  it('becomes ready, serves its health endpoints and answers a real request', async () => {
    const service = await startCompiledService(name, { ...backends.env, TRUSTED_PROXY_HOPS: '1' });
    try {
      expect(await (await fetch(`${service.adminUrl}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${service.adminUrl}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready' });
      // The admin port is not the public one: no routes of the service there, no metrics on the public port.
      expect((await fetch(`${service.url}/metrics`)).status).toBe(404);
      await publicChecks[name](service);
    } finally {
      expect(await service.stop()).toBe(0);
    }
    // JSON logs only (production), and no secret of the configuration in them.
    for (const variable of [
      'SESSION_SECRET',
      'DEFAULT_PLATFORM_ADMIN_PASSWORD',
      'MFA_SECRET_ENCRYPTION_KEY',
      'AUDIT_DETAILS_ENCRYPTION_KEY',
    ] as const) {
      expect(service.output()).not.toContain(backends.env[variable]);
    }
  });
});

describe.each([
  ['auth-session', []],
  ['mfa-admin', []],
  ['audit-log', []],
  ['cli', ['migrate', 'latest']],
  ['cli', ['sessions', 'verify']],
] as [EntryPoint, string[]][])('compiled %s %s', (name, args) => {
  it('refuses an empty or incomplete configuration in one message naming what is missing, never a secret', async () => {
    // The third one holds secrets but no database: the message must name DATABASE_URL and print none of them.
    const secrets = {
      SESSION_SECRET: `s3cret-${'q'.repeat(40)}`,
      DEFAULT_PLATFORM_ADMIN_PASSWORD: 'Adm1n-pa55word-value',
      REDIS_URL: 'redis://:r3dis-pa55word@127.0.0.1:1',
    };
    const partial = {
      NODE_ENV: 'production',
      SESSION_STORE_DRIVER: 'redis',
      DEFAULT_PLATFORM_ADMIN_EMAIL: 'root@portcullis.example',
      ...secrets,
    };
    const configurations: Record<string, string>[] = [{}, { NODE_ENV: 'production' }, partial];
    const runs = await Promise.all(configurations.map((env) => runEntryPoint(name, args, env)));
    for (const { code, stdout, stderr } of runs) {
      for (const value of [...Object.values(secrets), 'r3dis-pa55word']) expect(stdout + stderr).not.toContain(value);
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(stderr).toMatch(/DATABASE_URL[^\n]*is required/);
      // A sentence, not a crash: no stack trace, no Node error banner.
      expect(stdout + stderr).not.toMatch(/^\s+at |node:internal|Error:/m);
    }
  });
});
