import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import type Koa from 'koa';
import compose from 'koa-compose';

/** No path-to-regexp syntax (`:name`, `*name`, `{optional}`, groups, escapes): the path matches only itself. */
const LITERAL_PATH = /^\/[^:*{}()[\]?+!\\]*$/;

type Dispatch = ReturnType<Router['routes']>;
type Chain = (ctx: RouterContext, next: Koa.Next) => unknown;

/**
 * `router.routes()`, with requests for a literal path answered from a table made at start-up.
 * On every request @koa/router tests each layer's pattern, logs through `debug`, reads
 * `ctx.host` and builds and composes a new middleware chain: with a service's thirty routes
 * that was the largest cost of `GET /auth/me` after the socket (docs/performance.md). The table
 * holds, for each (method, literal path), the chain the router itself matches for that request
 * (`router.match`), composed once. Anything else (a path with parameters, a trailing slash or
 * other case the router also accepts, a miss, a 405) goes through the router as before.
 */
export function routeTable(router: Router): Dispatch {
  const routed = router.routes();
  // A host-bound router would have to check ctx.host first: leave it to the router.
  if (router.opts.host !== undefined) return Object.assign(routed, { router });
  // By method, then path: no key string to build per request.
  const table = new Map<string, Map<string, Chain>>();
  for (const layer of router.stack) {
    if (typeof layer.path !== 'string' || !LITERAL_PATH.test(layer.path)) continue;
    for (const method of layer.methods) {
      let paths = table.get(method);
      if (!paths) table.set(method, (paths = new Map()));
      if (paths.has(layer.path)) continue;
      const chain = chainOf(router, layer.path, method);
      if (chain) paths.set(layer.path, chain);
    }
  }
  const dispatch = (ctx: RouterContext, next: Koa.Next) => (table.get(ctx.method)?.get(ctx.path) ?? routed)(ctx, next);
  return Object.assign(dispatch, { router }) as Dispatch;
}

/** What @koa/router would run for `method path`, composed, with the context it sets; undefined if a layer takes parameters. */
function chainOf(router: Router, path: string, method: string): Chain | undefined {
  const { path: onPath, pathAndMethod, route } = router.match(path, method);
  if (!route || pathAndMethod.some((layer) => layer.paramNames.length > 0 || typeof layer.path !== 'string'))
    return undefined;
  const routeLayer = pathAndMethod.findLast((layer) => layer.methods.length > 0)!;
  const { name } = routeLayer;
  const composed = compose(pathAndMethod.flatMap((layer) => layer.stack) as Koa.Middleware[]);
  return (ctx, next) => {
    ctx.matched = onPath.slice();
    ctx.routeMatched = true;
    ctx.router = router;
    ctx.captures = [];
    ctx.params = ctx.request.params = {};
    ctx.routerPath = ctx._matchedRoute = path;
    if (name) ctx.routerName = ctx._matchedRouteName = name;
    return composed(ctx as unknown as Koa.Context, next);
  };
}
