// The `mfa_reset_log_values{key_id,state}` gauge on audit-log's /metrics: the authenticated
// key usage of the reset log (the same count as `portcullis mfa-logs key-usage`), refreshed on
// a timer. Every replica refreshes it; dashboards and alerts use max by (key_id, state).
import { Gauge, type Registry } from 'prom-client';
import type { KeyUsageRow } from '@portcullis/crypto';
import type { Logger } from '@portcullis/observability';

export function createKeyUsageGauge({
  registry,
  count,
  logger,
}: {
  registry: Registry;
  count: () => Promise<{ rows: KeyUsageRow[] }>;
  logger: Logger;
}) {
  const gauge = new Gauge({
    name: 'mfa_reset_log_values',
    help: 'previous_* values of tenant_admin_mfa_reset_logs by key id and state (authenticated)',
    labelNames: ['key_id', 'state'] as const,
    registers: [registry],
  });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  async function refresh(): Promise<void> {
    const { rows } = await count();
    gauge.reset();
    for (const row of rows) gauge.set({ key_id: row.keyId, state: row.state }, row.count);
  }

  return {
    refresh,
    start(intervalMs: number): void {
      if (timer || intervalMs <= 0) return;
      let busy = false;
      const run = () => {
        if (busy) return;
        busy = true;
        running = refresh()
          .catch((error: unknown) =>
            logger.warn(
              { errorCode: error instanceof Error ? error.name : 'unknown' },
              'mfa_reset_log_values refresh failed',
            ),
          )
          .finally(() => (busy = false));
      };
      run();
      timer = setInterval(run, intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
