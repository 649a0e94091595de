// Server-rendered pages: plain HTML, no script, escaped by construction.
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

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
label{display:block;margin:.75rem 0 .25rem}input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}
button{font:inherit;margin-top:1rem;padding:.5rem 1rem}.error{color:#a00;border-left:4px solid #a00;padding-left:.5rem}
code{font-size:1.1em}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem;border-bottom:1px solid #ddd}`;

export function layout(title: string, body: SafeHtml, error?: string): string {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Portcullis</title><link rel="stylesheet" href="/auth/assets/style.css"></head>
<body><main><h1>${title}</h1>${error ? html`<p class="error" role="alert">${error}</p>` : ''}${body}</main></body>
</html>`.value;
}

export const stylesheet = STYLE;
export const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;
