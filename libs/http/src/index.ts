export { ApiError, assertThat } from './api-error.js';
export { koaErrorHandler } from './koa-error-handler.js';
export { koaBodyParser, REQUEST_BODY_LIMIT } from './koa-body-parser.js';
export { koaSecurityHeaders } from './koa-security-headers.js';
export { proxyTrust, type ProxyTrust } from './proxy-trust.js';
export { createServiceApp, healthRoutes, staticRoutes, type ServiceAppOptions } from './service-app.js';
export { runService, type RunServiceOptions, type RunningService } from './run-service.js';
export { listen, installGracefulShutdown, type RunningServer, type ListenOptions, type ShutdownOptions } from './service-lifecycle.js';
export { html, escapeHtml, SafeHtml, csrfField, renderPage, consoleStylesheet, consoleNav, type PageOptions } from './html.js';
