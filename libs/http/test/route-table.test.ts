import Router from '@koa/router';
import Koa from 'koa';
import request from 'supertest';
import { routeTable } from '../src/route-table.js';

/** Routers of a service's shape: a prefix, a router-wide middleware, literal and parameter routes. */
function routers(): Router {
  const account = new Router({ prefix: '/auth' });
  account.use(async (ctx, next) => {
    ctx.set('x-seen-by', 'account');
    await next();
  });
  account.get('/me', (ctx) => {
    ctx.body = { route: 'me', params: ctx.params };
  });
  account.post('/me', (ctx) => {
    ctx.body = { route: 'me (post)' };
  });
  account.get('/sessions/:id', (ctx) => {
    ctx.body = { route: 'session', params: ctx.params };
  });
  account.get('/sessions/current', (ctx) => {
    ctx.body = { route: 'current session' };
  });
  account.delete('/sessions', (ctx, next) => next());
  const all = new Router();
  all.use(account.routes());
  return all;
}

/** An app whose dispatch is `dispatch(router)`; the matched route template is echoed in a header, as the request log reads it. */
function appWith(dispatch: (router: Router) => ReturnType<Router['routes']>) {
  const router = routers();
  const app = new Koa();
  app.use(async (ctx, next) => {
    await next();
    const matched = (ctx as { _matchedRoute?: string })._matchedRoute;
    if (matched) ctx.set('x-matched-route', matched);
  });
  app.use(dispatch(router));
  app.use(router.allowedMethods());
  app.use((ctx) => {
    ctx.body = { route: 'fell through' };
  });
  return app.callback();
}

const REQUESTS: [method: 'get' | 'post' | 'put' | 'delete' | 'head', path: string][] = [
  ['get', '/auth/me'],
  ['head', '/auth/me'],
  ['post', '/auth/me'],
  ['put', '/auth/me'],
  ['get', '/auth/me/'],
  ['get', '/AUTH/ME'],
  ['get', '/auth/me?fields=id'],
  ['get', '/auth/sessions/42'],
  // Literal, but the parameter route registered before it matches too: the router runs both.
  ['get', '/auth/sessions/current'],
  ['delete', '/auth/sessions'],
  ['get', '/auth/nowhere'],
];

describe('routeTable', () => {
  it.each(REQUESTS)('answers %s %s exactly as the router does', async (method, path) => {
    const viaRouter = await request(appWith((router) => router.routes()))[method](path);
    const viaTable = await request(appWith(routeTable))[method](path);
    expect(viaTable.status).toBe(viaRouter.status);
    expect(viaTable.body).toEqual(viaRouter.body);
    for (const header of ['allow', 'x-seen-by', 'x-matched-route'])
      expect([header, viaTable.headers[header]]).toEqual([header, viaRouter.headers[header]]);
  });

  it('answers a literal path from its table, without matching the request against every layer', async () => {
    const router = routers();
    const app = new Koa().use(routeTable(router)).callback();
    const match = router.match.bind(router);
    const matched: string[] = [];
    router.match = (path, method) => (matched.push(`${method} ${path}`), match(path, method));
    await request(app).get('/auth/me').expect(200);
    await request(app).get('/auth/sessions/42').expect(200);
    expect(matched).toEqual(['GET /auth/sessions/42']);
  });

  it('carries the router, as router.routes() does, so tests can list the routes', () => {
    const router = routers();
    expect(routeTable(router).router).toBe(router);
  });
});
