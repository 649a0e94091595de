import { Counter, type Registry } from 'prom-client';

/**
 * The security counters of the "Auth service" dashboard, the same in every service:
 * `portcullis_audit_events_total{action}` counts each audited action once it is committed
 * (failed sign-ins, lockouts, MFA resets and rollbacks, recovery codes used… the audit log is
 * where they are already named, so the metric cannot drift from it), and
 * `http_refusals_total{code}` each request refused with a 4xx, by error code (csrf.invalid,
 * auth.too_many_attempts, auth.locked…). Both label sets are bounded: codes and actions are
 * literals in the code, never input.
 */
export function securityCounters(registry: Registry) {
  const counter = (name: string, help: string, label: string) =>
    (registry.getSingleMetric(name) as Counter<string> | undefined) ??
    new Counter({ name, help, labelNames: [label], registers: [registry] });
  return {
    auditEvents: counter('portcullis_audit_events_total', 'Audited actions, counted when committed', 'action'),
    refusals: counter('http_refusals_total', 'Requests refused with a client error, by error code', 'code'),
  };
}

export type SecurityCounters = ReturnType<typeof securityCounters>;
