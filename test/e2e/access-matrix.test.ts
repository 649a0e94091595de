// Access control generated from the routers themselves: every route the three apps mount (read
// from each app's @koa/router instances, not from a hand list) is called by every kind of caller
// — nobody, a tenant admin and a platform admin at level 1 and at level 2, a tenant admin still to
// enrol, and a tenant admin of ANOTHER tenant at level 2 — and the answer must fall in the class the route's app promises. A
// route added without a guard therefore fails here until it is guarded or deliberately listed.
import type Koa from 'koa';
import { createLogger, createMetrics } from '@portcullis/observability';
import { createApp as createAuditApp } from '../../services/audit-log/src/app.js';
import { csrfTokenIn, defaultSettings, SESSION_SECRET } from '../support/index.js';
import {
  createAdminHarness,
  createTenant,
  createTenantAdmin,
  json,
  signIn,
  type AdminHarness,
  type Built,
  type SeededAdmin,
} from '../support/admin-harness.js';

/** Open to anyone by design. A new public route fails the matrix until it is added here on purpose. */
const PUBLIC = new Set([
  'GET /auth/healthz',
  'GET /auth/assets/style.css',
  'GET /auth/openapi.json',
  'GET /auth/login',
  'POST /auth/login',
  'GET /admin/healthz',
  'GET /admin/assets/style.css',
  'GET /admin/openapi.json',
  'GET /admin',
  'GET /audit/healthz',
  'GET /audit/assets/style.css',
  'GET /audit/openapi.json',
  'GET /audit',
  'GET /auth',
]);
/** Reachable with a level-1 session (password only): the rest of the sign-in, and signing out. */
const SIGN_IN_STEPS = new Set([
  'GET /auth/mfa',
  'POST /auth/mfa/verify',
  'GET /auth/mfa/enroll',
  'POST /auth/mfa/enroll',
  'GET /auth/logout',
  'POST /auth/logout',
]);

/**
 * What each app promises beyond that. `own`: every admin reaches their own account and sessions,
 * and a route naming a resource (a path parameter) refuses another admin's. `platform`: platform
 * admins only. `tenant`: every reader route takes a `tenant`; tenant admins get their own only.
 */
type Access = 'own' | 'platform' | 'tenant';
/** `enrolL1`: a tenant admin past the password with no authenticator yet, whose pages show a new TOTP secret. */
type Caller = 'anonymous' | 'tenantL1' | 'enrolL1' | 'tenantL2' | 'platformL1' | 'platformL2' | 'otherTenantL2';
type Expected = 'unauthenticated' | 'forbidden' | 'hidden' | 'allowed';
interface Route {
  method: string;
  path: string;
  key: string;
  access: Access;
}

const CALLERS: Caller[] = ['anonymous', 'tenantL1', 'enrolL1', 'tenantL2', 'platformL1', 'platformL2', 'otherTenantL2'];

function expected(route: Route, caller: Caller): Expected {
  if (PUBLIC.has(route.key)) return 'allowed';
  if (caller === 'anonymous') return 'unauthenticated';
  if (caller.endsWith('L1')) return SIGN_IN_STEPS.has(route.key) ? 'allowed' : 'forbidden';
  if (route.access === 'platform') return caller === 'platformL2' ? 'allowed' : 'forbidden';
  if (caller === 'otherTenantL2' && (route.access === 'tenant' || route.path.includes('/:'))) return 'hidden';
  return 'allowed';
}

function fits(expectation: Expected, status: number): boolean {
  switch (expectation) {
    case 'unauthenticated':
      return status === 401;
    case 'forbidden':
      return status === 403;
    case 'hidden':
      return status === 403 || status === 404;
    // Past the guards: success, or a 4xx about the (deliberately incomplete) input; never a 5xx.
    case 'allowed':
      return status >= 200 && status !== 401 && status !== 403 && status < 500;
  }
}

/** What the test reads of a @koa/router instance (its layers), without depending on the package here. */
interface Router {
  stack: { path: string | RegExp; methods: string[] }[];
}

/** The routes an app mounts, from the routers among its middleware (router.routes() carries `.router`). */
function routesOf(app: Koa, prefix: string, access: Access): Route[] {
  const routers = app.middleware
    .map((middleware) => (middleware as { router?: Router }).router)
    .filter((router): router is Router => !!router);
  return [...new Set(routers)].flatMap((router) =>
    router.stack.flatMap((layer) =>
      layer.methods
        .filter((method) => method !== 'HEAD')
        .map((method) => {
          const path = String(layer.path);
          // The gateway (and the ingress) send only this prefix to the app.
          if (path !== prefix && !path.startsWith(`${prefix}/`))
            throw new Error(`${method} ${path} is outside ${prefix}, where the ingress sends nothing`);
          return { method, path, key: `${method} ${path}`, access };
        }),
    ),
  );
}

interface Fixture {
  tenant: { id: string; slug: string };
  admin: SeededAdmin;
  sessionId: string;
  logId: string;
  /** A platform admin other than the callers (disable targets one). */
  platformAdminId: string;
}

let h: AdminHarness;
let built: Built;
let routes: Route[];
let fixture: Fixture;
let other: { id: string; slug: string };
let owner: ReturnType<Built['agent']>;

beforeAll(async () => {
  h = await createAdminHarness();
  let auditApp: Koa | undefined;
  built = h.build({
    extraApps: (store) => {
      auditApp = createAuditApp({
        db: h.db,
        store,
        audit: h.audit,
        detailsKeys: h.detailsKeys,
        logger: createLogger({ service: 'audit-log', level: 'silent' }),
        metrics: createMetrics('audit-log'),
        clock: h.clock,
        settings: { ...defaultSettings, secrets: [SESSION_SECRET] },
      });
      return { '/audit': auditApp };
    },
  });
  // The gateway keeps its auth-session app to itself; an app built by the same createApp mounts the same routes.
  routes = [
    ...routesOf(h.auth.build().app, '/auth', 'own'),
    ...routesOf(built.mfaApp, '/admin', 'platform'),
    // "Verify all chains" is the audit log's one platform-only route.
    ...routesOf(auditApp!, '/audit', 'tenant').map((route) =>
      route.key === 'GET /audit/verify-chains' ? { ...route, access: 'platform' as const } : route,
    ),
  ];

  // Tenant A with an admin who holds a live session and has an MFA reset on record; tenant B for the stranger.
  const tenant = await createTenant(h.db);
  other = await createTenant(h.db);
  const admin = await createTenantAdmin(h, tenant.id);
  const operator = await signIn(built.agent(), h.clock, await h.seedPlatformAdmin());
  const reset = await operator
    .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
    .set(json)
    .send({ reason: 'Lost phone' })
    .expect(200);
  await operator
    .post(`/admin/mfa-resets/${reset.body.reset.id}/rollback`)
    .set(json)
    .send({ reason: 'Found it' })
    .expect(200);
  owner = await signIn(built.agent(), h.clock, admin, tenant.slug);
  const sessions = await owner.get('/auth/sessions').set(json).expect(200);
  fixture = {
    tenant,
    admin,
    sessionId: sessions.body.sessions[0].id,
    logId: String(reset.body.reset.id),
    platformAdminId: (await h.seedPlatformAdmin()).id,
  };
});
afterAll(() => h.close());

/** Each caller is a fresh account of its kind, signed in again whenever a route (logout, say) ended its session. */
const agents = new Map<Caller, ReturnType<Built['agent']>>();
async function agentFor(caller: Exclude<Caller, 'anonymous'>): Promise<ReturnType<Built['agent']>> {
  const level = caller.endsWith('L2') ? 2 : 1;
  const current = agents.get(caller);
  if (current) {
    const step = await current.get('/auth/mfa').set(json);
    if (step.status === 200 && (step.body.next === 'done') === (level === 2)) return current;
  }
  const tenant =
    caller === 'otherTenantL2'
      ? other
      : caller.startsWith('tenant') || caller === 'enrolL1'
        ? fixture.tenant
        : undefined;
  const admin = tenant
    ? await createTenantAdmin(h, tenant.id, { mfa: caller !== 'enrolL1' })
    : await h.seedPlatformAdmin();
  const agent = built.agent();
  if (level === 2) await signIn(agent, h.clock, admin, tenant?.slug);
  else
    await agent
      .post('/auth/login')
      .set(json)
      .send({ ...(tenant ? { tenant: tenant.slug } : {}), email: admin.email, password: admin.password })
      .expect(200, { assurance: 1, next: caller === 'enrolL1' ? 'enroll-mfa' : 'verify-mfa' });
  agents.set(caller, agent);
  return agent;
}

/**
 * A platform admin's write that passes the guards really acts (suspends, disables): it gets a
 * tenant and admin of its own, so the callers' tenant A stays as it was.
 */
async function targetFor(route: Route, caller: Caller): Promise<Fixture> {
  if (caller !== 'platformL2' || route.method === 'GET') return fixture;
  const tenant = await createTenant(h.db);
  return {
    ...fixture,
    tenant,
    admin: await createTenantAdmin(h, tenant.id, { mfa: false }),
    platformAdminId: (await h.seedPlatformAdmin()).id,
  };
}

function pathFor(route: Route, target: Fixture): string {
  return route.path.replace(/:(\w+)/g, (_, name: string) => {
    if (name === 'tenant') return target.tenant.id;
    if (name === 'logId') return target.logId;
    if (name === 'id' && route.path.includes('/admins/:id')) return target.admin.id;
    if (name === 'id' && route.path.includes('/sessions/:id')) return target.sessionId;
    if (name === 'session') return target.sessionId;
    if (name === 'id' && route.path.includes('/platform-admins/:id')) return target.platformAdminId;
    throw new Error(`${route.key}: no seeded value for :${name}; add one to the access matrix`);
  });
}

/** JSON in and out. Bodies carry only the tenant (for apps that take one), so a guarded write that is let through stops at validation. */
async function call(route: Route, caller: Caller, accept = json.Accept) {
  const target = await targetFor(route, caller);
  const agent = caller === 'anonymous' ? built.agent() : await agentFor(caller);
  const tenant = route.access === 'tenant' ? { tenant: target.tenant.id } : {};
  const path = pathFor(route, target);
  const method = route.method.toLowerCase() as 'get' | 'post' | 'delete' | 'put' | 'patch';
  if (method === 'get') return agent.get(path).query(tenant).set('Accept', accept);
  return agent[method](path).set(json).send(tenant);
}

describe('access to every route, generated from the routers', () => {
  it('finds the routes of all three apps', () => {
    const keys = routes.map((route) => route.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const prefix of ['/auth/', '/admin/', '/audit/'])
      expect(keys.filter((key) => key.includes(` ${prefix}`)).length).toBeGreaterThan(3);
    // Stale entries would hide a removed route; both lists name mounted routes only.
    expect([...PUBLIC, ...SIGN_IN_STEPS].filter((key) => !keys.includes(key))).toEqual([]);
  });

  it('answers each caller on each route as its app promises', async () => {
    const wrong: string[] = [];
    for (const route of routes) {
      for (const caller of CALLERS) {
        const expectation = expected(route, caller);
        // A write let through to the wrong caller can break the fixture (suspend tenant A): reported, and the matrix goes on.
        const response = await call(route, caller).catch((error: Error) => ({
          status: 0,
          body: { code: `no answer: ${error.message}` },
        }));
        if (!fits(expectation, response.status))
          wrong.push(
            `${route.key} as ${caller}: ${response.status} ${response.body?.code ?? ''}, expected ${expectation}`,
          );
      }
    }
    expect(wrong).toEqual([]);
  });

  it('sends a browser without a session from every guarded page to the sign-in page', async () => {
    const wrong: string[] = [];
    for (const route of routes.filter((candidate) => candidate.method === 'GET' && !PUBLIC.has(candidate.key))) {
      const response = await call(route, 'anonymous', 'text/html');
      if (response.status !== 303 || !String(response.headers.location).startsWith('/auth/login'))
        wrong.push(`${route.key}: ${response.status} ${response.headers.location ?? ''}`);
    }
    expect(wrong).toEqual([]);
  });

  it('answers a browser on every route with a page, never JSON, and marks every signed-in response no-store', async () => {
    // Machine-readable by design, whoever asks.
    const notPages = new Set([
      'GET /auth/healthz',
      'GET /admin/healthz',
      'GET /audit/healthz',
      'GET /auth/openapi.json',
      'GET /admin/openapi.json',
      'GET /audit/openapi.json',
    ]);
    const wrong: string[] = [];
    for (const route of routes.filter((candidate) => !notPages.has(candidate.key))) {
      // Level 1 too: past the password only, or enrolling (the page with the new secret and its QR code).
      for (const caller of ['anonymous', 'tenantL1', 'enrolL1', 'platformL1', 'tenantL2', 'platformL2'] as const) {
        const target = await targetFor({ ...route, method: 'GET' }, caller);
        const agent = caller === 'anonymous' ? built.agent() : await agentFor(caller);
        const path = pathFor(route, target);
        // A browser: pages by GET, forms by POST (here without their token: the CSRF page must be a page too).
        const response =
          route.method === 'GET'
            ? await agent.get(path).set('Accept', 'text/html')
            : await agent[route.method.toLowerCase() as 'post' | 'delete'](path)
                .type('form')
                .set('Accept', 'text/html')
                .send({});
        // The caller is what it claims: the enrolling admin really got the page with the secret.
        if (caller === 'enrolL1' && route.key === 'GET /auth/mfa/enroll' && !response.text.includes('Or type this key'))
          wrong.push(`${route.key} as ${caller}: ${response.status}, not the enrolment page`);
        const type = String(response.headers['content-type'] ?? '');
        if (/json/.test(type)) wrong.push(`${route.key} as ${caller}: ${response.status} ${type}`);
        if (
          caller !== 'anonymous' &&
          route.key !== `GET ${route.path.split('/').slice(0, 2).join('/')}/assets/style.css`
        ) {
          if (response.headers['cache-control'] !== 'no-store' || response.headers.pragma !== 'no-cache')
            wrong.push(
              `${route.key} as ${caller}: cache-control ${response.headers['cache-control']}, pragma ${response.headers.pragma}`,
            );
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('gives every page one look: the three services serve the same stylesheet, and a page links its own copy', async () => {
    const agent = built.agent();
    const sheets = await Promise.all(
      ['/auth', '/admin', '/audit'].map(
        async (prefix) => (await agent.get(`${prefix}/assets/style.css`).expect(200)).text,
      ),
    );
    expect(sheets[0]).toContain('body.narrow');
    expect(new Set(sheets).size).toBe(1);
    // The sign-in page (no console nav) is the narrow column; a console page is not.
    const signIn = await agent.get('/auth/login').set('Accept', 'text/html').expect(200);
    expect(signIn.text).toContain('<body class="narrow">');
    expect(signIn.text).toContain('href="/auth/assets/style.css"');
    const tenants = await (await agentFor('platformL2')).get('/admin/tenants').set('Accept', 'text/html').expect(200);
    expect(tenants.text).toContain('<body><nav');
    expect(tenants.text).toContain('href="/admin/assets/style.css"');
  });

  it('answers an unknown page, a refused role and a conflict with pages that lead on, and each service root with the console', async () => {
    const nowhere = await built.agent().get('/admin/no-such-page').set('Accept', 'text/html').expect(404);
    expect(nowhere.text).toContain('Page not found');
    expect(nowhere.text).toContain('href="/auth/me"');
    const tenantAdmin = await agentFor('tenantL2');
    const refused = await tenantAdmin.get('/admin/tenants').set('Accept', 'text/html').expect(403);
    expect(refused.text).toContain('Not available to your role');
    expect(refused.text).toContain('href="/audit/events"');
    const operator = await agentFor('platformL2');
    const form = await operator.get('/admin/tenants').set('Accept', 'text/html').expect(200);
    const token = csrfTokenIn(form.text);
    const taken = await operator
      .post('/admin/tenants')
      .type('form')
      .set('Accept', 'text/html')
      .send({ _csrf: token, slug: fixture.tenant.slug, name: 'Again' })
      .expect(409);
    expect(taken.headers['content-type']).toMatch(/text\/html/);
    expect(taken.text).toContain('A tenant with this slug exists already');
    await built.agent().get('/auth').expect(302).expect('location', '/auth/me');
    await built.agent().get('/audit').expect(302).expect('location', '/audit/events');
  });

  it('left the session named in the session routes alive: nobody could end another admin’s session', async () => {
    const sessions = await owner.get('/auth/sessions').set(json).expect(200);
    expect(sessions.body.sessions.map((session: { id: string }) => session.id)).toContain(fixture.sessionId);
  });
});
