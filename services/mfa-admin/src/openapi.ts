// The OpenAPI document of mfa-admin, generated from the route specs (api.ts) by the builder
// every service shares; a test checks that it lists exactly the routes mounted.
import { openApiDocument as buildDocument } from '@portcullis/http';
import { api, GUARD_ERRORS } from './api.js';

export const openApiDocument = () =>
  buildDocument({
    title: 'Portcullis mfa-admin',
    description:
      'Platform-admin console API: tenants, tenant admins, MFA reset and rollback. Platform admins at assurance level 2 only. Send `Accept: application/json` and `Content-Type: application/json`.',
    routes: api,
    commonErrors: GUARD_ERRORS,
  });
