// The route-level checks every service runs without servers (services/*/test/routes-offline.test.ts):
// the document lists exactly the routes mounted, every signed-in route refuses a visitor (JSON
// 401, a browser sent to sign in), the CSRF rule's 415, documented error codes from the
// catalogue, and unrouted paths answered in the client's format.
import type Koa from 'koa';
import request from 'supertest';
import { errorCatalogue, type ErrorCode } from '@portcullis/http';
import { concretePath, documentedOperations, routedOperations } from './offline-apps.js';

interface Document {
  paths: Record<string, Record<string, unknown>>;
}

export interface RouteLayerOptions {
  /** `/auth`, `/admin`, `/audit`. */
  prefix: string;
  build: () => Koa;
  document: () => Document;
  /** auth-session documents its healthz, stylesheet, root and document; the others leave them out. */
  documentsStaticRoutes: boolean;
}

export function describeRouteLayer({ prefix, build, document, documentsStaticRoutes }: RouteLayerOptions): void {
  const app = build();
  const server = app.callback();
  const doc = document();
  const operations = documentedOperations(doc);
  const signedIn = operations.filter(({ operation }) => !Array.isArray(operation.security));
  const staticRoute = new RegExp(`^GET ${prefix}(/healthz|/openapi\\.json|/assets/style\\.css)?$`);

  it('documents exactly the routes the app mounts', () => {
    const mounted = routedOperations(app).filter((name) => documentsStaticRoutes || !staticRoute.test(name));
    expect(operations.map(({ name }) => name)).toEqual(mounted);
  });

  it(`serves that document at ${prefix}/openapi.json without a session`, async () => {
    const response = await request(server).get(`${prefix}/openapi.json`).expect(200);
    expect(response.body).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('refuses every signed-in route to a visitor with a documented 401 (JSON)', async () => {
    expect(signedIn.length).toBeGreaterThan(2);
    for (const { name, method, path, operation } of signedIn) {
      const response = await request(server)
        [method as 'get' | 'post' | 'delete'](concretePath(path))
        .set('Accept', 'application/json')
        .set('Content-Type', 'application/json')
        .send(method === 'get' ? undefined : {});
      expect({
        name,
        status: response.status,
        code: response.body.code,
        documented: '401' in operation.responses,
      }).toEqual({ name, status: 401, code: 'auth.unauthenticated', documented: true });
    }
  });

  it('sends a browser opening a signed-in page to the sign-in page', async () => {
    const pages = signedIn.filter(({ method }) => method === 'get');
    expect(pages.length).toBeGreaterThan(0);
    for (const { name, path } of pages) {
      const response = await request(server).get(concretePath(path)).set('Accept', 'text/html');
      expect({ name, status: response.status, location: response.headers.location?.split('?')[0] }).toEqual({
        name,
        status: 303,
        location: '/auth/login',
      });
    }
  });

  it('answers an unsafe request that is neither JSON nor a form with the documented 415 (the CSRF rule)', async () => {
    const unsafe = operations.filter(({ method }) => method !== 'get');
    expect(unsafe.length).toBeGreaterThan(0);
    for (const { name, method, path, operation } of unsafe) {
      const response = await request(server)
        [method as 'post' | 'delete'](concretePath(path))
        .set('Accept', 'application/json');
      expect({ name, status: response.status, documented: '415' in operation.responses }).toEqual({
        name,
        status: 415,
        documented: true,
      });
    }
  });

  it('documents each error status with catalogue codes of that status', () => {
    for (const { name, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        const codes = [...(response.description ?? '').matchAll(/`([a-z_.]+)`/g)].map((match) => match[1]!);
        expect({ name, status, codes: codes.length > 0 }).toEqual({ name, status, codes: true });
        for (const code of codes)
          expect({ name, code, status: errorCatalogue[code as ErrorCode]?.status }).toEqual({
            name,
            code,
            status: Number(status),
          });
      }
    }
  });

  it('answers an unrouted path with a page for browsers and no page for API clients', async () => {
    const page = await request(server).get(`${prefix}/no-such-page`).set('Accept', 'text/html').expect(404);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('There is no page at this address.');
    const api = await request(server).get(`${prefix}/no-such-page`).set('Accept', 'application/json').expect(404);
    expect(api.type).not.toBe('text/html');
  });
}
