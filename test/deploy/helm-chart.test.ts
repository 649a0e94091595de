// The Helm chart as helm renders it, and its alert rules as Prometheus reads them: `helm lint`,
// `helm template` with the default values and with the switches an operator flips, `promtool
// check rules` and `promtool test rules`. No cluster here (docs/testing.md): what a cluster
// would refuse (CRD schemas, admission) is not covered.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { secretVariables, variables } from '@portcullis/config';
import { createSessionStoreMetrics } from '@portcullis/session-store';

const run = promisify(execFile);
const chart = join(import.meta.dirname, '..', '..', 'helm', 'portcullis');
const work = mkdtempSync(join(tmpdir(), 'portcullis-chart-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered Kubernetes objects, walked by path as kubectl would
type Loose = any;
interface Manifest { kind: string; apiVersion: string; metadata: { name: string; annotations?: Record<string, string> }; spec: Loose; data?: Record<string, string> }

async function render(...sets: string[]): Promise<Manifest[]> {
  const { stdout } = await run('helm', ['template', 'prod', chart, ...sets.flatMap((set) => ['--set', set])]);
  return parseAllDocuments(stdout).map((document) => document.toJS() as Manifest).filter(Boolean);
}
const only = (manifests: Manifest[], kind: string) => manifests.filter((manifest) => manifest.kind === kind);
const one = (manifests: Manifest[], kind: string, name?: string) => {
  const found = only(manifests, kind).filter((manifest) => !name || manifest.metadata.name === name);
  expect(found).toHaveLength(1);
  return found[0]!;
};

let manifests: Manifest[];
beforeAll(async () => {
  manifests = await render();
}, 30_000);

it('passes helm lint --strict', async () => {
  const { stdout } = await run('helm', ['lint', '--strict', chart]);
  expect(stdout).toContain('0 chart(s) failed');
});

it('runs each service with probes on the admin port, as non-root on a read-only filesystem, with settings and secrets from their own objects', () => {
  const deployments = only(manifests, 'Deployment');
  expect(deployments.map((deployment) => deployment.metadata.name).sort()).toEqual(['prod-portcullis-audit-log', 'prod-portcullis-auth-session', 'prod-portcullis-mfa-admin']);
  const secretName = one(manifests, 'ExternalSecret', 'prod-portcullis-secrets').spec.target.name;
  const configName = one(manifests, 'ConfigMap', 'prod-portcullis-config').metadata.name;
  for (const deployment of deployments) {
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    expect(container.envFrom).toEqual([{ configMapRef: { name: configName } }, { secretRef: { name: secretName } }]);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  }
});

it('keeps every secret variable out of the ConfigMap and takes only known variables from Secrets Manager', () => {
  const configKeys = Object.keys(one(manifests, 'ConfigMap', 'prod-portcullis-config').data!);
  expect(configKeys.filter((key) => !(key in variables))).toEqual([]);
  expect(configKeys.filter((key) => (secretVariables as string[]).includes(key))).toEqual([]);
  const synced = one(manifests, 'ExternalSecret', 'prod-portcullis-secrets').spec.data.map((entry: { secretKey: string }) => entry.secretKey);
  expect(synced.filter((key: string) => !(key in variables))).toEqual([]);
  expect(synced).toEqual(expect.arrayContaining(['DATABASE_URL', 'SESSION_SECRET', 'MFA_SECRET_ENCRYPTION_KEY', 'MFA_RESET_LOG_ENCRYPTION_KEY', 'AUDIT_DETAILS_ENCRYPTION_KEY']));
});

it('migrates in a pre-install/pre-upgrade Job that gets only a direct database URL, after its secret and before any pod', async () => {
  const job = one(manifests, 'Job');
  const secret = one(manifests, 'ExternalSecret', 'prod-portcullis-migrations');
  expect(job.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '0' });
  expect(secret.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '-10' });
  expect(secret.metadata.annotations!['helm.sh/hook-delete-policy']).not.toContain('hook-succeeded');
  expect(secret.spec.data).toEqual([{ secretKey: 'DATABASE_URL', remoteRef: { key: 'portcullis/production', property: 'MIGRATIONS_DATABASE_URL' } }]);
  const [container] = job.spec.template.spec.containers;
  expect(container.envFrom).toEqual([{ secretRef: { name: secret.spec.target.name } }]);
  expect(container.command).toEqual(['node', '/app/services/cli/dist/main.js', 'migrate', 'latest', '--wait-seconds', '900']);
  expect(job.spec.backoffLimit).toBe(0);

  const contract = one(await render('migrations.contract=true'), 'Job');
  expect(contract.spec.template.spec.containers[0].command.at(-1)).toBe('--contract');
  expect(only(await render('migrations.enabled=false'), 'Job')).toEqual([]);
}, 30_000);

describe('alert rules', () => {
  const rulesFile = join(work, 'rules.yaml');
  beforeAll(() => {
    writeFileSync(rulesFile, JSON.stringify(one(manifests, 'PrometheusRule').spec));
  });

  it('are valid for promtool and use only metrics the services export', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', rulesFile]);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
    const registry = new Registry();
    createSessionStoreMetrics(registry);
    const exported = new Set([...registry.getMetricsAsArray().map((metric) => metric.name), 'mfa_reset_log_values']);
    const rules = one(manifests, 'PrometheusRule').spec.groups.flatMap((group: { rules: { expr: string }[] }) => group.rules);
    const used = rules.flatMap((rule: { expr: string }) => rule.expr.match(/\b(session_store_\w+|mfa_reset_log_values)\b/g) ?? []);
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((name: string) => !exported.has(name))).toEqual([]);
  });

  it('fire on failing dual writes and dropped repairs, and stay quiet while the stores agree', async () => {
    // promtool compares annotations too: the rule's own, with the store label filled in.
    const annotationsOf = (alert: string, labels: Record<string, string> = {}) => {
      const rule = one(manifests, 'PrometheusRule').spec.groups.flatMap((group: { rules: { alert: string; annotations: Record<string, string> }[] }) => group.rules).find((candidate: { alert: string }) => candidate.alert === alert);
      return Object.fromEntries(Object.entries(rule.annotations as Record<string, string>).map(([key, text]) => [key, text.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name]!)]));
    };
    const tests = {
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: 'session_store_dual_write_failures_total{store="dynamodb",op="put"}', values: '0+5x20' },
            { series: 'session_store_dual_write_failures_total{store="knex",op="put"}', values: '0+0x20' },
            { series: 'session_store_repair_queue_overflow_total', values: '0 0 0 0 0 3 3 3 3 3 3' },
            { series: 'session_store_consistency_mismatches_total{kind="missing"}', values: '0+0x20' },
          ],
          alert_rule_test: [
            { eval_time: '3m', alertname: 'PortcullisDualWriteFailing', exp_alerts: [] },
            { eval_time: '15m', alertname: 'PortcullisDualWriteFailing', exp_alerts: [{ exp_labels: { severity: 'warning', store: 'dynamodb' }, exp_annotations: annotationsOf('PortcullisDualWriteFailing', { store: 'dynamodb' }) }] },
            { eval_time: '8m', alertname: 'PortcullisSessionRepairsDropped', exp_alerts: [{ exp_labels: { severity: 'critical' }, exp_annotations: annotationsOf('PortcullisSessionRepairsDropped') }] },
            { eval_time: '15m', alertname: 'PortcullisSessionStoresDisagree', exp_alerts: [] },
          ],
        },
      ],
    };
    const testFile = join(work, 'rules.test.yaml');
    writeFileSync(testFile, JSON.stringify(tests));
    const result = await run('promtool', ['test', 'rules', testFile]).catch((error: { stdout?: string; stderr?: string }) => error);
    expect(`${result.stdout ?? ''}${result.stderr ?? ''}`).toContain('SUCCESS');
  });
});

describe('the session cutover dashboard', () => {
  it('ships as a ConfigMap for the Grafana sidecar, each query valid PromQL over metrics the services export', async () => {
    const configMap = one(manifests, 'ConfigMap', 'prod-portcullis-dashboards');
    expect(configMap.metadata).toMatchObject({ labels: { grafana_dashboard: '1' } });
    const dashboard = JSON.parse(configMap.data!['portcullis-session-cutover.json']!) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };
    expect(dashboard.uid).toBe('portcullis-session-cutover');
    const queries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
    expect(queries.length).toBeGreaterThanOrEqual(9);
    // promtool parses every query as a recording rule: a typo in PromQL fails here, not on a wall screen.
    const file = join(work, 'dashboard-queries.yaml');
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules: queries.map((expr, index) => ({ record: `dashboard:query_${index}`, expr })) }] }));
    const { stdout } = await run('promtool', ['check', 'rules', file]);
    expect(stdout).toContain(`SUCCESS: ${queries.length} rules found`);
    const registry = new Registry();
    createSessionStoreMetrics(registry);
    const exported = new Set(registry.getMetricsAsArray().flatMap((metric) => [metric.name, `${metric.name}_bucket`]));
    const used = queries.flatMap((expr) => expr.match(/\bsession_store_\w+/g) ?? []);
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  });
});
