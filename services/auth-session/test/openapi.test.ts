import request from 'supertest';
import { openApiDocument } from '../src/openapi.js';
import { createHarness, type Harness } from '../../../test/support/auth-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

interface OpenApi {
  paths: Record<string, Record<string, unknown>>;
}

const document: OpenApi = openApiDocument();
const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** Every (method, path template) the real app routes, in OpenAPI's `{param}` form. */
function routedOperations(): string[] {
  const { app } = h.build();
  const operations = new Set<string>();
  for (const layer of app.middleware as unknown as { router?: { stack: { path: string; methods: string[] }[] } }[]) {
    for (const route of layer.router?.stack ?? []) {
      for (const method of route.methods) {
        if (METHODS.has(method.toLowerCase()))
          operations.add(`${method.toLowerCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`);
      }
    }
  }
  return [...operations].sort();
}

it('documents exactly the routes the app serves, no more, no fewer', () => {
  const documented = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => METHODS.has(method))
      .map((method) => `${method} ${path}`),
  );
  expect(documented.sort()).toEqual(routedOperations());
});

it('serves the document at /auth/openapi.json without a session', async () => {
  const { app } = h.build();
  const response = await request(app.callback()).get('/auth/openapi.json').expect(200);
  expect(response.body).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
});

it('documents the 415 that every unsafe request which is not JSON gets (the CSRF rule)', async () => {
  const { app } = h.build();
  const unsafe = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => method === 'post' || method === 'delete')
      .map((method) => ({ method, path })),
  );
  expect(unsafe.length).toBeGreaterThan(5);
  for (const { method, path } of unsafe) {
    const url = path.replace(/\{\w+\}/g, 'a'.repeat(64));
    const response = await request(app.callback())[method as 'post' | 'delete'](url).set('accept', 'application/json');
    const documented = Object.keys((document.paths[path]![method] as { responses: Record<string, unknown> }).responses);
    expect({ method, path, status: response.status, documented: documented.includes(String(response.status)) }).toEqual(
      { method, path, status: 415, documented: true },
    );
  }
});

it('gives every response only the fields OpenAPI defines, with its whole description', () => {
  const RESPONSE_FIELDS = new Set(['description', 'headers', 'content', 'links', '$ref']);
  const operations = Object.values(document.paths).flatMap((item) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([, operation]) => operation as { responses: Record<string, Record<string, unknown>> }),
  );
  const strays = operations.flatMap((operation) =>
    Object.values(operation.responses).flatMap((response) =>
      Object.keys(response).filter((field) => !RESPONSE_FIELDS.has(field)),
    ),
  );
  expect(strays).toEqual([]);
});
