// Page templating comes from libs/http; this file holds the service's stylesheet and layout.
import { html, renderPage, type SafeHtml } from '@portcullis/http';

export { csrfField, html, type SafeHtml } from '@portcullis/http';

export const stylesheet = `body{font:16px/1.5 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
label{display:block;margin:.5rem 0 .25rem}input,textarea{font:inherit;padding:.3rem;box-sizing:border-box;width:100%}
input[type=checkbox]{width:auto}button{font:inherit;margin-top:.5rem;padding:.3rem .8rem}.error{color:#a00;border-left:4px solid #a00;padding-left:.5rem}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem;border-bottom:1px solid #ddd;vertical-align:top}
details{margin:.25rem 0}.muted{color:#666}nav a{margin-right:1rem}`;

const nav = html`<nav><a href="/admin/tenants">Tenants</a><a href="/audit/events">Audit log</a><a href="/auth/me">Account</a></nav>`;

export const layout = (title: string, body: SafeHtml, error?: string) =>
  renderPage({ title, body, error, stylesheetHref: '/admin/assets/style.css', siteName: 'Portcullis admin', nav });
