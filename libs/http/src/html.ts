// Server-rendered pages for every service: plain HTML, no script, escaped by construction.
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export const escapeHtml = (value: unknown) => String(value ?? '').replace(/[&<>"']/g, (character) => ESCAPES[character]!);

/** Tagged template: interpolations are escaped unless they are SafeHtml (or arrays of it). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  const render = (value: unknown): string => {
    if (value instanceof SafeHtml) return value.value;
    if (Array.isArray(value)) return value.map(render).join('');
    if (value === undefined || value === null || value === false) return '';
    return escapeHtml(value);
  };
  return new SafeHtml(strings.reduce((out, part, index) => out + part + (index < values.length ? render(values[index]) : ''), ''));
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
<body>${nav ?? ''}<main><h1>${title}</h1>${error ? html`<p class="error" role="alert">${error}</p>` : ''}${body}</main></body>
</html>`.value;
}
