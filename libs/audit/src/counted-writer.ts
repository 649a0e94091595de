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
