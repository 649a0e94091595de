// The sign-in alert as the chart ships it: the metric is one auth-session registers, and
// `promtool test rules` shows it fire on a run of lockouts and stay quiet on a stray one.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { firing, promtoolTest, type RuleGroups } from '../support/prometheus-rules.js';

const run = promisify(execFile);
const chart = join(import.meta.dirname, '..', '..', 'helm', 'portcullis');
let rules: RuleGroups;

beforeAll(async () => {
  const { stdout } = await run('helm', ['template', 'prod', chart]);
  rules = parseAllDocuments(stdout)
    .map((doc) => doc.toJS() as { kind?: string; spec: RuleGroups })
    .find((doc) => doc?.kind === 'PrometheusRule')!.spec;
}, 30_000);

// The same name is read back from auth-session's registry in services/auth-session/test/session-policy.test.ts.
it('counts lockouts with the metric auth-session exports', () => {
  const rule = rules.groups
    .flatMap((group) => group.rules)
    .find((candidate) => candidate.alert === 'PortcullisAccountLockouts')!;
  expect(rule.expr).toBe('sum(increase(auth_account_lockouts_total[15m])) > 3');
});

it('fires on more than 3 lockouts in 15 minutes, across pods, and stays quiet on a few', async () => {
  const lockouts = (pod: string) => `auth_account_lockouts_total{kind="tenant",pod="${pod}"}`;
  const output = await promtoolTest(rules, [
    {
      interval: '1m',
      input_series: [
        { series: lockouts('a'), values: '0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1' },
        { series: lockouts('b'), values: '0x20' },
      ],
      alert_rule_test: [{ eval_time: '15m', alertname: 'PortcullisAccountLockouts', exp_alerts: [] }],
    },
    {
      interval: '1m',
      input_series: [
        { series: lockouts('a'), values: '0 0 1 2 3 3 3 3 3 3 3 3' },
        { series: lockouts('b'), values: '0 0 0 1 2 2 2 2 2 2 2 2' },
      ],
      alert_rule_test: [
        { eval_time: '2m', alertname: 'PortcullisAccountLockouts', exp_alerts: [] },
        {
          eval_time: '10m',
          alertname: 'PortcullisAccountLockouts',
          exp_alerts: [firing(rules, 'PortcullisAccountLockouts', {}, '5')],
        },
      ],
    },
  ]);
  expect(output).toContain('SUCCESS');
  expect(output).not.toContain('FAILED');
}, 30_000);
