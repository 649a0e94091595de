// Page templating and the console's look come from libs/http; this file names the service's paths.
import { consoleNav, html, renderPage, type SafeHtml } from '@portcullis/http';

export { csrfField, html, type SafeHtml } from '@portcullis/http';

export const layout = (title: string, body: SafeHtml, error?: string, notice?: string) =>
  renderPage({
    title,
    body: notice ? html`<p class="notice" role="status">${notice}</p>${body}` : body,
    error,
    stylesheetHref: '/admin/assets/style.css',
    siteName: 'Portcullis admin',
    nav: consoleNav,
  });
