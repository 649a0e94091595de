// The OpenAPI 3.0 document, built from the zod schemas the routes validate with (api.ts).
import { z } from 'zod';
import { api, type RouteSpec } from './api.js';

const json = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' });
const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function operation(name: string, spec: RouteSpec) {
  const parameters = Object.entries(spec.query?.shape ?? {}).map(([param, schema]) => ({
    name: param,
    in: 'query',
    required: false,
    schema: json(schema as z.ZodType, 'input'),
  }));
  const types = spec.produces ?? ['application/json'];
  const body = spec.body && json(spec.body, 'input');
  return {
    operationId: name,
    summary: spec.summary,
    parameters,
    ...(body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: body },
              'application/x-www-form-urlencoded': {
                schema: {
                  ...body,
                  properties: {
                    ...(body.properties as object),
                    _csrf: { type: 'string', description: 'The session CSRF token (HTML forms only)' },
                  },
                },
              },
            },
          },
        }
      : {}),
    responses: {
      200: {
        description: 'OK',
        content: Object.fromEntries(
          types.map((type) => [
            type,
            type === 'text/csv' ? { schema: { type: 'string' } } : { schema: json(spec.response, 'output') },
          ]),
        ),
      },
      400: errorResponse('Invalid request (fields listed)'),
      401: errorResponse('Not signed in, or the session ended'),
      403: errorResponse(
        spec.body ? 'The second factor is not done, or a form without the CSRF token' : 'The second factor is not done',
      ),
      404: errorResponse("Another tenant's data (tenant admins)"),
      ...(spec.body ? { 415: errorResponse('Neither JSON nor an HTML form') } : {}),
    },
  };
}

export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, spec] of Object.entries(api as Record<string, RouteSpec>))
    paths[spec.path] = { ...paths[spec.path], [spec.method]: operation(name, spec) };
  return {
    openapi: '3.0.3',
    info: {
      title: 'Portcullis audit-log',
      version: '0.1.0',
      description:
        "The audit log: tenant admins see their own tenant's events, platform admins all of them; assurance level 2. Send `Accept: application/json`.",
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
          properties: { code: { type: 'string' }, message: { type: 'string' }, requestId: { type: 'string' } },
        },
      },
    },
  };
}
