// audit-log's routes without servers: the shared route-level checks (test/support/route-layer.ts).
import request from 'supertest';
import { offlineAuditApp, offlineAuditService } from '../../../test/support/offline-apps.js';
import { describeRouteLayer } from '../../../test/support/route-layer.js';
import { openApiDocument } from '../src/openapi.js';

describe('audit-log routes, offline', () => {
  describeRouteLayer({
    prefix: '/audit',
    build: offlineAuditApp,
    document: openApiDocument,
    documentsStaticRoutes: false,
  });
});

describe('the audit log, offline (sessions planted in the in-memory store)', () => {
  const { app, sessionCookie } = offlineAuditService();
  const server = app.callback();

  it('refuses a session that has not passed the second factor', async () => {
    const response = await request(server)
      .get('/audit/events')
      .set('Accept', 'application/json')
      .set('Cookie', await sessionCookie({ aal: 1 }))
      .expect(403);
    expect(response.body.code).toBe('auth.mfa_required');
  });

  it("holds a tenant admin to their own tenant (another tenant's chain is a 404) and checks the filter first", async () => {
    const cookie = await sessionCookie({ kind: 'tenant', tenantId: '6f1c1f3e-6c1a-4c3e-9d4e-1a2b3c4d5e6f' });
    const other = await request(server)
      .get('/audit/verify-chain?tenant=7f1c1f3e-6c1a-4c3e-9d4e-1a2b3c4d5e6f')
      .set('Accept', 'application/json')
      .set('Cookie', cookie)
      .expect(404);
    expect(other.body.code).toBe('auth.not_found');
    const bad = await request(server)
      .get('/audit/events?action=DROP TABLE&limit=9999')
      .set('Accept', 'application/json')
      .set('Cookie', cookie)
      .expect(400);
    expect(bad.body.fields.map((field: { path: string }) => field.path)).toEqual(['action', 'limit']);
  });
});
