// auth-session's routes without servers: the shared route-level checks (test/support/route-layer.ts).
import request from 'supertest';
import { offlineAuthApp, offlineAuthService } from '../../../test/support/offline-apps.js';
import { describeRouteLayer } from '../../../test/support/route-layer.js';
import { csrfTokenIn } from '../../../test/support/service-settings.js';
import { openApiDocument } from '../src/openapi.js';

describe('auth-session routes, offline', () => {
  describeRouteLayer({
    prefix: '/auth',
    build: offlineAuthApp,
    document: openApiDocument,
    documentsStaticRoutes: true,
  });
});

describe('the sign-in form, offline (nothing reaches the throttle or the database)', () => {
  const server = offlineAuthApp().callback();

  it('gives an API client the form token and nothing else', async () => {
    const response = await request(server).get('/auth/login').set('Accept', 'application/json').expect(200);
    expect(Object.keys(response.body)).toEqual(['csrfToken']);
  });

  it('refuses a bad JSON sign-in with the field messages', async () => {
    const response = await request(server)
      .post('/auth/login')
      .set('Accept', 'application/json')
      .send({ tenant: 'Bad slug!', email: 'not-an-email', password: '' })
      .expect(400);
    expect(response.body.fields).toEqual([
      { path: 'tenant', message: 'must be a tenant slug (letters, digits, dashes)' },
      { path: 'email', message: 'must be an email address' },
      { path: 'password', message: 'is required' },
    ]);
  });

  it("shows a browser's refused form again with the message and what was typed", async () => {
    const agent = request.agent(server);
    const form = await agent.get('/auth/login').set('Accept', 'text/html').expect(200);
    const token = csrfTokenIn(form.text);
    const page = await agent
      .post('/auth/login')
      .set('Accept', 'text/html')
      .type('form')
      .send({ _csrf: token, email: 'not-an-email', password: 'x' })
      .expect(400);
    expect(page.text).toContain('email: must be an email address');
    expect(page.text).toContain('value="not-an-email"');
  });

  it('refuses a form post without the sign-in form token (CSRF) with a page', async () => {
    const page = await request(server)
      .post('/auth/login')
      .set('Accept', 'text/html')
      .type('form')
      .send({ email: 'a@example.com', password: 'x' })
      .expect(403);
    expect(page.text).toContain('This form has expired');
  });
});

describe('signed-in routes, offline (a session planted in the in-memory store)', () => {
  const { app, sessionCookie } = offlineAuthService();
  const server = app.callback();

  it('answers GET /auth/me from the session alone, with exactly the declared fields', async () => {
    const cookie = await sessionCookie({ kind: 'platform', adminId: '6f1c1f3e-6c1a-4c3e-9d4e-1a2b3c4d5e6f' });
    const response = await request(server).get('/auth/me').set('Accept', 'application/json').set('Cookie', cookie);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      id: '6f1c1f3e-6c1a-4c3e-9d4e-1a2b3c4d5e6f',
      kind: 'platform',
      email: 'offline-6f1c1f3e@example.com',
      tenantId: null,
      assurance: 2,
      mfaEnrolled: true,
      sessionCreatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('refuses the account routes to a session that has not passed the second factor', async () => {
    const cookie = await sessionCookie({ aal: 1 });
    for (const path of ['/auth/me', '/auth/sessions', '/auth/recovery-codes', '/auth/password']) {
      const response = await request(server).get(path).set('Accept', 'application/json').set('Cookie', cookie);
      expect({ path, status: response.status, code: response.body.code }).toEqual({
        path,
        status: 403,
        code: 'auth.mfa_required',
      });
    }
  });

  it('refuses a malformed session id in the path with the field message', async () => {
    const response = await request(server)
      .delete('/auth/sessions/not-a-session')
      .set('Accept', 'application/json')
      .set('Content-Type', 'application/json')
      .set('Cookie', await sessionCookie())
      .expect(400);
    expect(response.body.fields).toEqual([{ path: 'id', message: 'must be a session id from GET /auth/sessions' }]);
  });
});
