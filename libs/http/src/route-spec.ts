/**
 * Route specs: a route says once what it takes and what it answers, and everything else follows
 * from that one object (in the spirit of Logto's koaGuard).
 *
 * - `route(router, spec, guards, handler)` mounts it: params, query and body are parsed with the
 *   spec's zod schemas before the handler runs (a ZodError is the error handler's 400 with the
 *   fields; with `formPage` a browser's refused form is shown again with the message instead).
 * - `respond` / `redirectOrJson` / `json` answer through `spec.response`: JSON clients get only
 *   the fields it declares (a hash or an encrypted column cannot leak by accident), browsers the
 *   page or the redirect.
 * - `openApiDocument` (openapi.ts) builds each service's document from the same specs, its
 *   error responses from `spec.errors` (codes of the catalogue, errors.ts).
 *
 * Everything is compiled when the route is mounted; per request the guard only parses what the
 * spec declares (a route without input costs one function call and no allocation), and a JSON
 * answer costs one parse of the response.
 *
 * @example
 * const api = defineRoutes({
 *   getTenant: {
 *     method: 'get',
 *     path: '/admin/tenants/:tenant',
 *     summary: 'A tenant',
 *     params: z.object({ tenant: z.uuid({ error: 'must be an id (uuid)' }) }),
 *     response: z.object({ tenant: z.object({ id: z.string(), name: z.string() }) }),
 *     errors: ['tenant.not_found'],
 *   },
 * });
 * route(router, api.getTenant, [requireSession(policy)], async (ctx, { params }) => {
 *   const tenant = await tenants.get(params.tenant);
 *   respond(ctx, api.getTenant, { tenant }, () => tenantPage(tenant));
 * });
 */
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { ZodError, type z } from 'zod';
import { ApiError } from './api-error.js';
import { wantsJson } from './negotiation.js';
import type { ErrorCode } from './errors.js';

export type RouteMethod = 'get' | 'post' | 'delete';

export interface RouteSpec {
  method: RouteMethod;
  /** The full path in @koa/router form (`/admin/tenants/:tenant`); OpenAPI gets `{tenant}`. */
  path: string;
  summary: string;
  description?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** What JSON clients get; undeclared fields are dropped. None: the route answers no JSON body. */
  response?: z.ZodType;
  /** The success status when it is not 200 (204: no body). */
  status?: number;
  /** The catalogue codes this route answers besides the ones every route of the service does. */
  errors?: readonly ErrorCode[];
  /** Further content types of the success response (`text/csv`); pages are not documented. */
  produces?: readonly string[];
  /** The body may also come as an HTML form carrying the session's `_csrf` (documented as such). */
  form?: boolean;
  /** No session needed: the service's common errors (its session guards) do not apply. */
  public?: boolean;
}

/** Checks the specs' shape and keeps their literal types. */
export const defineRoutes = <T extends Record<string, RouteSpec>>(routes: T): T => routes;

type Parsed<T> = T extends z.ZodType ? z.output<T> : undefined;

/** What the guard hands the handler: the parsed params, query and body. */
export interface RouteInput<S extends RouteSpec> {
  params: Parsed<S['params']>;
  query: Parsed<S['query']>;
  body: Parsed<S['body']>;
}

export type RouteContext = Context & { params: Record<string, string> };

type WithResponse = RouteSpec & { response: z.ZodType };
/** What a handler passes to `respond`: the response schema's input. */
export type ResponseOf<S extends WithResponse> = z.input<S['response']>;

export interface RouteOptions {
  /** The page a browser's refused form shows again, with the message (a JSON client gets the error). */
  formPage?: (ctx: RouteContext, message: string) => string | Promise<string>;
}

/** Who asked, for the audit log: address, user agent (bounded) and request id. */
export const requestMeta = (ctx: Context) => ({
  ip: ctx.ip,
  userAgent: ctx.get('user-agent').slice(0, 256),
  requestId: ctx.requestId,
});

const rawBody = (ctx: Context): unknown => (ctx.request as { body?: unknown }).body ?? {};

/** A ZodError in the words a form shows: `field: message; …`. */
const formMessage = (error: ApiError | ZodError) =>
  error instanceof ZodError
    ? error.issues.map((issue) => `${issue.path.join('.') || 'form'}: ${issue.message}`).join('; ')
    : error.message;

/**
 * Runs a form handler for browsers: a refused input (ApiError below 500, ZodError) shows the
 * page again with the message and the error's status; anything else, or a page that cannot be
 * rendered, goes on to the error middleware. API clients get the error middleware's JSON.
 */
export async function withFormErrors(
  ctx: Context,
  page: (message: string) => string | Promise<string>,
  handler: () => unknown,
): Promise<void> {
  if (wantsJson(ctx)) {
    await handler();
    return;
  }
  try {
    await handler();
  } catch (error) {
    const known = (error instanceof ApiError && error.expose) || error instanceof ZodError;
    if (!known) throw error;
    const rendered = await Promise.resolve()
      .then(() => page(formMessage(error)))
      .catch(() => undefined);
    if (rendered === undefined) throw error;
    ctx.status = error instanceof ApiError ? error.status : 400;
    ctx.type = 'html';
    ctx.body = rendered;
  }
}

/**
 * Mounts `handler` for `spec` behind `guards` (session, role, recent re-authentication). The
 * input is parsed before the handler runs; see the module's comment for an example.
 */
export function route<S extends RouteSpec>(
  router: Router,
  spec: S,
  guards: readonly Middleware[],
  handler: (ctx: RouteContext, input: RouteInput<S>) => unknown,
  { formPage }: RouteOptions = {},
): void {
  const { params, query, body } = spec;
  let endpoint: Middleware;
  if (!params && !query && !body && !formPage) {
    // The hot read paths (GET /auth/me): nothing to parse, one input object for every request.
    const none = Object.freeze({ params: undefined, query: undefined, body: undefined }) as RouteInput<S>;
    endpoint = (ctx) => handler(ctx as RouteContext, none);
  } else {
    endpoint = (ctx) => {
      const input = {
        params: params?.parse(ctx.params),
        query: query?.parse(ctx.query),
        body: undefined,
      } as RouteInput<S>;
      const run = () => {
        if (body) input.body = body.parse(rawBody(ctx)) as RouteInput<S>['body'];
        return handler(ctx as RouteContext, input);
      };
      if (!formPage) return run();
      return withFormErrors(ctx, (message) => formPage(ctx as RouteContext, message), run);
    };
  }
  (router as unknown as Record<RouteMethod, (path: string, ...middleware: Middleware[]) => Router>)[spec.method](
    spec.path,
    ...guards,
    endpoint,
  );
}

/** The JSON answer through the response schema: only declared fields leave the service. */
export function json<S extends WithResponse>(ctx: Context, spec: S, value: ResponseOf<S>): void {
  ctx.body = spec.response.parse(value);
}

/** JSON through the response schema for API clients, the page for browsers. */
export function respond<S extends WithResponse>(ctx: Context, spec: S, value: ResponseOf<S>, page: () => string): void {
  if (wantsJson(ctx)) {
    ctx.body = spec.response.parse(value);
    return;
  }
  ctx.type = 'html';
  ctx.body = page();
}

/** After a form post browsers go on to `location` (303); API clients get the JSON. */
export function redirectOrJson<S extends WithResponse>(
  ctx: Context,
  spec: S,
  value: ResponseOf<S>,
  location: string,
): void {
  if (wantsJson(ctx)) {
    ctx.body = spec.response.parse(value);
    return;
  }
  ctx.status = 303;
  ctx.redirect(location);
}
