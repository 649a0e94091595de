import { renderPage, type SafeHtml } from '@portcullis/http';

export { consoleNavFor, csrfField, html } from '@portcullis/http';

/** Signed-in pages pass the console's nav; the sign-in steps have none (nothing else is open yet). */
export const layout = (title: string, body: SafeHtml, error?: string, nav?: SafeHtml) =>
  renderPage({ title, body, error, stylesheetHref: '/auth/assets/style.css', ...(nav ? { nav } : {}) });
