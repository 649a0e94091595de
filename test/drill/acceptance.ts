// What the drill must show (issue 16's acceptance), one sentence per shortfall.
import type { DrillSummary } from './cutover.js';

export function failures(summary: DrillSummary): string[] {
  return [
    summary.directions < 3 && `${summary.directions} directions run, 3 wanted`,
    summary.forced_relogins > 0 && `${summary.forced_relogins} synthetic admins were asked to sign in again`,
    summary.logouts_undone > 0 && `${summary.logouts_undone} signed-out sessions were served again`,
    summary.gate_refusals < 1 && 'the gate refused no skipped step',
    summary.panels_without_data > 0 && `${summary.panels_without_data} dashboard panels never had data`,
    summary.metrics_missing.length > 0 &&
      `panels or alerts name metrics nobody exports: ${summary.metrics_missing.join(', ')}`,
    (summary.alerts_fired < 1 || summary.alerts_fired !== summary.alerts_cleared) &&
      `alerts fired ${summary.alerts_fired}, cleared ${summary.alerts_cleared}: each fault's alert must fire and clear`,
    summary.post_switch_checks_failed > 0 && `${summary.post_switch_checks_failed} post-switch checks failed`,
    summary.unexpected_alerts.length > 0 && `alerts fired during safe steps: ${summary.unexpected_alerts.join(', ')}`,
  ].filter((failure): failure is string => typeof failure === 'string');
}
