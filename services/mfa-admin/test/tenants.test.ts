// Tenants and tenant admins through the JSON API, checked against what auth-session then allows.
import { userIdOf } from '@portcullis/session-auth';
import type request from 'supertest';
import {
  createAdminHarness,
  createTenant,
  createTenantAdmin,
  json,
  signIn,
  type AdminHarness,
  type Built,
} from '../../../test/support/admin-harness.js';

let h: AdminHarness;
let built: Built;
let operator: ReturnType<typeof request.agent>;
beforeAll(async () => {
  h = await createAdminHarness();
  built = h.build();
  operator = await signIn(built.agent(), h.clock, await h.seedPlatformAdmin());
});
afterAll(() => h.close());

describe('tenants', () => {
  it('creates and lists tenants, and answers 409 for a slug already taken', async () => {
    const created = await operator
      .post('/admin/tenants')
      .set(json)
      .send({ slug: 'Acme-Corp', name: 'Acme Corp' })
      .expect(200);
    expect(created.body.tenant).toMatchObject({ slug: 'acme-corp', name: 'Acme Corp', status: 'active' });
    const list = await operator.get('/admin/tenants').set(json).expect(200);
    expect(list.body.tenants).toContainEqual({ ...created.body.tenant, adminCount: 0 });
    await operator
      .post('/admin/tenants')
      .set(json)
      .send({ slug: 'acme-corp', name: 'Again' })
      .expect(409, /resource.conflict/);
    const event = await h
      .db('audit_events')
      .where({ action: 'tenant.created', target_id: created.body.tenant.id })
      .first();
    expect(event.tenant_id).toBe(created.body.tenant.id);
  });

  it('suspends a tenant: its admins are signed out and cannot sign in again', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const session = await signIn(built.agent(), h.clock, admin, tenant.slug);
    const suspended = await operator.post(`/admin/tenants/${tenant.id}/suspend`).set(json).expect(200);
    expect(suspended.body).toMatchObject({ tenant: { status: 'suspended' }, sessionsRevoked: 'done' });
    await session.get('/auth/me').set(json).expect(401);
    expect(await built.store.listByUser(userIdOf('tenant', admin.id))).toEqual([]);
    await built
      .agent()
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(401);
    // Suspending again changes nothing.
    await operator.post(`/admin/tenants/${tenant.id}/suspend`).set(json).expect(200);
    expect(await h.db('audit_events').where({ action: 'tenant.suspended', target_id: tenant.id })).toHaveLength(1);
  });
});

describe('bad request bodies', () => {
  it('answers a truncated JSON body with 400 before any sign-in, and logs no part of it', async () => {
    const before = h.logLines.length;
    const truncated = '{"email":"victim@example.com","password":"pw-Truncated-Secret-9';
    const response = await built
      .agent()
      .post('/admin/tenants')
      .set('content-type', 'application/json')
      .send(truncated)
      .expect(400);
    expect(response.body).toMatchObject({
      code: 'request.invalid_body',
      message: 'The request body is not valid JSON or form data.',
    });
    const logged = h.logLines.slice(before).join('\n');
    expect(logged).not.toContain('pw-Truncated-Secret-9');
    expect(logged).not.toMatch(/"level":"error"/);
  });
});

describe('tenant admins', () => {
  it('creates an admin whose temporary password signs in and leads to enrolment; the password is shown once and never stored', async () => {
    const tenant = await createTenant(h.db);
    const created = await operator
      .post(`/admin/tenants/${tenant.id}/admins`)
      .set(json)
      .send({ email: 'New.Admin@Example.com' })
      .expect(200);
    expect(created.headers['cache-control']).toBe('no-store');
    expect(created.body.admin).toMatchObject({
      tenantId: tenant.id,
      email: 'New.Admin@Example.com',
      mfaEnrolled: false,
      mustChangePassword: true,
      disabled: false,
    });
    const { temporaryPassword } = created.body as { temporaryPassword: string };
    expect(temporaryPassword.length).toBeGreaterThanOrEqual(20);
    const agent = built.agent();
    await agent
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: 'new.admin@example.com', password: temporaryPassword })
      .expect(200, { assurance: 1, next: 'enroll-mfa' });
    const row = await h.db('tenant_admins').where({ id: created.body.admin.id }).first();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    const audit = await h.db('audit_events').where({ action: 'tenant_admin.created', target_id: row.id }).first();
    expect(JSON.stringify(audit)).not.toContain('new.admin');
    const listed = await operator.get(`/admin/tenants/${tenant.id}/admins`).set(json).expect(200);
    expect(listed.body.admins).toEqual([created.body.admin]);
    expect(JSON.stringify(listed.body)).not.toMatch(/password_?hash|argon2|totp|recovery/i);
  });

  it('disables an admin: every session ends and sign-in is refused', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const session = await signIn(built.agent(), h.clock, admin, tenant.slug);
    const disabled = await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/disable`)
      .set(json)
      .expect(200);
    expect(disabled.body).toMatchObject({ admin: { id: admin.id, disabled: true }, sessionsRevoked: 'done' });
    await session.get('/auth/me').set(json).expect(401);
    await built
      .agent()
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(401);
  });

  it('answers 404 for an unknown tenant and 400 for a malformed id', async () => {
    await operator
      .get('/admin/tenants/00000000-0000-4000-8000-00000000dead')
      .set(json)
      .expect(404, /tenant.not_found/);
    await operator
      .get('/admin/tenants/not-a-uuid')
      .set(json)
      .expect(400, /must be an id/);
    await operator.get('/admin/tenants/00000000-0000-4000-8000-00000000dead/mfa-resets').set(json).expect(404);
  });
});
