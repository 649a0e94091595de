// mfa-admin's routes without servers: the shared route-level checks (test/support/route-layer.ts).
import { offlineAdminApp } from '../../../test/support/offline-apps.js';
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
