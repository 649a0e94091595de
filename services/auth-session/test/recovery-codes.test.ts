// Self-service recovery codes: the count on the account, and a new set that replaces every old
// code, only after a recent password + code confirmation, audited.
import request from 'supertest';
import {
  createHarness,
  createTenant,
  createTenantAdmin,
  csrfTokenIn,
  type Harness,
  json,
  signInFully,
  totpCode,
} from '../../../test/support/auth-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('recovery codes', () => {
  it('shows how many are left and replaces them all after a fresh confirmation; old codes stop working', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id, { recoveryCodes: ['abcd-efgh-jkmn', 'pqrs-tuvw-xyz2'] });
    const { app } = h.build();
    const agent = await signInFully(app, h.clock, tenant.slug, admin);
    expect((await agent.get('/auth/recovery-codes').set(json).expect(200)).body).toEqual({ remaining: 2 });
    const page = await agent.get('/auth/recovery-codes').set('Accept', 'text/html').expect(200);
    expect(page.text).toContain('<strong>2</strong> unused recovery codes of 10');

    // Later than the re-authentication window: a stolen session alone cannot swap the codes.
    h.clock.advance(10 * 60_000);
    await agent
      .post('/auth/recovery-codes')
      .set(json)
      .expect(403, /auth.reauthentication_required/);
    await agent
      .post('/auth/reauthenticate')
      .set(json)
      .send({ password: admin.password, code: await totpCode(admin.totpSecret!, h.clock) })
      .expect(200);
    const fresh = await agent.post('/auth/recovery-codes').set(json).expect(200);
    expect(fresh.headers['cache-control']).toBe('no-store');
    const codes = fresh.body.recoveryCodes as string[];
    expect(codes).toHaveLength(10);
    expect((await agent.get('/auth/recovery-codes').set(json).expect(200)).body).toEqual({ remaining: 10 });
    expect(
      await h.db('audit_events').where({ action: 'auth.recovery_codes_regenerated', actor_id: admin.id }),
    ).toHaveLength(1);

    const old = request.agent(app.callback());
    await old
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200);
    await old.post('/auth/mfa/verify').set(json).send({ code: 'abcd-efgh-jkmn' }).expect(401);
    await old.post('/auth/mfa/verify').set(json).send({ code: codes[0] }).expect(200);
  });

  it('does the same from the pages: the form goes through the re-authentication detour, then shows the new codes once, never cached', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const agent = await signInFully(app, h.clock, tenant.slug, admin);
    const html = { Accept: 'text/html' };
    h.clock.advance(10 * 60_000);
    const status = await agent.get('/auth/recovery-codes').set(html).expect(200);
    const detour = await agent
      .post('/auth/recovery-codes')
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(status.text), _return: '/auth/recovery-codes' })
      .expect(303);
    expect(detour.headers.location).toBe('/auth/reauthenticate?next=%2Fauth%2Frecovery-codes');
    expect(
      await h.db('audit_events').where({ action: 'auth.recovery_codes_regenerated', actor_id: admin.id }),
    ).toHaveLength(0);
    await agent
      .post('/auth/reauthenticate')
      .set(json)
      .send({ password: admin.password, code: await totpCode(admin.totpSecret!, h.clock) })
      .expect(200);
    const again = await agent.get('/auth/recovery-codes').set(html).expect(200);
    const shown = await agent
      .post('/auth/recovery-codes')
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(again.text), _return: '/auth/recovery-codes' })
      .expect(200);
    expect(shown.headers['content-type']).toMatch(/html/);
    expect(shown.headers['cache-control']).toBe('no-store');
    expect(shown.text.match(/<li><code>[^<]+<\/code><\/li>/g)).toHaveLength(10);
    expect((await agent.get('/auth/recovery-codes').set(json).expect(200)).body).toEqual({ remaining: 10 });
  });
});
