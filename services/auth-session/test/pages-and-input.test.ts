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

describe('browser pages', () => {
  it('sign in with forms only: CSRF token required, pages without script under a strict CSP', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const agent = request.agent(app.callback());
    const page = await agent.get('/auth/login').expect(200).expect('content-type', /html/);
    expect(page.text).not.toContain('<script');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    const form = { tenant: tenant.slug, email: admin.email, password: admin.password };

    await agent
      .post('/auth/login')
      .type('form')
      .send(form)
      .expect(403, /did not come from this site/);
    await agent
      .post('/auth/login')
      .type('form')
      .send({ ...form, _csrf: 'forged' })
      .expect(403);
    await agent
      .post('/auth/login')
      .type('form')
      .send({ ...form, _csrf: csrfTokenIn(page.text) })
      .expect(303)
      .expect('location', '/auth/mfa');

    const challenge = await agent.get('/auth/mfa').expect(200);
    await agent
      .post('/auth/mfa/verify')
      .type('form')
      .send({ code: await totpCode(admin.totpSecret!, h.clock), _csrf: csrfTokenIn(challenge.text) })
      .expect(303)
      .expect('location', '/auth/me');
    const home = await agent.get('/auth/me').expect(200);
    expect(home.text).toContain(admin.email);
    await agent.post('/auth/logout').type('form').send({}).expect(403);
    await agent
      .post('/auth/logout')
      .type('form')
      .send({ _csrf: csrfTokenIn(home.text) })
      .expect(303)
      .expect('location', '/auth/login');
    await agent.get('/auth/me').set('Accept', 'application/json').expect(401);
  });

  it('sends a browser that opens a page it cannot see yet to the sign-in step it needs; API clients get the error', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const agent = request.agent(app.callback());
    const html = { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    await agent.get('/auth/me').set(html).expect(303).expect('location', '/auth/login');
    await agent
      .get('/auth/me')
      .set(json)
      .expect(401, /auth.unauthenticated/);
    await agent
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200);
    await agent.get('/auth/me').set(html).expect(303).expect('location', '/auth/mfa');
    await agent
      .get('/auth/me')
      .set(json)
      .expect(403, /auth.mfa_required/);
    // A form post is never turned into a redirect: the browser shows what was refused.
    await agent.post('/auth/sessions/revoke-others').type('form').set(html).send({}).expect(403);
  });

  it('brings a browser back to the page it first asked for once it is signed in fully, once', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const agent = request.agent(app.callback());
    const html = { Accept: 'text/html' };
    await agent.get('/auth/sessions').set(html).expect(303).expect('location', '/auth/login?next=%2Fauth%2Fsessions');
    const login = await agent.get('/auth/login?next=%2Fauth%2Fsessions').set(html).expect(200);
    expect(login.text).toContain('name="next" value="/auth/sessions"');
    expect((await agent.get('/auth/login?next=%2F%2Fevil.example').set(html).expect(200)).text).not.toContain(
      'name="next"',
    );
    await agent
      .post('/auth/login')
      .type('form')
      .set(html)
      .send({
        _csrf: csrfTokenIn(login.text),
        next: '/auth/sessions',
        tenant: tenant.slug,
        email: admin.email,
        password: admin.password,
      })
      .expect(303)
      .expect('location', '/auth/mfa');
    const challenge = await agent.get('/auth/mfa').set(html).expect(200);
    await agent
      .post('/auth/mfa/verify')
      .type('form')
      .set(html)
      .send({ code: await totpCode(admin.totpSecret!, h.clock), _csrf: csrfTokenIn(challenge.text) })
      .expect(303)
      .expect('location', '/auth/sessions');
    // Used once: the next completed step goes home.
    const password = await agent.get('/auth/password').set(html).expect(200);
    await agent
      .post('/auth/password')
      .type('form')
      .set(html)
      .send({
        _csrf: csrfTokenIn(password.text),
        currentPassword: admin.password,
        newPassword: 'another long passphrase 42',
      })
      .expect(303)
      .expect('location', '/auth/me');
  });

  it('shows a refused form again with the message instead of a JSON error', async () => {
    const { app } = h.build();
    const agent = request.agent(app.callback());
    const page = await agent.get('/auth/login').expect(200);
    const refused = await agent
      .post('/auth/login')
      .type('form')
      .send({ email: 'someone@example.com', password: 'wrong-password!', _csrf: csrfTokenIn(page.text) })
      .expect(401);
    expect(refused.text).toContain('role="alert"');
    expect(refused.text).toContain('value="someone@example.com"');
    expect(refused.text).not.toContain('wrong-password!');
  });

  it('refuses unsafe requests that are neither JSON nor a form (cross-site no-cors fetch)', async () => {
    const { app } = h.build();
    await request(app.callback()).post('/auth/login').set('Content-Type', 'text/plain').send('email=a').expect(415);
    await request(app.callback()).post('/auth/logout').expect(415);
  });
});

describe('bad input gets a 400 with a clear message, never a 500', () => {
  const cases: [string, string, unknown, RegExp][] = [
    ['missing fields', '/auth/login', {}, /email: is required/],
    ['wrong types', '/auth/login', { email: 42, password: ['x'] }, /email/],
    [
      'a zero-width space in the email',
      '/auth/login',
      { email: 'ad\u200bmin@example.com', password: 'x' },
      /plain ASCII/,
    ],
    ['a fullwidth lookalike email', '/auth/login', { email: 'ａdmin@example.com', password: 'x' }, /plain ASCII/],
    [
      'a right-to-left override in the email',
      '/auth/login',
      { email: 'admin\u202e@example.com', password: 'x' },
      /plain ASCII/,
    ],
    [
      'a tenant that is not a slug',
      '/auth/login',
      { tenant: '../etc', email: 'a@example.com', password: 'x' },
      /tenant slug/,
    ],
    ['an overlong password', '/auth/login', { email: 'a@example.com', password: 'x'.repeat(300) }, /at most 256/],
    ['invalid JSON', '/auth/login', '{"email":', /./],
    ['an oversized body', '/auth/login', { email: 'a@example.com', password: 'x'.repeat(20_000) }, /too large|larger/],
  ];

  it.each(cases)('%s', async (_name, path, body, message) => {
    const { app } = h.build();
    const response = await request(app.callback())
      .post(path)
      .set(json)
      .send(body as object);
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(message);
  });

  it('on routes behind a session too', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const agent = request.agent(app.callback());
    await agent
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200);
    for (const code of [undefined, 123456, '12', 'x'.repeat(40)]) {
      const response = await agent.post('/auth/mfa/verify').set(json).send({ code });
      expect(response.status).toBe(400);
      expect(response.body.message).toMatch(/code/);
    }
  });
});
