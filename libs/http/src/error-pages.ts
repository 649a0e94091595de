import type { Context } from 'koa';
import { html, renderPage, type SafeHtml } from './html.js';

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

/** Renders an error (or an unrouted path) as a page: its title, a way forward and the request id. */
export interface ErrorPages {
  render(ctx: Context, status: number, code: string, message: string): void;
}

/**
 * The error pages of a console service, for browsers; koaErrorHandler decides who gets one (a
 * browser, wantsPage) and API clients keep the JSON.
 */
export function errorPages({
  stylesheetHref,
  siteName,
  nav,
}: {
  stylesheetHref: string;
  siteName: string;
  nav?: SafeHtml;
}): ErrorPages {
  return {
    render(ctx, status, code, message) {
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
    },
  };
}
