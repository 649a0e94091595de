// No session before there is something to keep: the sign-in page renders, and a refused sign-in
// answers, without a store entry; the form stays CSRF-protected by a signed cookie instead.
import request from 'supertest';
import {
  createHarness,
  createTenant,
  createTenantAdmin,
  csrfTokenIn,
  type Harness,
} from '../../../test/support/auth-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('anonymous sign-in pages', () => {
  it('leaves the session store empty after 1,000 anonymous sign-in page views and a refused sign-in', async () => {
    const { app, store } = h.build();
    const server = app.callback();
    for (let batch = 0; batch < 20; batch++) {
      const views = await Promise.all(
        Array.from({ length: 50 }, () => request(server).get('/auth/login').set('Accept', 'text/html')),
      );
      for (const view of views) expect(view.status).toBe(200);
    }
    const json = await request(server).get('/auth/login').set('Accept', 'application/json').expect(200);
    expect(json.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
    // A wrong password from the form re-renders it with a fresh token, still without a session.
    const agent = request.agent(server);
    const page = await agent.get('/auth/login').set('Accept', 'text/html').expect(200);
    const refused = await agent
      .post('/auth/login')
      .type('form')
      .set('Accept', 'text/html')
      .send({ _csrf: csrfTokenIn(page.text), email: 'nobody@example.com', password: 'wrong password' })
      .expect(401);
    expect(refused.text).toContain('name="_csrf"');
    const cookies = ([] as string[]).concat(refused.headers['set-cookie'] ?? []);
    expect(cookies.filter((cookie) => cookie.startsWith('portcullis.sid='))).toEqual([]);
    expect((await store.count()).live).toBe(0);
  });

  it('still refuses a sign-in form without the token of its own browser, and signs in with it', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const victim = request.agent(app.callback());
    const attacker = request.agent(app.callback());
    const form = { tenant: tenant.slug, email: admin.email, password: admin.password };
    const victimPage = await victim.get('/auth/login').expect(200);
    const attackerPage = await attacker.get('/auth/login').expect(200);
    await victim
      .post('/auth/login')
      .type('form')
      .send(form)
      .expect(403, /did not come from this site/);
    // The attacker's own valid token does not match the victim's cookie (login CSRF).
    await victim
      .post('/auth/login')
      .type('form')
      .send({ ...form, _csrf: csrfTokenIn(attackerPage.text) })
      .expect(403);
    // Nor does a cookie that was not signed by the service.
    await request(app.callback())
      .post('/auth/login')
      .set('Cookie', `portcullis.sid.csrf=${csrfTokenIn(attackerPage.text)}`)
      .type('form')
      .send({ ...form, _csrf: csrfTokenIn(attackerPage.text) })
      .expect(403);
    await victim
      .post('/auth/login')
      .type('form')
      .send({ ...form, _csrf: csrfTokenIn(victimPage.text) })
      .expect(303)
      .expect('location', '/auth/mfa');
  });
});
