// What a request asked for: JSON (a script) or a page (a browser). One place, so the security
// headers, the error pages and the routes answer the same client the same way.
import type { Context } from 'koa';

/**
 * A request that accepts only JSON comes from a script (fetch, curl, an SDK): a browser's
 * navigation, frame or object load never sends that Accept, so its answer is never shown as a
 * document. Answered without negotiating (which parses the header).
 */
export const asksForJsonOnly = (accept: string | undefined): boolean => accept === 'application/json';

/** A browser asked for a page (navigations and form posts send `Accept: text/html`); API clients keep the JSON. */
export const wantsPage = (ctx: Context) =>
  ctx.get('accept').includes('text/html') && ctx.accepts('html', 'json') === 'html';

/** API clients send `Accept: application/json`; browsers get pages. */
export const wantsJson = (ctx: Context): boolean =>
  asksForJsonOnly(ctx.get('accept')) ||
  ctx.accepts('html', 'json') === 'json' ||
  // A JSON body from a client that did not ask for a page (no Accept, or curl's */*) gets JSON:
  // a script must not be answered with a page (or a redirect) it cannot read.
  (ctx.is('json') === 'json' && !ctx.get('accept').includes('text/html'));
