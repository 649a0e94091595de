export { ApiError, apiError, assertThat } from './api-error.js';
export { errorCatalogue, statusOf, type ErrorCode } from './errors.js';
export {
  defineRoutes,
  json,
  redirectOrJson,
  requestMeta,
  respond,
  route,
  withFormErrors,
  type ResponseOf,
  type RouteContext,
  type RouteInput,
  type RouteMethod,
  type RouteOptions,
  type RouteSpec,
} from './route-spec.js';
export { errorCodesOf, openApiDocument, type OpenApiOptions } from './openapi.js';
export { createConsoleApp, SAFE_METHODS, type ConsoleAppOptions } from './console-app.js';
export { koaErrorHandler, type ErrorHandlerOptions } from './koa-error-handler.js';
export { errorPages, type ErrorPages } from './error-pages.js';
export { wantsJson, wantsPage } from './negotiation.js';
export { koaBodyParser, REQUEST_BODY_LIMIT } from './koa-body-parser.js';
export { koaSecurityHeaders } from './koa-security-headers.js';
export { proxyTrust, type ProxyTrust } from './proxy-trust.js';
export { createServiceApp, healthRoutes, staticRoutes, type ServiceAppOptions } from './service-app.js';
export { runService, type RunServiceOptions, type RunningService } from './run-service.js';
export { deprioritiseThreadPool, THREAD_POOL_NICENESS } from './thread-pool-priority.js';
export {
  listen,
  installGracefulShutdown,
  type RunningServer,
  type ListenOptions,
  type ShutdownOptions,
} from './service-lifecycle.js';
export {
  html,
  escapeHtml,
  SafeHtml,
  csrfField,
  renderPage,
  pageStylesheet,
  consoleNav,
  consoleNavFor,
  type PageOptions,
} from './html.js';
