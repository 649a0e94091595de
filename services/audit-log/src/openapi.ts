// The OpenAPI document of audit-log, generated from the route specs (api.ts) by the builder
// every service shares.
import { openApiDocument as buildDocument } from '@portcullis/http';
import { api, GUARD_ERRORS } from './api.js';

export const openApiDocument = () =>
  buildDocument({
    title: 'Portcullis audit-log',
    description:
      "The audit log: tenant admins see their own tenant's events, platform admins all of them; assurance level 2. Send `Accept: application/json`.",
    routes: api,
    commonErrors: GUARD_ERRORS,
  });
