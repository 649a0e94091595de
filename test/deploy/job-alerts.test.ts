// The alerts and dashboard panels fed by the scheduled jobs (operational_job_runs, exported by
// auth-session): rendered by helm as the chart ships them, names checked against what the code
// registers, and `promtool test rules` showing each alert fire and stay quiet.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { createJobRunMetrics } from '@portcullis/session-store';
import { firing, promtoolTest, type RuleGroups } from '../support/prometheus-rules.js';

const run = promisify(execFile);
const chart = join(import.meta.dirname, '..', '..', 'helm', 'portcullis');

type RuleSpec = RuleGroups;

async function render(
  ...sets: string[]
): Promise<{ rules: RuleSpec; dashboard: { panels: { title: string; targets: { expr: string }[] }[] } }> {
  const { stdout } = await run('helm', ['template', 'prod', chart, ...sets.flatMap((set) => ['--set', set])]);
  const docs = parseAllDocuments(stdout)
    .map(
      (doc) => doc.toJS() as { kind: string; metadata: { name: string }; spec: RuleSpec; data: Record<string, string> },
    )
    .filter(Boolean);
  const rules = docs.find((doc) => doc.kind === 'PrometheusRule')!.spec;
  const dashboard = JSON.parse(
    docs.find((doc) => doc.kind === 'ConfigMap' && doc.metadata.name.endsWith('-dashboards'))!.data[
      'portcullis-session-cutover.json'
    ]!,
  );
  return { rules, dashboard };
}
const jobRules = (spec: RuleSpec) => spec.groups.find((group) => group.name === 'portcullis-jobs')!.rules;

let rendered: Awaited<ReturnType<typeof render>>;
beforeAll(async () => {
  rendered = await render();
}, 30_000);

it('use only job metrics that auth-session registers, in the rules and on the dashboard', () => {
  const registry = new Registry();
  createJobRunMetrics(registry, { latest: async () => [], cleanup: true, verify: true });
  const exported = new Set(registry.getMetricsAsArray().map((metric) => metric.name));
  const fromRules = jobRules(rendered.rules).flatMap((rule) => rule.expr.match(/\bportcullis_\w+/g) ?? []);
  const fromDashboard = rendered.dashboard.panels.flatMap((panel) =>
    panel.targets.flatMap((target) => target.expr.match(/\bportcullis_\w+/g) ?? []),
  );
  expect(new Set(fromRules)).toEqual(
    new Set(['portcullis_job_last_run_timestamp_seconds', 'portcullis_sessions_verify_ok']),
  );
  expect(fromDashboard).toEqual(
    expect.arrayContaining([
      'portcullis_session_cleanup_rows_removed',
      'portcullis_sessions_verify_ok',
      'portcullis_job_last_run_timestamp_seconds',
    ]),
  );
  expect([...fromRules, ...fromDashboard].filter((name) => !exported.has(name))).toEqual([]);
});

it('take the staleness threshold from monitoring.prometheusRule.sessionCleanupStaleAfter and refuse one PromQL cannot use', async () => {
  const stale = (spec: RuleSpec) => jobRules(spec).find((rule) => rule.alert === 'PortcullisSessionCleanupStale')!;
  expect(stale(rendered.rules).expr).toMatch(/ > 7200$/);
  const custom = await render('monitoring.prometheusRule.sessionCleanupStaleAfter=1h30m');
  expect(stale(custom.rules).expr).toMatch(/ > 5400$/);
  expect(jobRules(custom.rules).find((rule) => rule.alert === 'PortcullisSessionCleanupNeverSucceeded')!.for).toBe(
    '1h30m',
  );
  // The schema refuses it first; the template refuses it too when the schema is skipped.
  for (const flags of [[], ['--skip-schema-validation']]) {
    const bad = await run('helm', [
      'template',
      'prod',
      chart,
      ...flags,
      '--set',
      'monitoring.prometheusRule.sessionCleanupStaleAfter=two hours',
    ]).then(
      () => '',
      (error: { stderr: string }) => error.stderr,
    );
    expect(bad).toMatch(/sessionCleanupStaleAfter.*two hours/);
  }
  const skipped = await run('helm', [
    'template',
    'prod',
    chart,
    '--skip-schema-validation',
    '--set',
    'monitoring.prometheusRule.sessionCleanupStaleAfter=2 hours',
  ]).then(
    () => '',
    (error: { stderr: string }) => error.stderr,
  );
  expect(skipped).toMatch(/sessionCleanupStaleAfter must be a duration such as 2h or 1h30m, not "2 hours"/);
}, 30_000);

it('fire when cleanup has not succeeded for 2 × its interval or never has, and when verify says no-go; stay quiet otherwise', async () => {
  const fired = (alert: string, labels: Record<string, string>) => [firing(rendered.rules, alert, labels)];
  const stamp = (outcome: string, pod: string) =>
    `portcullis_job_last_run_timestamp_seconds{job="sessions-cleanup",outcome="${outcome}",pod="${pod}"}`;
  const output = await promtoolTest(rendered.rules, [
    {
      // The last success at t=0, then only failures: stale past 2h (+ 5m for), never "never succeeded".
      interval: '1m',
      input_series: [
        { series: stamp('success', 'auth-session-a'), values: '0x200' },
        { series: stamp('success', 'auth-session-b'), values: '0x200' },
        { series: stamp('failure', 'auth-session-a'), values: '3600x60 7200x140' },
      ],
      alert_rule_test: [
        { eval_time: '1h', alertname: 'PortcullisSessionCleanupStale', exp_alerts: [] },
        { eval_time: '2h', alertname: 'PortcullisSessionCleanupStale', exp_alerts: [] },
        {
          eval_time: '2h10m',
          alertname: 'PortcullisSessionCleanupStale',
          exp_alerts: fired('PortcullisSessionCleanupStale', { job: 'sessions-cleanup' }),
        },
        { eval_time: '3h', alertname: 'PortcullisSessionCleanupNeverSucceeded', exp_alerts: [] },
      ],
    },
    {
      // A success (or a run stopped at --max-seconds) every hour: quiet.
      interval: '1m',
      input_series: [
        { series: stamp('success', 'auth-session-a'), values: '0x59 3600x60 3600x60 3600x60' },
        { series: stamp('stopped_early', 'auth-session-a'), values: '_x119 7200x60 10800x60' },
      ],
      alert_rule_test: [
        { eval_time: '2h50m', alertname: 'PortcullisSessionCleanupStale', exp_alerts: [] },
        { eval_time: '3h50m', alertname: 'PortcullisSessionCleanupStale', exp_alerts: [] },
      ],
    },
    {
      // Failures only, from the first run: pending for 2h, then firing.
      interval: '1m',
      input_series: [{ series: stamp('failure', 'auth-session-a'), values: '600x200' }],
      alert_rule_test: [
        { eval_time: '1h', alertname: 'PortcullisSessionCleanupNeverSucceeded', exp_alerts: [] },
        {
          eval_time: '2h30m',
          alertname: 'PortcullisSessionCleanupNeverSucceeded',
          exp_alerts: fired('PortcullisSessionCleanupNeverSucceeded', { job: 'sessions-cleanup' }),
        },
        { eval_time: '2h30m', alertname: 'PortcullisSessionCleanupStale', exp_alerts: [] },
      ],
    },
    {
      // verify --record said go, then no-go (two auth-session replicas export the same value).
      interval: '1m',
      input_series: [
        { series: 'portcullis_sessions_verify_ok{primary="redis",secondary="dynamodb",pod="a"}', values: '1x10 0x10' },
        { series: 'portcullis_sessions_verify_ok{primary="redis",secondary="dynamodb",pod="b"}', values: '1x10 0x10' },
      ],
      alert_rule_test: [
        { eval_time: '5m', alertname: 'PortcullisSessionVerifyNoGo', exp_alerts: [] },
        {
          eval_time: '15m',
          alertname: 'PortcullisSessionVerifyNoGo',
          exp_alerts: fired('PortcullisSessionVerifyNoGo', { primary: 'redis', secondary: 'dynamodb' }),
        },
      ],
    },
  ]);
  expect(output).toContain('SUCCESS');
  expect(output).not.toContain('FAILED');
}, 30_000);
