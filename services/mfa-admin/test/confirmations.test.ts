// The confirmation step of destructive actions: a browser's form post is asked first (and changes
// nothing until confirmed); an API client acts at once whatever its Accept header says, since a
// script that sent JSON with curl's `Accept: */*` and got a page back would believe it had acted.
import type request from 'supertest';
import {
  type AdminHarness,
  type Built,
  createAdminHarness,
  createTenant,
  createTenantAdmin,
  csrfTokenIn,
  signIn,
} from '../../../test/support/admin-harness.js';

const html = { Accept: 'text/html' };

let h: AdminHarness;
let built: Built;
let operator: ReturnType<typeof request.agent>;
beforeAll(async () => {
  h = await createAdminHarness();
  built = h.build();
  operator = await signIn(built.agent(), h.clock, await h.seedPlatformAdmin());
});
afterAll(() => h.close());

const adminRow = (id: string) => h.db('tenant_admins').where({ id }).first();

it.each([
  ['no Accept header', {}],
  ['Accept: */*', { Accept: '*/*' }],
])('acts at once on a JSON post with %s (no confirmation page for a script)', async (_, accept) => {
  const tenant = await createTenant(h.db);
  const admin = await createTenantAdmin(h, tenant.id);
  const response = await operator
    .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/disable`)
    .set(accept)
    .set('Content-Type', 'application/json')
    .send({});
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toMatch(/json/);
  expect((await adminRow(admin.id)).disabled_at).not.toBeNull();
});

it('asks before signing an admin out everywhere, and signs them out once confirmed', async () => {
  const tenant = await createTenant(h.db);
  const admin = await createTenantAdmin(h, tenant.id);
  const session = await signIn(built.agent(), h.clock, admin, tenant.slug);
  h.clock.advance(1000);
  const page = await operator.get(`/admin/tenants/${tenant.id}`).set(html).expect(200);
  const path = `/admin/tenants/${tenant.id}/admins/${admin.id}/sign-out`;
  const ask = await operator
    .post(path)
    .type('form')
    .set(html)
    .send({ _csrf: csrfTokenIn(page.text) })
    .expect(200);
  expect(ask.text).toContain(`Sign ${admin.email} out everywhere?`);
  expect(ask.headers['cache-control']).toBe('no-store');
  await session.get('/auth/me').set({ Accept: 'application/json' }).expect(200);
  await operator
    .post(path)
    .type('form')
    .set(html)
    .send({ _csrf: csrfTokenIn(ask.text), confirm: 'yes' })
    .expect(303);
  await session.get('/auth/me').set({ Accept: 'application/json' }).expect(401);
  expect((await adminRow(admin.id)).disabled_at).toBeNull();
});

it('asks before giving a temporary password, then shows it once on a page that is never cached', async () => {
  const tenant = await createTenant(h.db);
  const admin = await createTenantAdmin(h, tenant.id);
  const before = (await adminRow(admin.id)).password_hash;
  const page = await operator.get(`/admin/tenants/${tenant.id}`).set(html).expect(200);
  const path = `/admin/tenants/${tenant.id}/admins/${admin.id}/password-reset`;
  const ask = await operator
    .post(path)
    .type('form')
    .set(html)
    .send({ _csrf: csrfTokenIn(page.text) })
    .expect(200);
  expect(ask.text).toContain(`Give ${admin.email} a temporary password?`);
  expect((await adminRow(admin.id)).password_hash).toBe(before);
  const done = await operator
    .post(path)
    .type('form')
    .set(html)
    .send({ _csrf: csrfTokenIn(ask.text), confirm: 'yes' })
    .expect(200);
  expect(done.headers['content-type']).toMatch(/html/);
  expect(done.headers['cache-control']).toBe('no-store');
  expect(done.text).toMatch(/<code>[^<]{12,}<\/code>/);
  expect((await adminRow(admin.id)).password_hash).not.toBe(before);
});
