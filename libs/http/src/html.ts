// Server-rendered pages for every service: plain HTML, no script, escaped by construction.
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export const escapeHtml = (value: unknown) =>
  String(value ?? '').replace(/[&<>"']/g, (character) => ESCAPES[character]!);

/** Tagged template: interpolations are escaped unless they are SafeHtml (or arrays of it). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  const render = (value: unknown): string => {
    if (value instanceof SafeHtml) return value.value;
    if (Array.isArray(value)) return value.map(render).join('');
    if (value === undefined || value === null || value === false) return '';
    return escapeHtml(value);
  };
  return new SafeHtml(
    strings.reduce((out, part, index) => out + part + (index < values.length ? render(values[index]) : ''), ''),
  );
}

export const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;

export interface PageOptions {
  title: string;
  body: SafeHtml;
  /** Shown as an alert above the body. */
  error?: string | undefined;
  /** The service's own stylesheet: the CSP allows styles from 'self' only. */
  stylesheetHref: string;
  siteName?: string;
  nav?: SafeHtml;
}

export function renderPage({ title, body, error, stylesheetHref, siteName = 'Portcullis', nav }: PageOptions): string {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${siteName}</title><link rel="stylesheet" href="${stylesheetHref}"></head>
<body${nav ? '' : html` class="narrow"`}>${nav ?? ''}<main><h1>${title}</h1>${error ? html`<p class="error" role="alert">${error}</p>` : ''}${body}</main></body>
</html>`.value;
}

/**
 * The one look of every page (sign-in steps, account, console, error pages), served by each
 * service from its own path (the CSP allows styles from 'self' only). Pages without the console
 * nav (the sign-in steps, error pages) are a narrow column.
 */
export const pageStylesheet = `body{font:16px/1.5 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
body.narrow{max-width:36rem;margin-top:3rem}
label{display:block;margin:.5rem 0 .25rem}input,textarea,select{font:inherit;padding:.4rem;box-sizing:border-box;width:100%}
input[type=checkbox]{width:auto}button{font:inherit;margin-top:.75rem;padding:.4rem .9rem}
.error{color:#a00;border-left:4px solid #a00;padding-left:.5rem}.notice{color:#064;border-left:4px solid #064;padding-left:.5rem}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem;border-bottom:1px solid #ddd;vertical-align:top}
details{margin:.25rem 0}.muted{color:#595959}code{font-size:1.1em}nav a{margin-right:1rem}`;

/**
 * The console's navigation: only what the role may open (tenant admins have no tenant list),
 * and "Sign out" on every page (a page with the sign-out form: a link cannot carry the CSRF token).
 */
export const consoleNavFor = (kind: 'platform' | 'tenant' | undefined) =>
  html`<nav aria-label="Console">${kind === 'tenant' ? '' : html`<a href="/admin/tenants">Tenants</a><a href="/admin/platform-admins">Platform admins</a><a href="/admin/sessions">Who is signed in</a>`}<a href="/audit/events">Audit log</a><a href="/auth/me">Account</a><a href="/auth/sessions">Sessions</a><a href="/auth/logout">Sign out</a></nav>`;

/** The platform console's pages (mfa-admin is for platform admins only). */
export const consoleNav = consoleNavFor('platform');
