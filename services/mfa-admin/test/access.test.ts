// Who reaches the console: platform admins at assurance level 2 only. Tenant admins, level-1
// sessions and strangers are refused on every route; reset and rollback also need a recent
// re-authentication. The OpenAPI document lists exactly the routes mounted.
import type Router from '@koa/router';
import { api } from '../src/api.js';
import {
  type AdminHarness,
  type Built,
  createAdminHarness,
  createTenant,
  createTenantAdmin,
  csrfTokenIn,
  json,
  signIn,
  totpCode,
} from '../../../test/support/admin-harness.js';

let h: AdminHarness;
let built: Built;
beforeAll(async () => {
  h = await createAdminHarness();
  built = h.build();
});
afterAll(() => h.close());

type Values = { tenant: string; id: string; logId: string };
const sample: Values = {
  tenant: '00000000-0000-4000-8000-000000000001',
  id: '00000000-0000-4000-8000-000000000002',
  logId: '1',
};
const routesFor = (values: Values) =>
  Object.values(api).map((spec) => ({
    method: spec.method,
    path: spec.path.replace(/:(\w+)/g, (_, name: keyof Values) => values[name]),
  }));
const everyRoute = routesFor(sample);
const call = (agent: ReturnType<Built['agent']>, route: { method: 'get' | 'post'; path: string }) =>
  route.method === 'get' ? agent.get(route.path).set(json) : agent.post(route.path).set(json).send({ reason: 'x' });

describe('who reaches mfa-admin', () => {
  it('answers 401 on every route without a session', async () => {
    for (const route of everyRoute)
      expect([route.path, (await call(built.agent(), route)).status]).toEqual([route.path, 401]);
  });

  it('sends a browser opening a console page without a session to the sign-in page', async () => {
    const pages = everyRoute.filter((route) => route.method === 'get');
    expect(pages.length).toBeGreaterThan(0);
    for (const route of pages) {
      const response = await built.agent().get(route.path).set('Accept', 'text/html');
      expect([route.path, response.status, response.headers.location]).toEqual([
        route.path,
        303,
        `/auth/login?next=${encodeURIComponent(route.path)}`,
      ]);
    }
  });

  it('answers 403 on every route to a tenant admin, even at level 2 and about their own tenant', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const agent = await signIn(built.agent(), h.clock, admin, tenant.slug);
    for (const route of routesFor({ ...sample, tenant: tenant.id, id: admin.id })) {
      const response = await call(agent, route);
      expect([route.path, response.status, response.body.code]).toEqual([route.path, 403, 'auth.forbidden']);
    }
    // Nothing changed on the way.
    expect((await h.db('tenant_admins').where({ id: admin.id }).first()).mfa_enabled).toBe(true);
  });

  it('answers 403 to a platform admin who has not passed the second factor', async () => {
    const platform = await h.seedPlatformAdmin();
    const agent = built.agent();
    await agent
      .post('/auth/login')
      .set(json)
      .send({ email: platform.email, password: platform.password })
      .expect(200, { assurance: 1, next: 'verify-mfa' });
    for (const route of everyRoute) {
      const response = await call(agent, route);
      expect([route.path, response.status, response.body.code]).toEqual([route.path, 403, 'auth.mfa_required']);
    }
  });

  it('asks for a recent re-authentication before a reset or a rollback, and accepts one', async () => {
    const platform = await h.seedPlatformAdmin();
    const operator = await signIn(built.agent(), h.clock, platform);
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    h.clock.advance(6 * 60_000);
    await operator.get(`/admin/tenants/${tenant.id}`).set(json).expect(200);
    const path = `/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`;
    const stale = await operator.post(path).set(json).send({ reason: 'Lost phone' }).expect(403);
    expect(stale.body.code).toBe('auth.reauthentication_required');
    await operator
      .post('/admin/mfa-resets/1/rollback')
      .set(json)
      .send({ reason: 'x' })
      .expect(403, /auth.reauthentication_required/);
    await operator
      .post('/auth/reauthenticate')
      .set(json)
      .send({ password: platform.password, code: await totpCode(platform.totpSecret!, h.clock) })
      .expect(200);
    await operator.post(path).set(json).send({ reason: 'Lost phone' }).expect(200);
  });

  it('takes a browser whose reset form came too late through the re-authentication page and back to the form', async () => {
    const platform = await h.seedPlatformAdmin();
    const operator = await signIn(built.agent(), h.clock, platform);
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    h.clock.advance(6 * 60_000);
    const html = { Accept: 'text/html' };
    const page = await operator.get(`/admin/tenants/${tenant.id}`).set(html).expect(200);
    const back = /name="_return" value="([^"]+)"/.exec(page.text)![1]!;
    expect(back).toBe(`/admin/tenants/${tenant.id}`);
    const path = `/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`;
    await operator
      .post(path)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text), _return: back, reason: 'Lost phone' })
      .expect(303)
      .expect('location', `/auth/reauthenticate?next=${encodeURIComponent(back)}`);
    expect((await h.db('tenant_admins').where({ id: admin.id }).first()).mfa_enabled).toBe(true);

    const confirm = await operator
      .get(`/auth/reauthenticate?next=${encodeURIComponent(back)}`)
      .set(html)
      .expect(200);
    expect(confirm.text).toContain(`name="next" value="${back}"`);
    const code = await totpCode(platform.totpSecret!, h.clock);
    await operator
      .post('/auth/reauthenticate')
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(confirm.text), next: back, password: 'not-the-password', code })
      .expect(401)
      .expect('content-type', /html/);
    await operator
      .post('/auth/reauthenticate')
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(confirm.text), next: back, password: platform.password, code })
      .expect(303)
      .expect('location', back);

    const again = await operator.get(back).set(html).expect(200);
    await operator
      .post(path)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(again.text), _return: back, reason: 'Lost phone', confirm: 'yes' })
      .expect(303);
    expect((await h.db('tenant_admins').where({ id: admin.id }).first()).mfa_enabled).toBe(false);
  });

  it('follows a return path only within the product', async () => {
    const platform = await h.seedPlatformAdmin();
    const operator = await signIn(built.agent(), h.clock, platform);
    const nextFor = async (value: string) =>
      (
        await operator
          .get(`/auth/reauthenticate?next=${encodeURIComponent(value)}`)
          .set(json)
          .expect(200)
      ).body.next;
    expect(await nextFor('/admin/tenants/abc')).toBe('/admin/tenants/abc');
    expect(await nextFor('/audit/events')).toBe('/audit/events');
    for (const hostile of [
      '//evil.example/admin',
      '/\\evil.example',
      'https://evil.example/admin',
      '/admin/x?y=//evil',
      'javascript:alert(1)',
      '/elsewhere',
      '',
    ]) {
      expect([hostile, await nextFor(hostile)]).toEqual([hostile, '/auth/me']);
    }
  });
});

describe('the OpenAPI document', () => {
  it('lists exactly the API routes the app mounts, with their methods', async () => {
    const document = (await built.agent().get('/admin/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    const routers = built.mfaApp.middleware
      .map((middleware) => (middleware as { router?: Router }).router)
      .filter((router): router is Router => !!router);
    const mounted = routers
      .flatMap((router) =>
        router.stack.flatMap((layer) =>
          layer.methods
            .filter((method) => method !== 'HEAD')
            .map((method) => `${method} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`),
        ),
      )
      .filter((route) => !/ \/admin(\/healthz|\/openapi\.json|\/assets\/style\.css|\/)?$/.test(route))
      .sort();
    expect(mounted).toEqual(documented);
    expect(document.paths['/admin/mfa-resets/{logId}/rollback']?.post).toMatchObject({
      operationId: 'rollbackReset',
      requestBody: { required: true },
    });
  });

  it('documents the 415 a post that is not JSON gets (the CSRF rule) and the email format the app checks', async () => {
    const document = (await built.agent().get('/admin/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const posts = Object.entries(document.paths)
      .filter(([, operations]) => operations.post)
      .map(([path]) => path);
    expect(posts.length).toBeGreaterThan(4);
    for (const path of posts) {
      const url = path.replace(/\{(tenant|id)\}/g, '00000000-0000-4000-8000-000000000000').replace('{logId}', '1');
      const { status } = await built.agent().post(url).set('accept', 'application/json');
      expect({ path, status, documented: String(status) in document.paths[path]!.post!.responses }).toEqual({
        path,
        status: 415,
        documented: true,
      });
    }
    expect(document).toMatchObject({
      paths: {
        '/admin/tenants/{tenant}/admins': {
          post: {
            requestBody: {
              content: { 'application/json': { schema: { properties: { email: { format: 'email' } } } } },
            },
          },
        },
      },
    });
  });
});

describe('the pages', () => {
  it('serve forms with a CSRF token and refuse a form post without it', async () => {
    const platform = await h.seedPlatformAdmin();
    const operator = await signIn(built.agent(), h.clock, platform);
    const page = await operator.get('/admin/tenants').set('Accept', 'text/html').expect(200);
    expect(page.headers['content-type']).toContain('text/html');
    const token = csrfTokenIn(page.text);
    await operator.post('/admin/tenants').type('form').send({ slug: 'no-token', name: 'No token' }).expect(403);
    const created = await operator
      .post('/admin/tenants')
      .type('form')
      .send({ _csrf: token, slug: 'acme-pages', name: 'Acme <Pages>' })
      .expect(303);
    const tenantPage = await operator.get(created.headers.location!).set('Accept', 'text/html').expect(200);
    expect(tenantPage.text).toContain('Acme &lt;Pages&gt;');
    const refused = await operator
      .post('/admin/tenants')
      .type('form')
      .send({ _csrf: token, slug: '-', name: 'x' })
      .expect(400);
    expect(refused.text).toContain('slug: must be 2–63 letters');
  });
});
