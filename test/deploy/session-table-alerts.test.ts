// The knex session table's alerts and dashboard as the chart ships them: every metric they read
// is one createSessionTableMetrics registers (auth-session exports it), the dashboard's queries
// are valid PromQL and show every gauge, and `promtool test rules` shows the dead-row and
// vacuum-age alerts fire on a bloating table and stay quiet on a healthy or small one.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import createKnex from 'knex';
import { Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { createSessionTableMetrics } from '@portcullis/session-store';
import { firing, promtoolTest, type RuleGroups } from '../support/prometheus-rules.js';

const run = promisify(execFile);
const chart = join(import.meta.dirname, '..', '..', 'helm', 'portcullis');
let rules: RuleGroups;
let queries: string[];

beforeAll(async () => {
  const { stdout } = await run('helm', ['template', 'prod', chart]);
  const docs = parseAllDocuments(stdout).map(
    (doc) =>
      doc.toJS() as { kind?: string; metadata?: { name?: string }; spec: RuleGroups; data?: Record<string, string> },
  );
  rules = docs.find((doc) => doc?.kind === 'PrometheusRule')!.spec;
  const dashboard = JSON.parse(
    docs.find((doc) => doc?.kind === 'ConfigMap' && doc.metadata?.name === 'prod-portcullis-dashboards')!.data![
      'portcullis-session-table.json'
    ]!,
  ) as { panels: { targets: { expr: string }[] }[] };
  queries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
}, 30_000);

/** The gauge names createSessionTableMetrics registers (no database is asked: nothing is collected). */
function exportedGauges(): string[] {
  const registry = new Registry();
  const offline = createKnex({ client: 'pg' });
  createSessionTableMetrics(registry, { knex: offline, tableName: 'sessions' });
  void offline.destroy();
  return registry.getMetricsAsArray().map((metric) => metric.name);
}

it('reads only gauges the table metrics export, and the dashboard shows every one in valid PromQL', async () => {
  const exported = exportedGauges();
  const tableRules = rules.groups.find((group) => group.name === 'portcullis-session-table')!.rules;
  const used = [...tableRules.map((rule) => rule.expr), ...queries].flatMap(
    (expr) => expr.match(/\bsession_store_\w+/g) ?? [],
  );
  expect(used.filter((name) => !exported.includes(name))).toEqual([]);
  expect(exported.filter((name) => !queries.some((expr) => expr.includes(name)))).toEqual([]);
  const work = mkdtempSync(join(tmpdir(), 'portcullis-dashboard-'));
  try {
    writeFileSync(
      join(work, 'queries.yaml'),
      JSON.stringify({
        groups: [
          { name: 'dashboard', rules: queries.map((expr, index) => ({ record: `dashboard:query_${index}`, expr })) },
        ],
      }),
    );
    const { stdout } = await run('promtool', ['check', 'rules', join(work, 'queries.yaml')]);
    expect(stdout).toContain(`SUCCESS: ${queries.length} rules found`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}, 30_000);

const series = (name: string, values: string, pod = 'a') => ({
  series: `${name}{table="sessions",pod="${pod}"}`,
  values,
});

it('fires on a dead-row share above 20 % held for 30 minutes, not on a small or healthy table', async () => {
  const output = await promtoolTest(rules, [
    {
      interval: '1m',
      // Two auth-session replicas report the same figures: max, not sum, so the ratio stays 2/7.
      input_series: [
        series('session_store_live_rows', '50000x60'),
        series('session_store_dead_rows', '20000x60'),
        series('session_store_live_rows', '50000x60', 'b'),
        series('session_store_dead_rows', '20000x60', 'b'),
        series('session_store_last_autovacuum_seconds', '0x60'),
      ],
      alert_rule_test: [
        { eval_time: '20m', alertname: 'PortcullisSessionTableDeadRows', exp_alerts: [] },
        {
          eval_time: '40m',
          alertname: 'PortcullisSessionTableDeadRows',
          exp_alerts: [firing(rules, 'PortcullisSessionTableDeadRows', { table: 'sessions' })],
        },
        // Vacuumed at epoch 0, evaluated 40 minutes later: recent enough.
        { eval_time: '40m', alertname: 'PortcullisSessionTableVacuumStale', exp_alerts: [] },
      ],
    },
    {
      interval: '1m',
      input_series: [
        // Half dead but tiny: not worth a page.
        series('session_store_live_rows', '5000x60'),
        series('session_store_dead_rows', '5000x60'),
      ],
      alert_rule_test: [{ eval_time: '50m', alertname: 'PortcullisSessionTableDeadRows', exp_alerts: [] }],
    },
    {
      interval: '1m',
      input_series: [series('session_store_live_rows', '1000000x60'), series('session_store_dead_rows', '100000x60')],
      alert_rule_test: [{ eval_time: '50m', alertname: 'PortcullisSessionTableDeadRows', exp_alerts: [] }],
    },
  ]);
  expect(output).toContain('SUCCESS');
  expect(output).not.toContain('FAILED');
}, 30_000);

it('fires when the last vacuum is over 24 hours old while dead rows pile up', async () => {
  const output = await promtoolTest(rules, [
    {
      interval: '1m',
      input_series: [
        series('session_store_live_rows', '1000000x60'),
        series('session_store_dead_rows', '50000x60'),
        // Vacuumed 100,000 s before the test's epoch 0: over a day old from the start.
        series('session_store_last_autovacuum_seconds', '-100000x60'),
      ],
      alert_rule_test: [
        { eval_time: '20m', alertname: 'PortcullisSessionTableVacuumStale', exp_alerts: [] },
        {
          eval_time: '40m',
          alertname: 'PortcullisSessionTableVacuumStale',
          exp_alerts: [firing(rules, 'PortcullisSessionTableVacuumStale', { table: 'sessions' })],
        },
        { eval_time: '40m', alertname: 'PortcullisSessionTableDeadRows', exp_alerts: [] },
      ],
    },
    {
      interval: '1m',
      // As old, but few dead rows: a quiet table that needs no vacuum.
      input_series: [
        series('session_store_live_rows', '1000x60'),
        series('session_store_dead_rows', '10x60'),
        series('session_store_last_autovacuum_seconds', '-100000x60'),
      ],
      alert_rule_test: [{ eval_time: '50m', alertname: 'PortcullisSessionTableVacuumStale', exp_alerts: [] }],
    },
  ]);
  expect(output).toContain('SUCCESS');
  expect(output).not.toContain('FAILED');
}, 30_000);
