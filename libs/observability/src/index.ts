export {
  bufferedStdout,
  createLogger,
  LOG_BUFFER,
  requestLineWriter,
  type Logger,
  type LoggerSettings,
  type RequestLine,
} from './logger.js';
export { redactSensitive, isSensitiveKey, REDACTED } from './redact.js';
export { installRequestObservability } from './koa-request-observability.js';
export { createMetrics, type ServiceMetrics } from './metrics.js';
export { securityCounters, type SecurityCounters } from './security-metrics.js';
export { createAdminApp, type AdminAppOptions, type ReadinessCheck } from './admin-app.js';
