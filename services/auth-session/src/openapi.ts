// The OpenAPI document of auth-session, generated from the route specs (api.ts) by the builder
// every service shares. Served at /auth/openapi.json; test/openapi.test.ts keeps it equal to
// the routes mounted and the API fuzzing test (test/e2e/api-fuzz.test.ts) checks the answers.
import { openApiDocument as buildDocument } from '@portcullis/http';
import { api, SESSION_ERRORS } from './api.js';

export const openApiDocument = () =>
  buildDocument({
    title: 'Portcullis auth-session',
    description:
      'Sign-in with password + TOTP, enrolment, recovery codes and session management for platform and tenant admins. ' +
      'Every route answers JSON to `Accept: application/json` and HTML pages to browsers. Unsafe requests from API clients send ' +
      "`Content-Type: application/json`; HTML form posts carry the session's `_csrf` token.",
    routes: api,
    commonErrors: SESSION_ERRORS,
    staticRoutesUnder: '/auth',
  });
