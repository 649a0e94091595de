import type { Context, Middleware } from 'koa';
import { html, renderPage, type SafeHtml } from './html.js';
import { logServerError, toResponse } from './koa-error-handler.js';

/** A browser asked for a page (navigations and form posts send `Accept: text/html`); API clients keep the JSON. */
export const wantsPage = (ctx: Context) =>
  ctx.get('accept').includes('text/html') && ctx.accepts('html', 'json') === 'html';

interface ErrorPage {
  title: string;
  /** What the admin can do next: links, never an API path. */
  next: SafeHtml;
}

const signInLink = html`<a href="/auth/login">Sign in</a>`;
const consoleLinks = html`<a href="/auth/me">Your account</a> · <a href="/audit/events">Audit log</a>`;

function pageFor(status: number, code: string): ErrorPage {
  if (code === 'csrf.invalid') {
    return {
      title: 'This form has expired',
      next: html`<p>Go back, reload the page and submit the form again. If you signed out meanwhile: ${signInLink} first.</p>`,
    };
  }
  if (status === 401) return { title: 'Sign in to continue', next: html`<p>${signInLink}</p>` };
  if (code === 'auth.forbidden')
    return {
      title: 'Not available to your role',
      next: html`<p>This page is for platform admins. You can open: ${consoleLinks}.</p>`,
    };
  if (status === 403) return { title: 'Not allowed', next: html`<p>${consoleLinks} · ${signInLink}</p>` };
  if (status === 404) return { title: 'Page not found', next: html`<p>Nothing here. ${consoleLinks}.</p>` };
  if (status === 409)
    return {
      title: 'That conflicts with what exists',
      next: html`<p>Go back and change the form, or open: ${consoleLinks}.</p>`,
    };
  if (status === 429)
    return { title: 'Too many attempts', next: html`<p>Wait a little, then go back and try again.</p>` };
  if (status === 503)
    return {
      title: 'Busy for a moment',
      next: html`<p>Nothing was changed. Wait a few seconds, then go back and try again.</p>`,
    };
  if (status >= 500)
    return {
      title: 'Something went wrong on our side',
      next: html`<p>Go back and try again. If it keeps happening, give the reference below to your operators. ${consoleLinks}.</p>`,
    };
  return {
    title: 'The request could not be used',
    next: html`<p>Go back and correct the form, or open: ${consoleLinks}.</p>`,
  };
}

/**
 * Errors (4xx, CSRF expiry included, and 5xx, logged as the error handler logs them) and unrouted
 * paths as pages for browsers, each with a way forward and the request id; API clients get the
 * JSON of the error handler unchanged. Mounted after the session, so it catches the guards and CSRF.
 * `onRefused` counts every 4xx by its code, whoever asked.
 */
export function koaHtmlErrors({
  stylesheetHref,
  siteName,
  nav,
  onRefused,
}: {
  stylesheetHref: string;
  siteName: string;
  nav?: SafeHtml;
  onRefused?: (code: string) => void;
}): Middleware {
  const render = (ctx: Context, status: number, code: string, message: string) => {
    const page = pageFor(status, code);
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = renderPage({
      title: page.title,
      body: html`${page.next}<p class="muted">Reference: ${code} · request ${ctx.requestId}</p>`,
      error: message,
      stylesheetHref,
      siteName,
      ...(nav ? { nav } : {}),
    });
  };
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const { status, body } = toResponse(error);
      // Every refusal is counted (CSRF failures, throttling, wrong role…), JSON or page.
      if (status < 500) onRefused?.(body.code);
      // API clients get the error handler's JSON (which logs a 5xx); a browser gets a page.
      if (!wantsPage(ctx)) throw error;
      if (status >= 500) logServerError(ctx, error);
      const retryAfter = body.data?.retryAfterSeconds;
      if (typeof retryAfter === 'number') ctx.set('retry-after', String(retryAfter));
      return render(ctx, status, body.code, body.message);
    }
    // Koa's own "Not Found" (no route matched) or a 405 without a body.
    // Status first: negotiating every answered request's Accept header cost more than the check.
    if (
      (ctx.status === 404 || ctx.status === 405) &&
      (ctx.body === undefined || ctx.body === null || ctx.body === 'Not Found' || ctx.body === 'Method Not Allowed') &&
      wantsPage(ctx)
    ) {
      render(
        ctx,
        ctx.status,
        ctx.status === 404 ? 'not_found' : 'method_not_allowed',
        ctx.status === 404 ? 'There is no page at this address.' : 'This page does not take that kind of request.',
      );
    }
  };
}
