// mfa-admin's routes without servers: the shared route-level checks (test/support/route-layer.ts).
import request from 'supertest';
import {
  concretePath,
  documentedOperations,
  offlineAdminApp,
  offlineAdminService,
} from '../../../test/support/offline-apps.js';
import { describeRouteLayer } from '../../../test/support/route-layer.js';
import { openApiDocument } from '../src/openapi.js';

describe('mfa-admin routes, offline', () => {
  describeRouteLayer({
    prefix: '/admin',
    build: offlineAdminApp,
    document: openApiDocument,
    documentsStaticRoutes: false,
  });
});

describe('the console, offline (sessions planted in the in-memory store)', () => {
  const { app, sessionCookie } = offlineAdminService();
  const server = app.callback();
  const operations = documentedOperations(openApiDocument());

  it('refuses every route to a tenant admin (platform admins only)', async () => {
    const cookie = await sessionCookie({ kind: 'tenant' });
    for (const { name, method, path } of operations) {
      const response = await request(server)
        [method as 'get' | 'post'](concretePath(path))
        .set('Accept', 'application/json')
        .set('Content-Type', 'application/json')
        .set('Cookie', cookie)
        .send(method === 'get' ? undefined : {});
      expect({ name, status: response.status, code: response.body.code }).toEqual({
        name,
        status: 403,
        code: 'auth.forbidden',
      });
    }
  });

  it("refuses a platform admin's malformed ids with the field message, before any query", async () => {
    const cookie = await sessionCookie({ kind: 'platform' });
    const response = await request(server)
      .get('/admin/tenants/not-an-id/admins/also-not')
      .set('Accept', 'application/json')
      .set('Cookie', cookie)
      .expect(404);
    expect(response.body.code).toBeUndefined();
    const history = await request(server)
      .get('/admin/tenants/not-an-id/admins/also-not/mfa-resets?limit=0')
      .set('Accept', 'application/json')
      .set('Cookie', cookie)
      .expect(400);
    expect(history.body.fields).toEqual([
      { path: 'tenant', message: 'must be an id (uuid)' },
      { path: 'id', message: 'must be an id (uuid)' },
    ]);
  });

  it('asks for a recent re-authentication before a reset, whatever the body', async () => {
    const cookie = await sessionCookie({ kind: 'platform', authAt: 0 });
    const response = await request(server)
      .post(concretePath('/admin/tenants/{tenant}/admins/{id}/mfa/reset'))
      .set('Accept', 'application/json')
      .set('Cookie', cookie)
      .send({})
      .expect(403);
    expect(response.body.code).toBe('auth.reauthentication_required');
  });
});
