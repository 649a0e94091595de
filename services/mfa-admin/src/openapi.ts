// The OpenAPI 3.0 document, built from the same zod schemas the routes validate with, so it
// cannot drift from the code; a test also checks that it lists exactly the routes mounted.
import { z } from 'zod';
import { api, type RouteSpec } from './api.js';

const json = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' });

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function parameters(spec: RouteSpec) {
  const from = (object: z.ZodObject | undefined, where: 'path' | 'query') =>
    Object.entries(object?.shape ?? {}).map(([name, schema]) => ({
      name,
      in: where,
      required: where === 'path',
      schema: json(schema as z.ZodType, 'input'),
    }));
  return [...from(spec.params, 'path'), ...from(spec.query, 'query')];
}

function operation(name: string, spec: RouteSpec) {
  return {
    operationId: name,
    summary: spec.summary,
    ...(spec.recentAuth
      ? {
          description:
            'Needs a password + TOTP confirmation within REAUTH_MAX_AGE_SECONDS (POST /auth/reauthenticate), else 403 auth.reauthentication_required.',
        }
      : {}),
    parameters: parameters(spec),
    ...(spec.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: json(spec.body, 'input') } } } }
      : {}),
    responses: {
      200: { description: 'OK', content: { 'application/json': { schema: json(spec.response, 'output') } } },
      400: errorResponse('Invalid request (fields listed)'),
      401: errorResponse('Not signed in, or the session ended'),
      403: errorResponse('Not a platform admin at assurance level 2, or re-authentication needed'),
      404: errorResponse('No such tenant, admin or reset'),
      409: errorResponse('Conflicts with the current state (see the error code)'),
      // The CSRF rule: an unsafe request from an API client is JSON, body or not.
      ...(spec.method === 'get' ? {} : { 415: errorResponse('Not sent as `Content-Type: application/json`') }),
    },
  };
}

export function openApiDocument(specs: Record<string, RouteSpec> = api, title = 'Portcullis mfa-admin') {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const path = spec.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = { ...paths[path], [spec.method]: operation(name, spec) };
  }
  return {
    openapi: '3.0.3',
    info: {
      title,
      version: '0.1.0',
      description:
        'Platform-admin console API: tenants, tenant admins, MFA reset and rollback. Platform admins at assurance level 2 only. Send `Accept: application/json` and `Content-Type: application/json`.',
    },
    security: [{ session: [] }],
    paths,
    components: {
      securitySchemes: {
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'portcullis.sid',
          description: 'The session cookie set by /auth/login (shared by all services)',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string' },
            message: { type: 'string' },
            requestId: { type: 'string' },
            fields: {
              type: 'array',
              items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
            },
          },
        },
      },
    },
  };
}
