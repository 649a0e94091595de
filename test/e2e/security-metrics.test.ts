// The security counters behind the "Auth service" dashboard, driven by the actions that move
// them (real sign-ins, wrong second-factor codes, lockouts, recovery codes, CSRF failures, MFA
// resets and rollbacks), and the dashboard itself: every query valid PromQL (promtool) over
// metrics the services export.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { createMetrics, type ServiceMetrics } from '@portcullis/observability';
import { firing, promtoolTest, type RuleGroups } from '../support/prometheus-rules.js';
import {
  createAdminHarness,
  createTenant,
  createTenantAdmin,
  json,
  signIn,
  type AdminHarness,
  type Built,
} from '../support/admin-harness.js';

const DASHBOARD = new URL('../../helm/portcullis/files/dashboards/auth-service.json', import.meta.url);
let h: AdminHarness;
let built: Built;
let mfaMetrics: ServiceMetrics;

beforeAll(async () => {
  h = await createAdminHarness();
  mfaMetrics = createMetrics('mfa-admin');
  built = h.build({ metrics: mfaMetrics });
});
afterAll(() => h.close());

async function counted(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const values = (await metric.get()).values.filter((value) =>
    Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted),
  );
  return values.reduce((sum, value) => sum + value.value, 0);
}
const action = (registry: Registry, name: string) =>
  counted(registry, 'portcullis_audit_events_total', { action: name });

describe('security counters', () => {
  it('count failed sign-ins, wrong second-factor codes, lockouts, recovery codes and CSRF refusals at auth-session', async () => {
    const auth = built.authMetrics.registry;
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id, { recoveryCodes: ['abcd-efgh-jkmn'] });
    const wrong = { tenant: tenant.slug, email: admin.email, password: 'not the password' };
    for (let i = 0; i < 5; i++) await built.agent().post('/auth/login').set(json).send(wrong).expect(401);
    expect(await action(auth, 'auth.sign_in_failed')).toBe(5);
    expect(await action(auth, 'auth.account_locked')).toBe(1);
    expect(await counted(auth, 'auth_account_lockouts_total', { kind: 'tenant' })).toBe(1);

    const other = await createTenantAdmin(h, tenant.id, { recoveryCodes: ['pqrs-tuvw-xyz2'] });
    const agent = built.agent();
    await agent
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: other.email, password: other.password })
      .expect(200);
    // A wrong code at the second factor counts on its own, apart from the wrong passwords.
    await agent.post('/auth/mfa/verify').set(json).send({ code: '000000' }).expect(401);
    expect(await action(auth, 'auth.mfa_verify_failed')).toBe(1);
    expect(await action(auth, 'auth.sign_in_failed')).toBe(5);
    await agent.post('/auth/mfa/verify').set(json).send({ code: 'pqrs-tuvw-xyz2' }).expect(200);
    expect(await action(auth, 'auth.recovery_code_used')).toBe(1);

    await built.agent().post('/auth/login').type('form').send({ email: admin.email, password: 'x' }).expect(403);
    expect(await counted(auth, 'http_refusals_total', { code: 'csrf.invalid' })).toBe(1);
  });

  it('count MFA resets and rollbacks at mfa-admin once committed, not refused ones', async () => {
    const registry = mfaMetrics.registry;
    const operator = await signIn(built.agent(), h.clock, await h.seedPlatformAdmin());
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const reset = await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
      .set(json)
      .send({ reason: 'Lost phone' })
      .expect(200);
    await operator
      .post(`/admin/mfa-resets/${reset.body.reset.id}/rollback`)
      .set(json)
      .send({ reason: 'Found it' })
      .expect(200);
    await operator
      .post(`/admin/mfa-resets/${reset.body.reset.id}/rollback`)
      .set(json)
      .send({ reason: 'Again' })
      .expect(409);
    expect(await action(registry, 'mfa.reset')).toBe(1);
    expect(await action(registry, 'mfa.reset_rolled_back')).toBe(1);
    expect(await counted(registry, 'http_refusals_total', {})).toBe(1);
  });
});

describe('the Auth service dashboard', () => {
  it('is valid PromQL for promtool, over metrics the services export, and ships in the chart', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      uid: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dashboard.uid).toBe('portcullis-auth-service');
    const queries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
    expect(queries.length).toBeGreaterThanOrEqual(8);
    const work = mkdtempSync(join(tmpdir(), 'auth-dashboard-'));
    try {
      const file = join(work, 'queries.yaml');
      writeFileSync(
        file,
        JSON.stringify({
          groups: [
            { name: 'dashboard', rules: queries.map((expr, index) => ({ record: `dashboard:query_${index}`, expr })) },
          ],
        }),
      );
      const { stdout } = await promisify(execFile)('promtool', ['check', 'rules', file]);
      expect(stdout).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    // Every metric a query reads is one the apps register (the histogram's series included).
    const exported = new Set<string>();
    for (const registry of [built.authMetrics.registry, mfaMetrics.registry]) {
      for (const metric of registry.getMetricsAsArray())
        for (const suffix of ['', '_bucket', '_count', '_sum']) exported.add(`${metric.name}${suffix}`);
    }
    const used = queries.flatMap((expr) => expr.match(/\b(http_\w+|portcullis_\w+|auth_\w+)\b/g) ?? []);
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
    const template = readFileSync(new URL('../../helm/portcullis/templates/monitoring.yaml', import.meta.url), 'utf8');
    expect(template).toContain('files/dashboards/auth-service.json');
  });
});

describe('alerts on the security counters', () => {
  it('fire on a burst of failed sign-ins and of MFA resets, and stay quiet on a normal day', async () => {
    const { stdout } = await promisify(execFile)('helm', [
      'template',
      'prod',
      new URL('../../helm/portcullis', import.meta.url).pathname,
    ]);
    const rules = parseAllDocuments(stdout)
      .map((doc) => doc.toJS() as { kind?: string; spec: RuleGroups })
      .find((doc) => doc?.kind === 'PrometheusRule')!.spec;
    const output = await promtoolTest(rules, [
      {
        interval: '1m',
        input_series: [
          // 30 wrong passwords a minute for 10 minutes; one MFA reset every 5 minutes.
          {
            series: 'portcullis_audit_events_total{action="auth.sign_in_failed",service="auth-session"}',
            values: '0+30x20',
          },
          { series: 'portcullis_audit_events_total{action="mfa.reset",service="mfa-admin"}', values: '0+0.2x80' },
        ],
        alert_rule_test: [
          {
            eval_time: '10m',
            alertname: 'PortcullisFailedSignInBurst',
            exp_alerts: [firing(rules, 'PortcullisFailedSignInBurst', {}, '150')],
          },
          {
            eval_time: '70m',
            alertname: 'PortcullisMfaResetBurst',
            exp_alerts: [firing(rules, 'PortcullisMfaResetBurst', {}, '12')],
          },
        ],
      },
      {
        interval: '1m',
        input_series: [
          {
            series: 'portcullis_audit_events_total{action="auth.sign_in_failed",service="auth-session"}',
            values: '0+1x60',
          },
          { series: 'portcullis_audit_events_total{action="mfa.reset",service="mfa-admin"}', values: '0+0.05x80' },
        ],
        alert_rule_test: [
          { eval_time: '30m', alertname: 'PortcullisFailedSignInBurst', exp_alerts: [] },
          { eval_time: '70m', alertname: 'PortcullisMfaResetBurst', exp_alerts: [] },
        ],
      },
    ]);
    expect(output).toContain('SUCCESS');
    expect(output).not.toContain('FAILED');
  }, 30_000);
});
