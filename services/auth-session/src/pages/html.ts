import { renderPage, type SafeHtml } from '@portcullis/http';

export { consoleNavFor, csrfField, html } from '@portcullis/http';

export const stylesheet = `body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
label{display:block;margin:.75rem 0 .25rem}input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}
button{font:inherit;margin-top:1rem;padding:.5rem 1rem}.error{color:#a00;border-left:4px solid #a00;padding-left:.5rem}
.notice{border-left:4px solid #064;padding-left:.5rem}.muted{color:#595959}code{font-size:1.1em}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem;border-bottom:1px solid #ddd}`;

/** Signed-in pages pass the console's nav; the sign-in steps have none (nothing else is open yet). */
export const layout = (title: string, body: SafeHtml, error?: string, nav?: SafeHtml) =>
  renderPage({ title, body, error, stylesheetHref: '/auth/assets/style.css', ...(nav ? { nav } : {}) });
