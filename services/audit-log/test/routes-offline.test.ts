// audit-log's routes without servers: the shared route-level checks (test/support/route-layer.ts).
import { offlineAuditApp } from '../../../test/support/offline-apps.js';
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
