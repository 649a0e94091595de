// Page templating and the console's look come from libs/http; this file names the service's paths.
import { consoleNavFor, renderPage, type SafeHtml } from '@portcullis/http';

export { csrfField, html, type SafeHtml } from '@portcullis/http';

/** Tenant admins read the log too: their nav has no tenant list. */
export const layout = (title: string, body: SafeHtml, error?: string, kind: 'platform' | 'tenant' = 'platform') =>
  renderPage({
    title,
    body,
    error,
    stylesheetHref: '/audit/assets/style.css',
    siteName: 'Portcullis audit',
    nav: consoleNavFor(kind),
  });
