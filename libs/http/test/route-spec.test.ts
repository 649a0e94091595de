// The route guard on its own, without servers: input parsing, response filtering, JSON vs HTML,
// refused forms, the error catalogue, and the OpenAPI document built from the same specs.
import { Writable } from 'node:stream';
import Router from '@koa/router';
import request from 'supertest';
import { z } from 'zod';
import {
  ApiError,
  apiError,
  createServiceApp,
  defineRoutes,
  errorCatalogue,
  koaBodyParser,
  openApiDocument,
  redirectOrJson,
  respond,
  route,
  type RouteInput,
} from '@portcullis/http';
import { createLogger, createMetrics } from '@portcullis/observability';

const api = defineRoutes({
  getThing: {
    method: 'get',
    path: '/t/things/:id',
    summary: 'A thing',
    params: z.object({ id: z.uuid({ error: 'must be an id (uuid)' }) }),
    query: z.object({ limit: z.coerce.number().int().min(1, 'must be at least 1').default(10) }),
    response: z.object({ id: z.string(), name: z.string(), limit: z.number() }),
    errors: ['tenant.not_found'],
  },
  createThing: {
    method: 'post',
    path: '/t/things',
    summary: 'Make a thing',
    body: z.object({ name: z.string({ error: 'is required' }).min(2, 'must have at least 2 characters') }),
    response: z.object({ id: z.string() }),
    errors: ['resource.conflict'],
  },
  me: { method: 'get', path: '/t/me', summary: 'No input', response: z.object({ ok: z.boolean() }) },
});

const ID = '6f1c1f3e-6c1a-4c3e-9d4e-1a2b3c4d5e6f';
const calls: string[] = [];
const inputs: RouteInput<typeof api.me>[] = [];

function buildApp() {
  const router = new Router();
  route(router, api.getThing, [], (ctx, { params, query }) => {
    calls.push('getThing');
    if (params.id === '00000000-0000-4000-8000-000000000000') throw apiError('tenant.not_found');
    // The stored row carries a secret the response schema does not declare.
    const row = { id: params.id, name: 'thing', limit: query.limit, passwordHash: '$argon2id$secret' };
    respond(ctx, api.getThing, row, () => `<p>${row.name}</p>`);
  });
  route(
    router,
    api.createThing,
    [],
    (ctx, { body }) => {
      calls.push('createThing');
      if (body.name === 'taken') throw apiError('resource.conflict');
      redirectOrJson(ctx, api.createThing, { id: ID }, `/t/things/${ID}`);
    },
    { formPage: (_ctx, message) => `<form><p class="error">${message}</p></form>` },
  );
  route(router, api.me, [], (ctx, input) => {
    inputs.push(input);
    respond(ctx, api.me, { ok: true }, () => '<p>ok</p>');
  });
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  return createServiceApp({
    logger: createLogger({ service: 'route-spec-test', destination: silent }),
    metrics: createMetrics('route-spec-test'),
    routers: [router],
    beforeRoutes: () => [koaBodyParser()],
  }).callback();
}

const app = buildApp();
const JSON_ACCEPT = { Accept: 'application/json' };

beforeEach(() => {
  calls.length = 0;
});

describe('input', () => {
  it('refuses a bad path parameter with 400 and the field message, before the handler runs', async () => {
    const response = await request(app).get('/t/things/nope').set(JSON_ACCEPT).expect(400);
    expect(response.body).toMatchObject({
      code: 'request.invalid',
      message: 'Invalid request: id: must be an id (uuid)',
      fields: [{ path: 'id', message: 'must be an id (uuid)' }],
    });
    expect(calls).toEqual([]);
  });

  it('refuses a bad query and hands the handler the parsed, defaulted values', async () => {
    await request(app)
      .get(`/t/things/${ID}?limit=0`)
      .set(JSON_ACCEPT)
      .expect(400, /limit: must be at least 1/);
    const response = await request(app).get(`/t/things/${ID}`).set(JSON_ACCEPT).expect(200);
    expect(response.body.limit).toBe(10);
  });

  it('refuses a bad JSON body with 400 and the field message', async () => {
    const response = await request(app).post('/t/things').set(JSON_ACCEPT).send({ name: 'x' }).expect(400);
    expect(response.body.fields).toEqual([{ path: 'name', message: 'must have at least 2 characters' }]);
    expect(calls).toEqual([]);
  });

  it("shows a browser's refused form again with the message and the status", async () => {
    const response = await request(app)
      .post('/t/things')
      .set('Accept', 'text/html')
      .type('form')
      .send({ name: 'x' })
      .expect(400);
    expect(response.type).toBe('text/html');
    expect(response.text).toBe('<form><p class="error">name: must have at least 2 characters</p></form>');
    await request(app)
      .post('/t/things')
      .set('Accept', 'text/html')
      .type('form')
      .send({ name: 'taken' })
      .expect(409, '<form><p class="error">The resource already exists.</p></form>');
  });

  it('gives a route without input one frozen input object for every request (nothing built per request)', async () => {
    inputs.length = 0;
    await request(app).get('/t/me').set(JSON_ACCEPT).expect(200, { ok: true });
    await request(app).get('/t/me').set(JSON_ACCEPT).expect(200, { ok: true });
    expect(inputs).toHaveLength(2);
    expect(inputs[0]).toBe(inputs[1]);
    expect(Object.isFrozen(inputs[0])).toBe(true);
  });
});

describe('answers', () => {
  it('drops every field the response schema does not declare', async () => {
    const response = await request(app).get(`/t/things/${ID}`).set(JSON_ACCEPT).expect(200);
    expect(response.body).toEqual({ id: ID, name: 'thing', limit: 10 });
    expect(JSON.stringify(response.body)).not.toContain('argon2');
  });

  it('answers a browser with the page and an API client with JSON', async () => {
    const page = await request(app).get(`/t/things/${ID}`).set('Accept', 'text/html').expect(200);
    expect(page.type).toBe('text/html');
    expect(page.text).toBe('<p>thing</p>');
    const json = await request(app).get(`/t/things/${ID}`).set(JSON_ACCEPT).expect(200);
    expect(json.type).toBe('application/json');
  });

  it('sends a browser on after a form post (303) and gives an API client the JSON', async () => {
    await request(app)
      .post('/t/things')
      .set('Accept', 'text/html')
      .type('form')
      .send({ name: 'new thing' })
      .expect(303)
      .expect('location', `/t/things/${ID}`);
    await request(app).post('/t/things').set(JSON_ACCEPT).send({ name: 'new thing' }).expect(200, { id: ID });
  });
});

describe('the error catalogue', () => {
  it("maps a catalogued error to the catalogue's status and message", async () => {
    const response = await request(app)
      .get('/t/things/00000000-0000-4000-8000-000000000000')
      .set(JSON_ACCEPT)
      .expect(404);
    expect(response.body).toMatchObject({ code: 'tenant.not_found', message: 'No such tenant.' });
  });

  it('takes the status from the catalogue, whatever message the throw site gives', () => {
    const error = apiError('auth.too_many_attempts', 'Too many attempts. Try again in 60 seconds.', {
      retryAfterSeconds: 60,
    });
    expect([error.status, error.message, error.data, error.expose]).toEqual([
      429,
      'Too many attempts. Try again in 60 seconds.',
      { retryAfterSeconds: 60 },
      true,
    ]);
    expect(apiError('auth.busy', 'Busy.').status).toBe(errorCatalogue['auth.busy'].status);
    expect(new ApiError('config.default_admin_password').expose).toBe(false);
  });

  it('gives every code a 4xx or 5xx status and a message', () => {
    for (const [code, entry] of Object.entries(errorCatalogue)) {
      expect({ code, ok: entry.status >= 400 && entry.status < 600 && entry.message.length > 0 }).toEqual({
        code,
        ok: true,
      });
    }
  });
});

describe('the OpenAPI document', () => {
  type Operation = {
    parameters: { name: string; in: string }[];
    requestBody?: unknown;
    responses: Record<string, { description: string }>;
  };
  const document = openApiDocument({
    title: 'Test',
    description: 'Test service',
    routes: api,
    commonErrors: ['auth.unauthenticated'],
  });
  const operation = (path: string, method: string) =>
    (document.paths[path] as Record<string, Operation>)[method] as Operation;

  it('lists each route once, in OpenAPI path form, with its parameters and body', () => {
    expect(Object.keys(document.paths).sort()).toEqual(['/t/me', '/t/things', '/t/things/{id}']);
    expect(operation('/t/things/{id}', 'get').parameters.map((p) => `${p.in} ${p.name}`)).toEqual([
      'path id',
      'query limit',
    ]);
    expect(operation('/t/things', 'post').requestBody).toMatchObject({ required: true });
  });

  it("lists each route's error codes under their status", () => {
    const get = operation('/t/things/{id}', 'get').responses;
    expect(Object.keys(get).sort()).toEqual(['200', '400', '401', '404', '503']);
    expect(get['404']!.description).toContain('`tenant.not_found`');
    expect(get['400']!.description).toContain('`request.invalid`');
    const post = operation('/t/things', 'post').responses;
    // The CSRF rule (415 and csrf.invalid) and body errors on every unsafe route.
    expect(Object.keys(post).sort()).toEqual(['200', '400', '401', '403', '409', '415', '503']);
    expect(post['400']!.description).toContain('`request.too_large`');
    expect(post['409']!.description).toContain('`resource.conflict`');
    expect(Object.keys(operation('/t/me', 'get').responses).sort()).toEqual(['200', '401', '503']);
  });
});
