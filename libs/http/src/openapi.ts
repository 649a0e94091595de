// The OpenAPI 3.0 document of a service, built from its route specs (route-spec.ts) with the
// same zod schemas the guard parses with, so it cannot drift from the code. Error responses
// come from the catalogue: per status, the codes the route can answer.
import { z } from 'zod';
import { errorCatalogue, type ErrorCode } from './errors.js';
import type { RouteSpec } from './route-spec.js';

export interface OpenApiOptions {
  title: string;
  description: string;
  routes: Record<string, RouteSpec>;
  /** Codes every non-public route of the service answers: its session guards. */
  commonErrors?: readonly ErrorCode[];
  /**
   * Also document the routes every service mounts without a spec (createServiceApp's root
   * redirect, healthz, stylesheet, this document) under this prefix.
   */
  staticRoutesUnder?: string;
}

const UNSAFE = new Set(['post', 'put', 'patch', 'delete']);
/** Every route can meet an unreachable dependency. */
const EVERY_ROUTE: readonly ErrorCode[] = ['service.unavailable'];
/**
 * The CSRF rule (an unsafe request from an API client is JSON, body or not; a form carries
 * `_csrf`), and the body parser, which reads every unsafe request's body, declared or not.
 */
const UNSAFE_ROUTE: readonly ErrorCode[] = [
  'request.unsupported_media_type',
  'csrf.invalid',
  'request.invalid_body',
  'request.too_large',
];
const WITH_INPUT: readonly ErrorCode[] = ['request.invalid'];

const schemaOf = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Record<string, unknown>;

const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

/** The codes a route answers, by status, each status described by its codes. */
export function errorCodesOf(spec: RouteSpec, commonErrors: readonly ErrorCode[] = []): ErrorCode[] {
  const codes = new Set<ErrorCode>([
    ...(spec.public ? [] : commonErrors),
    ...(spec.params || spec.query || spec.body ? WITH_INPUT : []),
    ...(UNSAFE.has(spec.method) ? UNSAFE_ROUTE : []),
    ...(spec.errors ?? []),
    ...EVERY_ROUTE,
  ]);
  return [...codes];
}

function errorResponses(codes: readonly ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = errorCatalogue[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, list]) => [
        String(status),
        { description: `Error codes: ${list.map((code) => `\`${code}\``).join(', ')}`, content: errorContent },
      ]),
  );
}

function parameters(spec: RouteSpec) {
  const from = (object: z.ZodObject | undefined, where: 'path' | 'query') =>
    Object.entries(object?.shape ?? {}).map(([name, schema]) => ({
      name,
      in: where,
      required: where === 'path',
      schema: schemaOf(schema as z.ZodType, 'input'),
    }));
  return [...from(spec.params, 'path'), ...from(spec.query, 'query')];
}

function requestBody(spec: RouteSpec) {
  if (!spec.body) return {};
  const body = schemaOf(spec.body, 'input');
  const content: Record<string, unknown> = { 'application/json': { schema: body } };
  if (spec.form)
    content['application/x-www-form-urlencoded'] = {
      schema: {
        ...body,
        properties: {
          ...(body.properties as object),
          _csrf: { type: 'string', description: 'The session CSRF token (HTML forms only)' },
        },
      },
    };
  return { requestBody: { required: true, content } };
}

function success(spec: RouteSpec) {
  const status = String(spec.status ?? 200);
  if (!spec.response) return { [status]: { description: 'Done' } };
  const types = ['application/json', ...(spec.produces ?? [])];
  const response = schemaOf(spec.response, 'output');
  return {
    [status]: {
      description: 'OK',
      content: Object.fromEntries(
        types.map((type) => [type, { schema: type === 'application/json' ? response : { type: 'string' } }]),
      ),
    },
  };
}

function operation(name: string, spec: RouteSpec, commonErrors: readonly ErrorCode[]) {
  return {
    operationId: name,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.public ? { security: [] } : {}),
    parameters: parameters(spec),
    ...requestBody(spec),
    responses: { ...success(spec), ...errorResponses(errorCodesOf(spec, commonErrors)) },
  };
}

const text = (type: string) => ({ content: { [type]: { schema: { type: 'string' } } } });

/** The routes createServiceApp and staticRoutes mount for every service. */
function staticPaths(prefix: string) {
  const open = { security: [] };
  return {
    [prefix]: {
      get: { summary: 'The service root: sends browsers on', ...open, responses: { 302: { description: 'Redirect' } } },
    },
    [`${prefix}/healthz`]: {
      get: {
        summary: 'Liveness through the ingress',
        ...open,
        responses: {
          200: {
            description: 'Alive',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } },
              },
            },
          },
        },
      },
    },
    [`${prefix}/assets/style.css`]: {
      get: {
        summary: "The pages' stylesheet",
        ...open,
        responses: { 200: { description: 'CSS', ...text('text/css') } },
      },
    },
    [`${prefix}/openapi.json`]: {
      get: {
        summary: 'This document',
        ...open,
        responses: {
          200: { description: 'OpenAPI 3.0', content: { 'application/json': { schema: { type: 'object' } } } },
        },
      },
    },
  };
}

export function openApiDocument({ title, description, routes, commonErrors = [], staticRoutesUnder }: OpenApiOptions) {
  const paths: Record<string, Record<string, unknown>> = staticRoutesUnder ? staticPaths(staticRoutesUnder) : {};
  for (const [name, spec] of Object.entries(routes)) {
    const path = spec.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = { ...paths[path], [spec.method]: operation(name, spec, commonErrors) };
  }
  return {
    openapi: '3.0.3',
    info: { title, version: '0.1.0', description },
    security: [{ session: [] }],
    paths,
    components: {
      securitySchemes: {
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'portcullis.sid',
          description:
            'The session cookie set by /auth/login (shared by all services; `__Host-portcullis.sid` in production)',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string', description: 'A code of the error catalogue' },
            message: { type: 'string' },
            requestId: { type: 'string' },
            fields: {
              type: 'array',
              items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
            },
            data: { type: 'object' },
          },
        },
      },
    },
  };
}
