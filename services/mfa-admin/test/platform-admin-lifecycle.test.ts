// A disabled platform admin comes back the way a tenant admin does: re-enabled (the same
// account, factor and email), audited once, never by creating a second account with the email.
// Sessions from before the disable stay void: the revocation cut-off the disable wrote in the
// session store outlives the re-enable.
import type request from 'supertest';
import type { SessionStore } from '@portcullis/session-store';
import {
  type AdminHarness,
  type Built,
  createAdminHarness,
  createTenant,
  createTenantAdmin,
  csrfTokenIn,
  json,
  type SeededAdmin,
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

/** The lifecycle events on a platform admin (sign-ins are audited too, and left out here). */
const actions = async (targetId: string) =>
  (await h.db('audit_events').where({ target_id: targetId }).whereNot('action', 'like', 'auth.%').orderBy('seq')).map(
    (event: { action: string }) => event.action,
  );

const passwordStep = (admin: SeededAdmin) =>
  built.agent().post('/auth/login').set(json).send({ email: admin.email, password: admin.password });

describe('re-enabling a platform admin', () => {
  it('lets the same account sign in again with its password and unchanged authenticator; sessions from before the disable stay void even while their deletion is pending', async () => {
    // The session store refuses to delete sessions (the marker write works): the old session's
    // record survives the disable, so only the revocation cut-off keeps it out.
    const fault = { down: true };
    const faulty = h.build({
      revokeStore: (store: SessionStore) => ({
        destroyByUser: async (userId: string) => {
          if (fault.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
          return store.destroyByUser(userId);
        },
        revoke: (userId: string, cutOff: number, ttlMs: number) => store.revoke(userId, cutOff, ttlMs),
      }),
    });
    const runner = await signIn(faulty.agent(), h.clock, await h.seedPlatformAdmin());
    const second = await h.seedPlatformAdmin();
    const old = await signIn(faulty.agent(), h.clock, second);
    await old.get('/auth/me').set(json).expect(200);
    h.clock.advance(1000);

    const disabled = await runner.post(`/admin/platform-admins/${second.id}/disable`).set(json).expect(200);
    expect(disabled.body.sessionsRevoked).toBe('pending');
    await passwordStep(second).expect(401);

    const enabled = await runner.post(`/admin/platform-admins/${second.id}/enable`).set(json).expect(200);
    expect(enabled.body.platformAdmin).toMatchObject({ id: second.id, email: second.email, disabled: false });
    // The old session is still in the store, and still refused.
    await old.get('/auth/me').set(json).expect(401);
    await old.get('/admin/platform-admins').set(json).expect(401);

    // A fresh sign-in: password, then a code from the same authenticator (the next window).
    h.clock.advance(30_000);
    const again = faulty.agent();
    await again
      .post('/auth/login')
      .set(json)
      .send({ email: second.email, password: second.password })
      .expect(200, { assurance: 1, next: 'verify-mfa' });
    await again
      .post('/auth/mfa/verify')
      .set(json)
      .send({ code: await totpCode(second.totpSecret!, h.clock) })
      .expect(200);
    await again.get('/admin/platform-admins').set(json).expect(200);

    // Idempotent: a second re-enable changes and records nothing.
    const repeat = await runner.post(`/admin/platform-admins/${second.id}/enable`).set(json).expect(200);
    expect(repeat.body.platformAdmin.disabled).toBe(false);
    expect(await actions(second.id)).toEqual(['platform_admin.disabled', 'platform_admin.enabled']);
    const event = await h.db('audit_events').where({ action: 'platform_admin.enabled', target_id: second.id }).first();
    expect(event).toMatchObject({ tenant_id: null, target_type: 'platform_admin' });
    fault.down = false;
  });

  it('answers 404 for an unknown id and 400 for one that is not an id; an active admin is left as is', async () => {
    const missing = await operator
      .post('/admin/platform-admins/00000000-0000-4000-8000-000000000000/enable')
      .set(json)
      .expect(404);
    expect(missing.body.code).toBe('platform_admin.not_found');
    await operator
      .post('/admin/platform-admins/nope/enable')
      .set(json)
      .expect(400, /id: must be an id/);
    const active = await h.seedPlatformAdmin();
    await operator.post(`/admin/platform-admins/${active.id}/enable`).set(json).expect(200);
    expect(await actions(active.id)).toEqual([]);
  });

  it('is for platform admins only: a tenant admin gets 403, as a page in a browser, and nothing changes', async () => {
    const target = await h.seedPlatformAdmin();
    await operator.post(`/admin/platform-admins/${target.id}/disable`).set(json).expect(200);
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const agent = await signIn(built.agent(), h.clock, admin, tenant.slug);
    await agent
      .post(`/admin/platform-admins/${target.id}/enable`)
      .set(json)
      .expect(403, /auth.forbidden/);
    // A form post with the tenant admin's own valid CSRF token: refused for the role, not the form.
    const own = await agent.get('/auth/logout').set(html).expect(200);
    const page = await agent
      .post(`/admin/platform-admins/${target.id}/enable`)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(own.text) });
    expect(page.status).toBe(403);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('Not available to your role');
    expect((await h.db('platform_admins').where({ id: target.id }).first()).disabled_at).not.toBeNull();
    expect(await actions(target.id)).toEqual(['platform_admin.disabled']);
  });

  it('offers Re-enable beside a disabled admin only, and says what happened after the form post', async () => {
    const target = await h.seedPlatformAdmin();
    const before = await operator.get('/admin/platform-admins').set(html).expect(200);
    expect(before.text).not.toContain(`/admin/platform-admins/${target.id}/enable`);
    await operator.post(`/admin/platform-admins/${target.id}/disable`).set(json).expect(200);
    const page = await operator.get('/admin/platform-admins').set(html).expect(200);
    expect(page.text).toContain(`action="/admin/platform-admins/${target.id}/enable"`);
    expect(page.text).not.toContain(`action="/admin/platform-admins/${target.id}/disable"`);
    const done = await operator
      .post(`/admin/platform-admins/${target.id}/enable`)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text) })
      .expect(303);
    expect(done.headers.location).toBe('/admin/platform-admins?done=enabled');
    const after = await operator.get(done.headers.location!).set(html).expect(200);
    expect(after.text).toContain('Admin re-enabled: they can sign in again with their password and authenticator.');
    expect(after.text).toContain(`action="/admin/platform-admins/${target.id}/disable"`);
    expect((await h.db('platform_admins').where({ id: target.id }).first()).disabled_at).toBeNull();
    expect(await actions(target.id)).toEqual(['platform_admin.disabled', 'platform_admin.enabled']);
  });
});

describe("a disabled admin's email", () => {
  it('is not taken by a new platform admin (409 naming re-enable, as a page in a browser); re-enabling is the way back', async () => {
    const target = await h.seedPlatformAdmin();
    await operator.post(`/admin/platform-admins/${target.id}/disable`).set(json).expect(200);
    const refused = await operator
      .post('/admin/platform-admins')
      .set(json)
      .send({ email: target.email.toUpperCase() })
      .expect(409);
    expect(refused.body).toMatchObject({ code: 'resource.conflict', message: expect.stringMatching(/re-enable/) });
    const page = await operator.get('/admin/platform-admins').set(html).expect(200);
    const form = await operator
      .post('/admin/platform-admins')
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text), email: target.email })
      .expect(409);
    expect(form.type).toBe('text/html');
    expect(form.text).toContain('If that account is disabled, re-enable it');
    expect(await h.db('platform_admins').whereRaw('lower(email) = lower(?)', [target.email])).toHaveLength(1);
    await operator.post(`/admin/platform-admins/${target.id}/enable`).set(json).expect(200);
    await passwordStep(target).expect(200);
    expect(await actions(target.id)).toEqual(['platform_admin.disabled', 'platform_admin.enabled']);
  });

  it('is not taken by a new tenant admin of the same tenant either: the same rule and message', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    await operator.post(`/admin/tenants/${tenant.id}/admins/${admin.id}/disable`).set(json).expect(200);
    const refused = await operator
      .post(`/admin/tenants/${tenant.id}/admins`)
      .set(json)
      .send({ email: admin.email })
      .expect(409);
    expect(refused.body.message).toContain('If that account is disabled, re-enable it');
  });
});
