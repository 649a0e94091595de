// The OpenAPI 3.1 document of auth-session, written by hand (its routes answer HTML and JSON from
// one handler, so there are no per-route zod guards to build it from, as mfa-admin and audit-log
// do). It lives in src/ so the build ships it: the image holds compiled output only.
// test/openapi.test.ts keeps its paths equal to the routes mounted; the API fuzzing test
// (test/e2e/api-fuzz.test.ts) checks the responses against it. Served at /auth/openapi.json.

const UNSAFE_METHODS = new Set(['post', 'put', 'patch', 'delete']);
/** The operations that need the session cookie. */
const signedIn = [{ session: [] }];
/** The `{ code, message }` body of every error. */
const errorJson = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

export function openApiDocument() {
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'Portcullis auth-session',
      version: '0.1.0',
      description:
        'Sign-in with password + TOTP, enrolment, recovery codes and session management for platform and tenant admins. ' +
        'Every route answers JSON to `Accept: application/json` and HTML pages to browsers. Unsafe requests from API clients send ' +
        "`Content-Type: application/json`; HTML form posts carry the session's `_csrf` token. The session is a signed cookie " +
        '(`__Host-portcullis.sid` in production).',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'portcullis.sid' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string', examples: ['auth.invalid_credentials'] },
            message: { type: 'string' },
            requestId: { type: 'string' },
            fields: {
              type: 'array',
              items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
            },
            data: { type: 'object' },
          },
        },
        NextStep: {
          type: 'object',
          required: ['assurance', 'next'],
          properties: {
            assurance: { type: 'integer', enum: [1, 2] },
            next: { type: 'string', enum: ['verify-mfa', 'enroll-mfa', 'change-password', 'done'] },
          },
        },
        Session: {
          type: 'object',
          required: ['id', 'createdAt', 'lastSeenAt', 'assurance', 'current'],
          properties: {
            id: {
              type: 'string',
              pattern: '^[0-9a-f]{64}$',
              description: 'HMAC of the session id (never the id itself)',
            },
            createdAt: { type: 'string', format: 'date-time' },
            lastSeenAt: { type: 'string', format: 'date-time' },
            ip: { type: ['string', 'null'] },
            userAgent: { type: ['string', 'null'] },
            assurance: { type: 'integer', enum: [1, 2] },
            current: { type: 'boolean' },
          },
        },
      },
      responses: {
        BadRequest: { description: 'Invalid input', content: errorJson },
        Unauthenticated: { description: 'No valid session', content: errorJson },
        Forbidden: {
          description: 'Not allowed at this assurance level or role',
          content: errorJson,
        },
        TooManyRequests: {
          description: 'Throttled (Retry-After says when to try again)',
          content: errorJson,
        },
        Busy: {
          description: 'Too many password checks at once (Retry-After says when to try again)',
          content: errorJson,
        },
        UnsupportedMediaType: {
          description: 'Not sent as `Content-Type: application/json` (an HTML form post carries `_csrf` instead)',
          content: errorJson,
        },
      },
    },
    paths: {
      '/auth': {
        get: {
          summary: 'The service root: sends browsers on to the signed-in home',
          responses: { '302': { description: 'Redirect to /auth/me' } },
        },
      },
      '/auth/healthz': {
        get: {
          summary: 'Liveness through the ingress',
          responses: {
            '200': {
              description: 'Alive',
              content: { 'application/json': { schema: { type: 'object', properties: { status: { const: 'ok' } } } } },
            },
          },
        },
      },
      '/auth/assets/style.css': {
        get: {
          summary: "The pages' stylesheet",
          responses: { '200': { description: 'CSS', content: { 'text/css': { schema: { type: 'string' } } } } },
        },
      },
      '/auth/openapi.json': {
        get: {
          summary: 'This document',
          responses: {
            '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } },
          },
        },
      },
      '/auth/login': {
        get: {
          summary:
            "Sign-in page; writes no session. The sign-in form's CSRF token is also set in a signed cookie (double submit); JSON clients need no token",
          responses: {
            '200': {
              description: 'Page or token',
              content: {
                'application/json': { schema: { type: 'object', properties: { csrfToken: { type: 'string' } } } },
                'text/html': { schema: { type: 'string' } },
              },
            },
          },
        },
        post: {
          summary: 'Password step; starts a level-1 session under a new id',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['email', 'password'],
                  properties: {
                    tenant: {
                      type: 'string',
                      maxLength: 63,
                      pattern: '^([a-zA-Z0-9][a-zA-Z0-9-]*)?$',
                      description: 'Tenant slug; omit for platform admins',
                    },
                    email: { type: 'string', format: 'email', maxLength: 254 },
                    password: { type: 'string', minLength: 1, maxLength: 256 },
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'Password accepted',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/NextStep' } } },
            },
            '400': { $ref: '#/components/responses/BadRequest' },
            '401': {
              description: 'Same answer for unknown account, wrong password and locked account',
              content: errorJson,
            },
            '429': { $ref: '#/components/responses/TooManyRequests' },
            '503': { $ref: '#/components/responses/Busy' },
          },
        },
      },
      '/auth/logout': {
        get: {
          summary: 'The sign-out page (the console nav links here; the form posts to this path)',
          security: signedIn,
          responses: {
            '200': {
              description: 'Page, or for JSON clients that the session is live',
              content: {
                'application/json': { schema: { type: 'object', properties: { signedIn: { const: true } } } },
                'text/html': { schema: { type: 'string' } },
              },
            },
            '401': { $ref: '#/components/responses/Unauthenticated' },
          },
        },
        post: {
          summary: 'Ends this session',
          security: signedIn,
          responses: {
            '200': {
              description: 'Signed out',
              content: {
                'application/json': { schema: { type: 'object', properties: { signedOut: { const: true } } } },
              },
            },
            '401': { $ref: '#/components/responses/Unauthenticated' },
          },
        },
      },
      '/auth/mfa': {
        get: {
          summary: 'Second-factor page; JSON clients get the next step',
          security: signedIn,
          responses: {
            '200': {
              description: 'Page or next step',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            '401': { $ref: '#/components/responses/Unauthenticated' },
          },
        },
      },
      '/auth/mfa/verify': {
        post: {
          summary: 'TOTP code or recovery code; raises the session to level 2 under a new id',
          security: signedIn,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['code'],
                  properties: { code: { type: 'string', minLength: 6, maxLength: 32 } },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'Verified',
              content: {
                'application/json': {
                  schema: {
                    allOf: [
                      { $ref: '#/components/schemas/NextStep' },
                      {
                        type: 'object',
                        properties: {
                          method: { type: 'string', enum: ['totp', 'recovery_code'] },
                          remainingRecoveryCodes: { type: 'integer' },
                        },
                      },
                    ],
                  },
                },
              },
            },
            '400': { $ref: '#/components/responses/BadRequest' },
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '409': {
              description: 'Already verified, not enrolled, or the concurrent-session limit reached (reject mode)',
              content: errorJson,
            },
            '429': { $ref: '#/components/responses/TooManyRequests' },
          },
        },
      },
      '/auth/mfa/enroll': {
        get: {
          summary: 'Starts (or shows again) enrolment of an authenticator',
          security: signedIn,
          responses: {
            '200': {
              description: 'otpauth URI and QR code; the secret is shown for manual entry only here',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['otpauthUri', 'qrCodeDataUrl', 'secret'],
                    properties: {
                      otpauthUri: { type: 'string' },
                      qrCodeDataUrl: { type: 'string' },
                      secret: { type: 'string' },
                    },
                  },
                },
              },
            },
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '409': { description: 'Already enrolled', content: errorJson },
          },
        },
        post: {
          summary: 'Activates the authenticator with a valid code; returns 10 recovery codes, shown once',
          security: signedIn,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['code'],
                  properties: { code: { type: 'string', minLength: 6, maxLength: 32 } },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'Enrolled',
              content: {
                'application/json': {
                  schema: {
                    allOf: [
                      { $ref: '#/components/schemas/NextStep' },
                      {
                        type: 'object',
                        required: ['recoveryCodes'],
                        properties: {
                          recoveryCodes: { type: 'array', items: { type: 'string' }, minItems: 10, maxItems: 10 },
                        },
                      },
                    ],
                  },
                },
              },
            },
            '400': { $ref: '#/components/responses/BadRequest' },
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '409': {
              description: 'No enrolment started or already enrolled',
              content: errorJson,
            },
          },
        },
      },
      '/auth/me': {
        get: {
          summary: 'The signed-in admin',
          security: signedIn,
          responses: {
            '200': {
              description: 'Admin',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['id', 'kind', 'email', 'assurance', 'mfaEnrolled'],
                    properties: {
                      id: { type: 'string', format: 'uuid' },
                      kind: { type: 'string', enum: ['platform', 'tenant'] },
                      email: { type: 'string' },
                      tenantId: { type: ['string', 'null'] },
                      assurance: { type: 'integer', enum: [2] },
                      mfaEnrolled: { type: 'boolean' },
                      sessionCreatedAt: { type: 'string', format: 'date-time' },
                    },
                  },
                },
              },
            },
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '403': { $ref: '#/components/responses/Forbidden' },
          },
        },
      },
      '/auth/password': {
        get: {
          summary: 'Password change page',
          security: signedIn,
          responses: {
            '200': {
              description: 'Page or whether a change is required',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { mustChangePassword: { type: 'boolean' } } },
                },
              },
            },
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '403': { $ref: '#/components/responses/Forbidden' },
          },
        },
        post: {
          summary: 'Changes the password; every other session ends',
          security: signedIn,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['currentPassword', 'newPassword'],
                  properties: {
                    currentPassword: { type: 'string', minLength: 1, maxLength: 256 },
                    newPassword: { type: 'string', minLength: 12, maxLength: 256 },
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'Changed',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { passwordChanged: { const: true }, next: { type: 'string' } },
                  },
                },
              },
            },
            '400': { $ref: '#/components/responses/BadRequest' },
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '403': { $ref: '#/components/responses/Forbidden' },
            '429': { $ref: '#/components/responses/TooManyRequests' },
            '503': { $ref: '#/components/responses/Busy' },
          },
        },
      },
      '/auth/reauthenticate': {
        get: {
          summary: 'Re-authentication page (browsers); `next` is where the form sends the admin afterwards',
          security: signedIn,
          parameters: [
            {
              name: 'next',
              in: 'query',
              required: false,
              schema: { type: 'string', maxLength: 512 },
              description: 'A path under /auth, /admin or /audit; anything else becomes /auth/me',
            },
          ],
          responses: {
            '200': {
              description: 'Page, or the return path that will be used',
              content: { 'application/json': { schema: { type: 'object', properties: { next: { type: 'string' } } } } },
            },
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '403': { $ref: '#/components/responses/Forbidden' },
          },
        },
        post: {
          summary: 'Confirms password and code again, for sensitive actions in the other services',
          security: signedIn,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['password', 'code'],
                  properties: {
                    password: { type: 'string', minLength: 1, maxLength: 256 },
                    code: { type: 'string', minLength: 6, maxLength: 32 },
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'Re-authenticated',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { reauthenticatedAt: { type: 'string', format: 'date-time' } },
                  },
                },
              },
            },
            '400': { $ref: '#/components/responses/BadRequest' },
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '403': { $ref: '#/components/responses/Forbidden' },
            '429': { $ref: '#/components/responses/TooManyRequests' },
            '503': { $ref: '#/components/responses/Busy' },
          },
        },
      },
      '/auth/sessions': {
        get: {
          summary: "This admin's sessions",
          security: signedIn,
          responses: {
            '200': {
              description: 'Sessions',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { sessions: { type: 'array', items: { $ref: '#/components/schemas/Session' } } },
                  },
                },
              },
            },
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '403': { $ref: '#/components/responses/Forbidden' },
          },
        },
      },
      '/auth/sessions/{id}': {
        delete: {
          summary: "Ends one of this admin's sessions",
          security: signedIn,
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
          ],
          responses: {
            '204': { description: 'Ended' },
            '400': { $ref: '#/components/responses/BadRequest' },
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '403': { $ref: '#/components/responses/Forbidden' },
            '404': { description: "Not one of this admin's sessions", content: errorJson },
          },
        },
      },
      '/auth/sessions/{id}/revoke': {
        post: {
          summary: 'The same as DELETE, for HTML forms',
          security: signedIn,
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
          ],
          responses: {
            '200': {
              description: 'Ended',
              content: { 'application/json': { schema: { type: 'object', properties: { revoked: { const: true } } } } },
            },
            '400': { $ref: '#/components/responses/BadRequest' },
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '403': { $ref: '#/components/responses/Forbidden' },
            '404': { description: "Not one of this admin's sessions", content: errorJson },
          },
        },
      },
      '/auth/recovery-codes': {
        get: {
          summary: 'How many unused recovery codes this admin has',
          security: signedIn,
          responses: {
            '200': {
              description: 'Count (page for browsers)',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { remaining: { type: 'integer', minimum: 0 } } },
                },
              },
            },
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '403': { $ref: '#/components/responses/Forbidden' },
          },
        },
        post: {
          summary:
            'Replaces every recovery code with a new set, returned once; needs a recent re-authentication (POST /auth/reauthenticate)',
          security: signedIn,
          responses: {
            '200': {
              description: 'The new codes (not stored in clear; shown only now)',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { recoveryCodes: { type: 'array', items: { type: 'string' } } },
                  },
                },
              },
            },
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '403': { $ref: '#/components/responses/Forbidden' },
            '409': { description: 'No authenticator enrolled, or a code was spent meanwhile', content: errorJson },
          },
        },
      },
      '/auth/sessions/revoke-others': {
        post: {
          summary: 'Ends every other session of this admin',
          security: signedIn,
          responses: {
            '200': {
              description: 'Ended',
              content: {
                'application/json': { schema: { type: 'object', properties: { revoked: { type: 'integer' } } } },
              },
            },
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '403': { $ref: '#/components/responses/Forbidden' },
          },
        },
      },
    },
  };
  // The CSRF rule, stated once: an unsafe request from an API client is JSON, body or not.
  for (const item of Object.values(document.paths) as Record<string, { responses: Record<string, unknown> }>[]) {
    for (const [method, operation] of Object.entries(item)) {
      if (UNSAFE_METHODS.has(method))
        operation.responses['415'] = { $ref: '#/components/responses/UnsupportedMediaType' };
    }
  }
  return document;
}
