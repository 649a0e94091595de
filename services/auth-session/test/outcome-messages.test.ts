// What a person is told when a second factor is refused: a locked account says so and until
// when (a right code used to read as a wrong one), and a spent recovery code is not called a
// wrong app code.
import request from 'supertest';
import {
  createHarness,
  createTenant,
  createTenantAdmin,
  csrfTokenIn,
  type Harness,
  json,
  totpCode,
} from '../../../test/support/auth-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('second-factor outcomes', () => {
  it('tells a locked account that it is locked and until when, even for a right code', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const agent = request.agent(app.callback());
    await agent
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200);
    const until = new Date(h.clock.now() + 10 * 60_000);
    await h.db('tenant_admins').where({ id: admin.id }).update({ locked_until: until });
    const refused = await agent
      .post('/auth/mfa/verify')
      .set(json)
      .send({ code: await totpCode(admin.totpSecret!, h.clock) })
      .expect(401);
    expect(refused.body).toMatchObject({ code: 'auth.locked', data: { lockedUntil: until.toISOString() } });
    expect(refused.body.message).toContain(`locked until ${until.toISOString().slice(11, 16)} UTC`);
  });

  it('asks for the set-up first when a code comes before enrolment, without naming an API path', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id, { mfa: false });
    const { app } = h.build();
    const agent = request.agent(app.callback());
    await agent
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200);
    const refused = await agent.post('/auth/mfa/verify').set(json).send({ code: '123456' }).expect(409);
    expect(refused.body).toMatchObject({ code: 'mfa.not_enrolled', message: 'Set up an authenticator first.' });
  });

  it('says a spent recovery code was used already, on the page as well', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id, { recoveryCodes: ['abcd-efgh-jkmn', 'pqrs-tuvw-xyz2'] });
    const { app } = h.build();
    const first = request.agent(app.callback());
    await first
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200);
    await first.post('/auth/mfa/verify').set(json).send({ code: 'abcd-efgh-jkmn' }).expect(200);
    const again = request.agent(app.callback());
    await again
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200);
    const refused = await again.post('/auth/mfa/verify').set(json).send({ code: 'abcd-efgh-jkmn' }).expect(401);
    expect(refused.body.code).toBe('auth.invalid_recovery_code');
    const page = await again.get('/auth/mfa').set('Accept', 'text/html').expect(200);
    const token = csrfTokenIn(page.text);
    const shown = await again
      .post('/auth/mfa/verify')
      .type('form')
      .set('Accept', 'text/html')
      .send({ _csrf: token, code: 'abcd-efgh-jkmn' })
      .expect(401);
    expect(shown.text).toContain('has been used already');
    expect(shown.text).not.toContain('wait for the next one');
  });
});
