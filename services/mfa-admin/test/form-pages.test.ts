// What a browser sees around a form post: a refused create form comes back with what was typed
// (never a secret), and a confirmation page names whom it is about and shows the carried fields
// under readable labels, empty ones left out.
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
} from '../../../test/support/admin-harness.js';

const html = { Accept: 'text/html' };
/** The form posting to `action`, as rendered. */
const formOf = (text: string, action: string) =>
  new RegExp(`<form method="post" action="${action}">[\\s\\S]*?</form>`).exec(text)?.[0] ?? '';

let h: AdminHarness;
let built: Built;
let operator: ReturnType<typeof request.agent>;
beforeAll(async () => {
  h = await createAdminHarness();
  built = h.build();
  operator = await signIn(built.agent(), h.clock, await h.seedPlatformAdmin());
});
afterAll(() => h.close());

describe('a refused create form keeps what was typed', () => {
  it('new tenant: a taken slug (409) and a malformed one (400) show the form again, filled and escaped', async () => {
    const taken = await createTenant(h.db);
    const page = await operator.get('/admin/tenants').set(html).expect(200);
    const refused = await operator
      .post('/admin/tenants')
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text), slug: taken.slug, name: 'Acme "Two" <Ltd>', password: 'never-echo-me' })
      .expect(409);
    expect(refused.type).toBe('text/html');
    expect(refused.text).toContain('A tenant with this slug exists already');
    const form = formOf(refused.text, '/admin/tenants');
    expect(form).toContain(`value="${taken.slug}"`);
    expect(form).toContain('value="Acme &quot;Two&quot; &lt;Ltd&gt;"');
    expect(refused.text).not.toContain('never-echo-me');

    const malformed = await operator
      .post('/admin/tenants')
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(refused.text), slug: '-bad slug', name: 'Kept name' })
      .expect(400);
    expect(malformed.text).toContain('slug: must be 2–63 letters');
    expect(formOf(malformed.text, '/admin/tenants')).toContain('value="-bad slug"');
    expect(formOf(malformed.text, '/admin/tenants')).toContain('value="Kept name"');
    // The JSON API is unchanged: the catalogue's code, the same message.
    const api = await operator.post('/admin/tenants').set(json).send({ slug: taken.slug, name: 'x' }).expect(409);
    expect(api.body).toMatchObject({ code: 'resource.conflict', message: expect.stringMatching(/slug exists/) });
  });

  it('new tenant admin: a taken email (409) shows the tenant page with the email typed', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const page = await operator.get(`/admin/tenants/${tenant.id}`).set(html).expect(200);
    const typed = admin.email.toUpperCase();
    const refused = await operator
      .post(`/admin/tenants/${tenant.id}/admins`)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text), email: typed })
      .expect(409);
    expect(refused.text).toContain('If that account is disabled, re-enable it');
    expect(formOf(refused.text, `/admin/tenants/${tenant.id}/admins`)).toContain(`value="${typed}"`);
    // Other forms on the page stay as they were.
    expect(formOf(refused.text, `/admin/tenants/${tenant.id}/rename`)).toContain(`value="${tenant.slug}"`);
  });

  it('new platform admin: a taken email (409) shows the platform admins page with the email typed', async () => {
    const other = await h.seedPlatformAdmin();
    const page = await operator.get('/admin/platform-admins').set(html).expect(200);
    const refused = await operator
      .post('/admin/platform-admins')
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text), email: other.email })
      .expect(409);
    expect(refused.text).toContain('If that account is disabled, re-enable it');
    expect(formOf(refused.text, '/admin/platform-admins')).toContain(`value="${other.email}"`);
  });

  it('renaming: a refused name (400) opens the rename form with it', async () => {
    const tenant = await createTenant(h.db);
    const page = await operator.get(`/admin/tenants/${tenant.id}`).set(html).expect(200);
    const refused = await operator
      .post(`/admin/tenants/${tenant.id}/rename`)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text), name: 'x'.repeat(201) })
      .expect(400);
    expect(refused.text).toContain('<details open><summary>Rename</summary>');
    expect(formOf(refused.text, `/admin/tenants/${tenant.id}/rename`)).toContain(`value="${'x'.repeat(201)}"`);
  });
});

describe('confirmation pages say whom they are about', () => {
  it('an MFA reset names the admin and the tenant, and shows Reason and Ticket (an empty ticket left out)', async () => {
    const tenant = await createTenant(h.db);
    await h.db('tenants').where({ id: tenant.id }).update({ name: 'Acme & Sons' });
    const admin = await createTenantAdmin(h, tenant.id);
    const page = await operator.get(`/admin/tenants/${tenant.id}`).set(html).expect(200);
    const post = (fields: Record<string, string>) =>
      operator
        .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
        .type('form')
        .set(html)
        .send({ _csrf: csrfTokenIn(page.text), _return: `/admin/tenants/${tenant.id}`, ...fields })
        .expect(200);
    const ask = await post({ reason: 'Lost phone', ticket: '' });
    expect(ask.text).toContain(`<h1>Reset ${admin.email}’s MFA?</h1>`);
    expect(ask.text).toContain(`<dt>Admin</dt><dd>${admin.email}</dd>`);
    expect(ask.text).toContain(`<dt>Tenant</dt><dd>Acme &amp; Sons (${tenant.slug})</dd>`);
    expect(ask.text).toContain('<dt>Reason</dt><dd>Lost phone</dd>');
    expect(ask.text).not.toContain('<dt>Ticket</dt>');
    expect(ask.text).not.toMatch(/<dt>(reason|ticket|_return)<\/dt>/);
    // Still posted again unchanged.
    expect(ask.text).toContain('<input type="hidden" name="ticket" value="">');
    expect((await post({ reason: 'Lost phone', ticket: 'INC-7' })).text).toContain('<dt>Ticket</dt><dd>INC-7</dd>');
  });

  it('a rollback names the admin and the tenant, with readable labels', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const reset = await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
      .set(json)
      .send({ reason: 'Lost phone' })
      .expect(200);
    const history = `/admin/tenants/${tenant.id}/admins/${admin.id}/mfa-resets`;
    const page = await operator.get(history).set(html).expect(200);
    const ask = await operator
      .post(`/admin/mfa-resets/${reset.body.reset.id}/rollback`)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text), _return: history, reason: 'Found it', forceReason: '' })
      .expect(200);
    expect(ask.text).toContain('<h1>Restore the authenticator from before the reset?</h1>');
    expect(ask.text).toContain(`<dt>Admin</dt><dd>${admin.email}</dd>`);
    expect(ask.text).toContain(`<dt>Tenant</dt><dd>${tenant.slug} (${tenant.slug})</dd>`);
    expect(ask.text).toContain('<dt>Reason</dt><dd>Found it</dd>');
    expect(ask.text).not.toMatch(/<dt>(reason|forceReason|Reason for replacing it)<\/dt>/);
  });

  it('an unknown admin is a 404 before anything is asked', async () => {
    const [tenant, other] = [await createTenant(h.db), await createTenant(h.db)];
    const admin = await createTenantAdmin(h, other.id);
    const page = await operator.get(`/admin/tenants/${tenant.id}`).set(html).expect(200);
    await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text), reason: 'Lost phone' })
      .expect(404);
  });
});
