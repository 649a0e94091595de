// The store-move alerts as the chart ships them, run by promtool over the series real pods export:
// each pod's session_store_phase_info and session_store_phase_compatible come from the same
// code the services use (compatiblePositions), so the alert and the adjacency rule cannot drift.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { compatiblePositions, phaseValues, type PhasePosition } from '@portcullis/config';
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

const labels = (position: PhasePosition) => {
  const { phase, from, to } = phaseValues(position);
  return `phase="${phase}",from="${from}",to="${to}"`;
};
/** What one pod in `position` exports about its phase, for `minutes` scrapes. */
function pod(name: string, position: PhasePosition, values = '1x20') {
  return [
    { series: `session_store_phase_info{${labels(position)},config_hash="h",pod="${name}"}`, values },
    ...compatiblePositions(position).map((compatible) => ({
      series: `session_store_phase_compatible{${labels(compatible)},pod="${name}"}`,
      values,
    })),
  ];
}
const single = (from: 'knex' | 'dynamodb'): PhasePosition => ({ phase: 'single', from });
const at = (phase: PhasePosition['phase']): PhasePosition => ({ phase, from: 'knex', to: 'dynamodb' });
/** Prometheus drops an empty label (`to` of the single phase); the annotation still reads it as ''. */
function withoutEmptyLabels(alert: ReturnType<typeof firing>) {
  return {
    ...alert,
    exp_labels: Object.fromEntries(Object.entries(alert.exp_labels).filter(([, value]) => value !== '')),
  };
}
const check = async (tests: unknown[]) => {
  const output = await promtoolTest(rules, tests);
  expect(output).toContain('SUCCESS');
  expect(output).not.toContain('FAILED');
};

describe('PortcullisSessionPhasesNotAdjacent', () => {
  it('stays quiet through every step of a move, two neighbouring phases side by side', async () => {
    const steps: PhasePosition[] = [
      single('knex'),
      at('dual-write'),
      at('cutover'),
      at('retiring'),
      single('dynamodb'),
    ];
    await check(
      steps.slice(1).map((next, index) => ({
        interval: '1m',
        input_series: [...pod('a', steps[index]!), ...pod('b', steps[index]!), ...pod('c', next)],
        alert_rule_test: [{ eval_time: '10m', alertname: 'PortcullisSessionPhasesNotAdjacent', exp_alerts: [] }],
      })),
    );
  }, 30_000);

  it('fires on a skipped phase, naming both phases, and on two moves at once', async () => {
    await check([
      {
        interval: '1m',
        input_series: [...pod('a', single('knex')), ...pod('b', single('knex')), ...pod('c', at('cutover'))],
        alert_rule_test: [
          { eval_time: '1m', alertname: 'PortcullisSessionPhasesNotAdjacent', exp_alerts: [] },
          {
            eval_time: '5m',
            alertname: 'PortcullisSessionPhasesNotAdjacent',
            exp_alerts: [
              firing(
                rules,
                'PortcullisSessionPhasesNotAdjacent',
                { phase: 'cutover', from: 'knex', to: 'dynamodb' },
                '1',
              ),
              withoutEmptyLabels(
                firing(rules, 'PortcullisSessionPhasesNotAdjacent', { phase: 'single', from: 'knex', to: '' }, '2'),
              ),
            ],
          },
        ],
      },
      {
        interval: '1m',
        input_series: [...pod('a', at('dual-write')), ...pod('b', { phase: 'dual-write', from: 'knex', to: 'redis' })],
        alert_rule_test: [
          {
            eval_time: '5m',
            alertname: 'PortcullisSessionPhasesNotAdjacent',
            exp_alerts: [
              firing(
                rules,
                'PortcullisSessionPhasesNotAdjacent',
                { phase: 'dual-write', from: 'knex', to: 'dynamodb' },
                '1',
              ),
              firing(
                rules,
                'PortcullisSessionPhasesNotAdjacent',
                { phase: 'dual-write', from: 'knex', to: 'redis' },
                '1',
              ),
            ],
          },
        ],
      },
    ]);
  }, 30_000);
});

describe('PortcullisSessionStoreCountsDiverge', () => {
  const counts = (knex: string, dynamodb: string) => [
    { series: 'session_store_items{store="knex",state="live",pod="a"}', values: knex },
    { series: 'session_store_items{store="dynamodb",state="live",pod="a"}', values: dynamodb },
    { series: 'session_store_items{store="dynamodb",state="live",pod="b"}', values: dynamodb },
  ];

  it('fires when the live counts stay more than 2% apart for 15 minutes of the cutover', async () => {
    await check([
      {
        interval: '1m',
        input_series: [...pod('a', at('cutover'), '1x40'), ...counts('1000x40', '900x40')],
        alert_rule_test: [
          { eval_time: '10m', alertname: 'PortcullisSessionStoreCountsDiverge', exp_alerts: [] },
          {
            eval_time: '20m',
            alertname: 'PortcullisSessionStoreCountsDiverge',
            exp_alerts: [firing(rules, 'PortcullisSessionStoreCountsDiverge', {}, '10%')],
          },
        ],
      },
    ]);
  }, 30_000);

  it('stays quiet within 2%, and in dual-write (before the backfill the new store is empty)', async () => {
    await check([
      {
        interval: '1m',
        input_series: [...pod('a', at('cutover'), '1x40'), ...counts('1000x40', '990x40')],
        alert_rule_test: [{ eval_time: '30m', alertname: 'PortcullisSessionStoreCountsDiverge', exp_alerts: [] }],
      },
      {
        interval: '1m',
        input_series: [...pod('a', at('dual-write'), '1x40'), ...counts('1000x40', '0x40')],
        alert_rule_test: [{ eval_time: '30m', alertname: 'PortcullisSessionStoreCountsDiverge', exp_alerts: [] }],
      },
    ]);
  }, 30_000);
});

describe('PortcullisSessionFallbackReadsAfterCutover', () => {
  const fallbacks = (values: string) => [
    { series: 'session_store_read_fallbacks_total{reason="primary_miss",pod="a"}', values },
  ];

  it('fires when the old store still answers reads 30 minutes into the cutover, and not for a burst during its rollout', async () => {
    await check([
      {
        interval: '1m',
        input_series: fallbacks('0+2x60'),
        alert_rule_test: [
          { eval_time: '20m', alertname: 'PortcullisSessionFallbackReadsAfterCutover', exp_alerts: [] },
          {
            eval_time: '40m',
            alertname: 'PortcullisSessionFallbackReadsAfterCutover',
            exp_alerts: [firing(rules, 'PortcullisSessionFallbackReadsAfterCutover')],
          },
        ],
      },
      {
        interval: '1m',
        input_series: fallbacks('0+5x10 50x50'),
        alert_rule_test: [
          { eval_time: '50m', alertname: 'PortcullisSessionFallbackReadsAfterCutover', exp_alerts: [] },
        ],
      },
    ]);
  }, 30_000);
});

describe('PortcullisSessionStoresDisagree', () => {
  const mismatches = (kind: string) => [
    { series: `session_store_consistency_mismatches_total{kind="${kind}",pod="a"}`, values: '0 0 1 2 3 3 3 3 3 3 3' },
  ];

  it("stays quiet on the copies a single-store pod's logout leaves beside dual-write or retiring", async () => {
    await check([
      {
        interval: '1m',
        input_series: [...pod('a', at('dual-write'), '1x10'), ...mismatches('missing_in_primary')],
        alert_rule_test: [{ eval_time: '5m', alertname: 'PortcullisSessionStoresDisagree', exp_alerts: [] }],
      },
      {
        interval: '1m',
        input_series: [...pod('a', at('retiring'), '1x10'), ...mismatches('missing_in_primary')],
        alert_rule_test: [{ eval_time: '5m', alertname: 'PortcullisSessionStoresDisagree', exp_alerts: [] }],
      },
    ]);
  }, 30_000);

  it('fires on them in the cutover, and on any other kind in any phase', async () => {
    await check([
      {
        interval: '1m',
        input_series: [...pod('a', at('cutover'), '1x10'), ...mismatches('missing_in_primary')],
        alert_rule_test: [
          {
            eval_time: '5m',
            alertname: 'PortcullisSessionStoresDisagree',
            exp_alerts: [firing(rules, 'PortcullisSessionStoresDisagree')],
          },
        ],
      },
      {
        interval: '1m',
        input_series: [...pod('a', at('dual-write'), '1x10'), ...mismatches('data')],
        alert_rule_test: [
          {
            eval_time: '5m',
            alertname: 'PortcullisSessionStoresDisagree',
            exp_alerts: [firing(rules, 'PortcullisSessionStoresDisagree')],
          },
        ],
      },
    ]);
  }, 30_000);
});
