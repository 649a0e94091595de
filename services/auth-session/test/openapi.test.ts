import request from 'supertest';
import { openApiDocument } from '../src/openapi.js';
import { createHarness, type Harness } from './harness.js';

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
        if (METHODS.has(method.toLowerCase())) operations.add(`${method.toLowerCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`);
      }
    }
  }
  return [...operations].sort();
}

it('documents exactly the routes the app serves, no more, no fewer', () => {
  const documented = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).filter((method) => METHODS.has(method)).map((method) => `${method} ${path}`));
  expect(documented.sort()).toEqual(routedOperations());
});

it('serves the document at /auth/openapi.json without a session', async () => {
  const { app } = h.build();
  const response = await request(app.callback()).get('/auth/openapi.json').expect(200);
  expect(response.body).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
});
