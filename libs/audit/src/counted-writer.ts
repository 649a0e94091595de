import { securityCounters, type SecurityCounters } from '@portcullis/observability';
import type { AuditWriter } from './audit-writer.js';

/**
 * The same writer, calling `onCommitted(action)` once an event is durable: at once for an event
 * in its own transaction, after the caller's commit for one written inside `trx` (a change that
 * rolls back was never done, so it is never counted).
 */
export function countedAuditWriter(writer: AuditWriter, onCommitted: (action: string) => void): AuditWriter {
  return {
    async record(event, trx) {
      await writer.record(event, trx);
      if (!trx) return onCommitted(event.action);
      trx.executionPromise.then(
        () => onCommitted(event.action),
        () => undefined,
      );
    },
  };
}

/**
 * A service's audit writer counted on the "Auth service" dashboard, with the security counters
 * it registers (audited actions once committed; refusals by code, for the HTML error layer).
 */
export function countedAudit(
  writer: AuditWriter,
  registry: Parameters<typeof securityCounters>[0],
): { audit: AuditWriter; security: SecurityCounters } {
  const security = securityCounters(registry);
  return { security, audit: countedAuditWriter(writer, (action) => security.auditEvents.inc({ action })) };
}
