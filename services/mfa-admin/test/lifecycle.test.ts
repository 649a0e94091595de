// The lifecycle an operator needs beyond create/disable/suspend: re-enable an admin, unsuspend a
// tenant, sign an admin out without disabling them, each audited; and the confirmation step a
// browser form must pass before any destructive action.
import type request from 'supertest';
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

const login = (tenant: { slug: string }, admin: { email: string; password: string }) =>
  built
    .agent()
    .post('/auth/login')
    .set(json)
    .send({ tenant: tenant.slug, email: admin.email, password: admin.password });
/** The lifecycle events on a target (sign-ins are audited too, and left out here). */
const actions = async (targetId: string) =>
  (await h.db('audit_events').where({ target_id: targetId }).whereNot('action', 'like', 'auth.%').orderBy('seq')).map(
    (event: { action: string }) => event.action,
  );

describe('re-enable and unsuspend', () => {
  it('re-enables a disabled admin: the same account signs in again, old sessions stay void, both steps audited', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const old = await signIn(built.agent(), h.clock, admin, tenant.slug);
    await operator.post(`/admin/tenants/${tenant.id}/admins/${admin.id}/disable`).set(json).expect(200);
    await login(tenant, admin).expect(401);
    const enabled = await operator.post(`/admin/tenants/${tenant.id}/admins/${admin.id}/enable`).set(json).expect(200);
    expect(enabled.body.admin).toMatchObject({ id: admin.id, email: admin.email, disabled: false, mfaEnrolled: true });
    await login(tenant, admin).expect(200);
    await old.get('/auth/me').set(json).expect(401);
    // Idempotent: enabling an enabled admin records nothing more.
    await operator.post(`/admin/tenants/${tenant.id}/admins/${admin.id}/enable`).set(json).expect(200);
    expect(await actions(admin.id)).toEqual(['tenant_admin.disabled', 'tenant_admin.enabled']);
  });

  it('unsuspends a tenant: its admins sign in again; audited once', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    await operator.post(`/admin/tenants/${tenant.id}/suspend`).set(json).expect(200);
    await login(tenant, admin).expect(401);
    const back = await operator.post(`/admin/tenants/${tenant.id}/unsuspend`).set(json).expect(200);
    expect(back.body.tenant).toMatchObject({ id: tenant.id, status: 'active' });
    await operator.post(`/admin/tenants/${tenant.id}/unsuspend`).set(json).expect(200);
    await login(tenant, admin).expect(200);
    expect(await actions(tenant.id)).toEqual(['tenant.suspended', 'tenant.unsuspended']);
  });

  it('signs an admin out everywhere without disabling them', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const session = await signIn(built.agent(), h.clock, admin, tenant.slug);
    h.clock.advance(1000);
    const result = await operator.post(`/admin/tenants/${tenant.id}/admins/${admin.id}/sign-out`).set(json).expect(200);
    expect(result.body).toMatchObject({ admin: { disabled: false }, sessionsRevoked: 'done' });
    await session.get('/auth/me').set(json).expect(401);
    // The next TOTP window: the first sign-in's code was used once already.
    h.clock.advance(30_000);
    await signIn(built.agent(), h.clock, admin, tenant.slug);
    expect(await actions(admin.id)).toEqual(['tenant_admin.signed_out']);
  });

  it('answers 404 for an admin of another tenant', async () => {
    const [tenant, other] = [await createTenant(h.db), await createTenant(h.db)];
    const admin = await createTenantAdmin(h, tenant.id);
    for (const action of ['enable', 'sign-out', 'disable'])
      await operator.post(`/admin/tenants/${other.id}/admins/${admin.id}/${action}`).set(json).expect(404);
  });
});

describe('confirmation of destructive form posts', () => {
  it('shows what Disable will do before doing it, then disables on the confirmed post and says so', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const page = await operator.get(`/admin/tenants/${tenant.id}`).set(html).expect(200);
    const path = `/admin/tenants/${tenant.id}/admins/${admin.id}/disable`;
    const ask = await operator
      .post(path)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text) })
      .expect(200);
    expect(ask.text).toContain(`Disable ${admin.email}?`);
    expect(ask.text).toContain('name="confirm" value="yes"');
    expect((await h.db('tenant_admins').where({ id: admin.id }).first()).disabled_at).toBeNull();
    const done = await operator
      .post(path)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(ask.text), confirm: 'yes' })
      .expect(303);
    expect((await h.db('tenant_admins').where({ id: admin.id }).first()).disabled_at).not.toBeNull();
    const after = await operator.get(done.headers.location!).set(html).expect(200);
    expect(after.text).toMatch(/Admin disabled\. Their sessions have been ended\./);
    expect(after.text).toContain('Re-enable');
  });

  it('asks before suspending a tenant and before resetting MFA, keeping the typed reason on the confirmation', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const page = await operator.get(`/admin/tenants/${tenant.id}`).set(html).expect(200);
    const ask = await operator
      .post(`/admin/tenants/${tenant.id}/suspend`)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text) })
      .expect(200);
    expect(ask.text).toContain('Suspend tenant');
    expect((await h.db('tenants').where({ id: tenant.id }).first()).status).toBe('active');
    const reset = await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
      .type('form')
      .set(html)
      .send({
        _csrf: csrfTokenIn(page.text),
        _return: `/admin/tenants/${tenant.id}`,
        reason: 'Lost phone <b>',
        ticket: 'T-1',
      })
      .expect(200);
    expect(reset.text).toContain('value="Lost phone &lt;b&gt;"');
    expect((await h.db('tenant_admins').where({ id: admin.id }).first()).mfa_enabled).toBe(true);
    const done = await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
      .type('form')
      .set(html)
      .send({
        _csrf: csrfTokenIn(reset.text),
        _return: `/admin/tenants/${tenant.id}`,
        reason: 'Lost phone <b>',
        ticket: 'T-1',
        confirm: 'yes',
      })
      .expect(303);
    const history = await operator.get(done.headers.location!).set(html).expect(200);
    expect(history.text).toContain(
      'MFA reset. At their next sign-in they must enrol a new authenticator. Their sessions have been ended.',
    );
  });
});

describe('who is signed in', () => {
  it('lists a tenant’s live sessions with admin, times, address and browser, and ends one after confirming', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const session = await signIn(built.agent(), h.clock, admin, tenant.slug);
    const list = await operator.get(`/admin/tenants/${tenant.id}/sessions`).set(json).expect(200);
    expect(list.body.sessions).toHaveLength(1);
    expect(list.body.sessions[0]).toMatchObject({
      adminId: admin.id,
      adminEmail: admin.email,
      assurance: 2,
      ip: expect.any(String),
    });
    const id = list.body.sessions[0].id as string;

    const page = await operator.get(`/admin/tenants/${tenant.id}/sessions`).set(html).expect(200);
    expect(page.text).toContain(admin.email);
    const ask = await operator
      .post(`/admin/tenants/${tenant.id}/sessions/${id}/end`)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text) })
      .expect(200);
    expect(ask.text).toContain(`<h1>End this session of ${admin.email}?</h1>`);
    await session.get('/auth/me').set(json).expect(200);
    await operator
      .post(`/admin/tenants/${tenant.id}/sessions/${id}/end`)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(ask.text), confirm: 'yes' })
      .expect(303);
    await session.get('/auth/me').set(json).expect(401);
    expect(await actions(admin.id)).toEqual(['session.ended_by_platform_admin']);
    expect((await operator.get(`/admin/tenants/${tenant.id}/sessions`).set(json).expect(200)).body.sessions).toEqual(
      [],
    );
  });

  it('answers 404 for a session of another tenant’s admin and leaves it alive', async () => {
    const [tenant, other] = [await createTenant(h.db), await createTenant(h.db)];
    const admin = await createTenantAdmin(h, tenant.id);
    const session = await signIn(built.agent(), h.clock, admin, tenant.slug);
    const id = (await operator.get(`/admin/tenants/${tenant.id}/sessions`).set(json).expect(200)).body.sessions[0]
      .id as string;
    await operator.post(`/admin/tenants/${other.id}/sessions/${id}/end`).set(json).expect(404);
    await session.get('/auth/me').set(json).expect(200);
  });
});

describe('typed reasons are not lost', () => {
  it('fills the reset form again after the re-authentication detour, once', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const platform = await h.seedPlatformAdmin();
    const stale = await signIn(built.agent(), h.clock, platform);
    h.clock.advance(10 * 60_000);
    const page = await stale.get(`/admin/tenants/${tenant.id}`).set(html).expect(200);
    await stale
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
      .type('form')
      .set(html)
      .send({
        _csrf: csrfTokenIn(page.text),
        _return: `/admin/tenants/${tenant.id}`,
        reason: 'Phone stolen on the train',
        ticket: 'INC-42',
      })
      .expect(303)
      .expect('location', /^\/auth\/reauthenticate/);
    await stale
      .post('/auth/reauthenticate')
      .set(json)
      .send({ password: platform.password, code: await totpCode(platform.totpSecret!, h.clock) })
      .expect(200);
    const back = await stale.get(`/admin/tenants/${tenant.id}`).set(html).expect(200);
    expect(back.text).toContain('<details open><summary>Reset MFA</summary>');
    expect(back.text).toContain('>Phone stolen on the train</textarea>');
    expect(back.text).toContain('value="INC-42"');
    expect((await stale.get(`/admin/tenants/${tenant.id}`).set(html).expect(200)).text).not.toContain(
      'Phone stolen on the train',
    );
  });

  it('shows a refused rollback (409) with its reason still typed', async () => {
    // Signed in just now: the earlier test moved the clock past the re-authentication window.
    const operator = await signIn(built.agent(), h.clock, await h.seedPlatformAdmin());
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const reset = await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
      .set(json)
      .send({ reason: 'Lost phone' })
      .expect(200);
    // She enrolled a new authenticator since: a rollback without force is refused.
    await h.db('tenant_admins').where({ id: admin.id }).update({ mfa_enabled: true });
    const history = `/admin/tenants/${tenant.id}/admins/${admin.id}/mfa-resets`;
    const page = await operator.get(history).set(html).expect(200);
    const refused = await operator
      .post(`/admin/mfa-resets/${reset.body.reset.id}/rollback`)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text), _return: history, reason: 'The caller was not her', confirm: 'yes' })
      .expect(409);
    expect(refused.text).toContain('enrolled a new authenticator since this reset');
    expect(refused.text).toContain('>The caller was not her</textarea>');
  });
});

describe('platform admins', () => {
  it('creates a second platform admin who must change the password and enrol, and disables them after confirming', async () => {
    const created = await operator
      .post('/admin/platform-admins')
      .set(json)
      .send({ email: 'second.operator@example.com' })
      .expect(200);
    expect(created.headers['cache-control']).toBe('no-store');
    expect(created.body.platformAdmin).toMatchObject({
      email: 'second.operator@example.com',
      mfaEnrolled: false,
      mustChangePassword: true,
      disabled: false,
    });
    const second = built.agent();
    await second
      .post('/auth/login')
      .set(json)
      .send({ email: 'second.operator@example.com', password: created.body.temporaryPassword })
      .expect(200, { assurance: 1, next: 'enroll-mfa' });
    const id = created.body.platformAdmin.id as string;

    const page = await operator.get('/admin/platform-admins').set(html).expect(200);
    expect(page.text).toContain('second.operator@example.com');
    const ask = await operator
      .post(`/admin/platform-admins/${id}/disable`)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text) })
      .expect(200);
    expect(ask.text).toContain('Disable platform admin second.operator@example.com?');
    await operator
      .post(`/admin/platform-admins/${id}/disable`)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(ask.text), confirm: 'yes' })
      .expect(303);
    await built
      .agent()
      .post('/auth/login')
      .set(json)
      .send({ email: 'second.operator@example.com', password: created.body.temporaryPassword })
      .expect(401);
    expect(await actions(id)).toEqual(['platform_admin.created', 'platform_admin.disabled']);
  });

  it('refuses to disable yourself', async () => {
    const self = await h.seedPlatformAdmin();
    const agent = await signIn(built.agent(), h.clock, self);
    await agent
      .post(`/admin/platform-admins/${self.id}/disable`)
      .set(json)
      .expect(409, /platform_admin.self/);
  });
});

describe('unlock and temporary password', () => {
  it('shows a lockout on the tenant page and lifts it', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const until = new Date(h.clock.now() + 30 * 60_000);
    await h.db('tenant_admins').where({ id: admin.id }).update({ locked_until: until, failed_attempts: 7 });
    await login(tenant, admin).expect(401);
    const page = await operator.get(`/admin/tenants/${tenant.id}`).set(html).expect(200);
    expect(page.text).toContain(`locked until ${until.toISOString()}`);
    expect(page.text).toContain('Unlock now');
    const unlocked = await operator.post(`/admin/tenants/${tenant.id}/admins/${admin.id}/unlock`).set(json).expect(200);
    expect(unlocked.body.admin.lockedUntil).toBeNull();
    await login(tenant, admin).expect(200);
    expect(await actions(admin.id)).toEqual(['tenant_admin.unlocked']);
  });

  it('gives a temporary password once: the old one stops working, sessions end, the next sign-in must change it', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const session = await signIn(built.agent(), h.clock, admin, tenant.slug);
    h.clock.advance(1000);
    const reset = await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/password-reset`)
      .set(json)
      .expect(200);
    expect(reset.headers['cache-control']).toBe('no-store');
    expect(reset.body).toMatchObject({
      admin: { mustChangePassword: true, mfaEnrolled: true },
      sessionsRevoked: 'done',
    });
    await session.get('/auth/me').set(json).expect(401);
    await login(tenant, admin).expect(401);
    h.clock.advance(30_000);
    const agent = built.agent();
    await agent
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: reset.body.temporaryPassword })
      .expect(200, { assurance: 1, next: 'verify-mfa' });
    const verified = await agent
      .post('/auth/mfa/verify')
      .set(json)
      .send({ code: await totpCode(admin.totpSecret!, h.clock) })
      .expect(200);
    expect(verified.body.next).toBe('change-password');
    expect(await actions(admin.id)).toEqual(['tenant_admin.password_reset']);
  });
});

describe('renaming a tenant', () => {
  it('changes the display name, keeps the sign-in slug, and records from and to', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const page = await operator.get(`/admin/tenants/${tenant.id}`).set(html).expect(200);
    const done = await operator
      .post(`/admin/tenants/${tenant.id}/rename`)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text), name: 'Acme & Sons' })
      .expect(303);
    expect((await operator.get(done.headers.location!).set(html).expect(200)).text).toContain('Tenant renamed.');
    const view = await operator.get(`/admin/tenants/${tenant.id}`).set(json).expect(200);
    expect(view.body.tenant).toMatchObject({ slug: tenant.slug, name: 'Acme & Sons' });
    await operator.post(`/admin/tenants/${tenant.id}/rename`).set(json).send({ name: '' }).expect(400);
    await login(tenant, admin).expect(200);
    const event = await h.db('audit_events').where({ action: 'tenant.renamed', target_id: tenant.id }).first();
    expect(event.details).toEqual({ from: tenant.slug, to: 'Acme & Sons' });
  });
});
