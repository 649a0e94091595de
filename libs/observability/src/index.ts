export { createLogger, type Logger, type LoggerSettings } from './logger.js';
export { redactSensitive, isSensitiveKey, REDACTED } from './redact.js';
export { koaRequestId } from './koa-request-id.js';
export { koaRequestLogger } from './koa-request-logger.js';
export { createMetrics, koaHttpMetrics, type ServiceMetrics } from './metrics.js';
export { securityCounters, type SecurityCounters } from './security-metrics.js';
export { createAdminApp, type AdminAppOptions, type ReadinessCheck } from './admin-app.js';
