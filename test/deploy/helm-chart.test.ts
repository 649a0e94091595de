// The Helm chart as helm renders it: `helm lint --strict` and values.schema.json over the
// default, staging and production values and each store driver, the refusals an operator sees,
// what each object routes, admits and runs, and its alert rules as Prometheus reads them. What
// only an API server checks (CRD schemas, admission, hooks in order) is the cluster test's.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { parse, parseAllDocuments } from 'yaml';
import { buildProgram } from '@portcullis/cli';
import { secretVariables, variables } from '@portcullis/config';
import knex from 'knex';
import { createSessionStoreMetrics, createSessionTableMetrics } from '@portcullis/session-store';
import { expectedAnnotations, type RuleGroups } from '../support/prometheus-rules.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const chart = join(root, 'helm', 'portcullis');
const staging = join(root, 'k8s', 'values-staging.yaml');
const production = join(root, 'k8s', 'values-production.yaml');
const work = mkdtempSync(join(tmpdir(), 'portcullis-chart-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered Kubernetes objects, walked by path as kubectl would
type Loose = any;
interface Manifest {
  kind: string;
  apiVersion: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Loose;
  data?: Record<string, string>;
}

const flags = (options: { files?: string[]; sets?: string[] }) => [
  ...(options.files ?? []).flatMap((file) => ['-f', file]),
  ...(options.sets ?? []).flatMap((set) => ['--set', set]),
];
async function render(...sets: string[]): Promise<Manifest[]> {
  return renderWith({ sets });
}
async function renderWith(options: { files?: string[]; sets?: string[] }): Promise<Manifest[]> {
  const { stdout } = await run('helm', ['template', 'prod', chart, ...flags(options)], { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((document) => document.toJS() as Manifest)
    .filter(Boolean);
}
/** helm's refusal, whole: the text an operator reads. */
async function refusal(...sets: string[]): Promise<string> {
  const result = await run('helm', ['template', 'prod', chart, ...flags({ sets })]).then(
    () => 'rendered without complaint',
    (error: { stderr?: string }) => error.stderr ?? '',
  );
  return result;
}
const only = (manifests: Manifest[], kind: string) => manifests.filter((manifest) => manifest.kind === kind);
const one = (manifests: Manifest[], kind: string, name?: string) => {
  const found = only(manifests, kind).filter((manifest) => !name || manifest.metadata.name === name);
  expect(found).toHaveLength(1);
  return found[0]!;
};
/** Every pod template of the release, with where it came from. */
const podsOf = (manifests: Manifest[]): { from: string; pod: Loose }[] =>
  manifests.flatMap((manifest) => {
    const from = `${manifest.kind}/${manifest.metadata.name}`;
    if (manifest.kind === 'Pod') return [{ from, pod: manifest.spec }];
    if (manifest.kind === 'Deployment' || manifest.kind === 'Job') return [{ from, pod: manifest.spec.template.spec }];
    if (manifest.kind === 'CronJob') return [{ from, pod: manifest.spec.jobTemplate.spec.template.spec }];
    return [];
  });

const services = ['auth-session', 'mfa-admin', 'audit-log'];
const cliMain = '/app/services/cli/dist/main.js';
const dual = ['sessionStore.phase=dual-write', 'sessionStore.from=knex', 'sessionStore.to=dynamodb'];
const drivers: [string, string[]][] = [
  ['redis', ['sessionStore.from=redis']],
  ['knex', ['sessionStore.from=knex']],
  ['dynamodb', ['sessionStore.from=dynamodb']],
  ['dual-write', dual],
  ['cutover', ['sessionStore.phase=cutover', 'sessionStore.from=knex', 'sessionStore.to=dynamodb']],
  ['retiring', ['sessionStore.phase=retiring', 'sessionStore.from=redis', 'sessionStore.to=knex']],
  ['memory (development only)', ['config.NODE_ENV=development', 'sessionStore.from=memory']],
  [
    'deprecated dual variables',
    [
      'config.SESSION_STORE_DRIVER=dual',
      'config.SESSION_STORE_PRIMARY=knex',
      'config.SESSION_STORE_SECONDARY=dynamodb',
      'config.SESSION_DUAL_FALLBACK_ON_MISS=false',
    ],
  ],
];

let manifests: Manifest[];
let productionManifests: Manifest[];
beforeAll(async () => {
  [manifests, productionManifests] = await Promise.all([render(), renderWith({ files: [production] })]);
}, 60_000);

describe('lint and schema', () => {
  it.each([
    ['the default values', {}],
    ['k8s/values-staging.yaml', { files: [staging] }],
    ['k8s/values-production.yaml', { files: [production] }],
  ])(
    'pass helm lint --strict and the schema with %s',
    async (_, options) => {
      const { stdout } = await run('helm', ['lint', '--strict', chart, ...flags(options)]);
      expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    },
    30_000,
  );

  it.each(drivers)(
    'pass helm lint --strict and the schema with the %s store',
    async (_, sets) => {
      const { stdout } = await run('helm', ['lint', '--strict', chart, ...flags({ sets })]);
      expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    },
    30_000,
  );

  it('refuse bad values with a message naming the value and what is wanted', async () => {
    const cases: [string[], RegExp][] = [
      [['services.auth-session.replicas=-1'], /at '\/services\/auth-session\/replicas': minimum: got -1, want 0/],
      [
        ['config.SESSION_STORE_DRIVER=mongo'],
        /at '\/config\/SESSION_STORE_DRIVER': value must be one of 'memory', 'redis', 'knex', 'dynamodb', 'dual'/,
      ],
      // NODE_ENV=production (the default): the memory store is refused.
      [
        ['config.SESSION_STORE_DRIVER=memory'],
        /at '\/config\/SESSION_STORE_DRIVER': value must be one of 'redis', 'knex', 'dynamodb', 'dual'/,
      ],
      [['sessionStore.from=memory'], /at '\/sessionStore\/from': value must be one of 'redis', 'knex', 'dynamodb'/],
      [
        ['sessionStore.phase=cutover', 'sessionStore.from=knex'],
        /at '\/sessionStore\/to': value must be one of 'memory', 'redis', 'knex', 'dynamodb'/,
      ],
      [['sessionStore.phase=single', 'sessionStore.to=knex'], /at '\/sessionStore\/to': value must be ''/],
      [
        ['sessionStore.phase=dual-write', 'sessionStore.from=knex', 'sessionStore.to=knex'],
        /sessionStore.to is knex, the same store as sessionStore.from/,
      ],
      [
        ['sessionStore.phase=skipping'],
        /at '\/sessionStore\/phase': value must be one of 'single', 'dual-write', 'cutover', 'retiring'/,
      ],
      [
        ['config.SESSION_STORE_DRIVER=knex', ...dual],
        /config.SESSION_STORE_DRIVER: deprecated, and sessionStore is set too/,
      ],
      [
        ['config.SESSION_STORE_PHASE=cutover'],
        /at '\/config': additional properties 'SESSION_STORE_PHASE' not allowed/,
      ],
      [['config.SESSION_STORE_DRIVER=dual'], /missing properties 'SESSION_STORE_PRIMARY', 'SESSION_STORE_SECONDARY'/],
      [['httpPort=70000'], /at '\/httpPort': maximum: got 70,000, want 65,535/],
      [['adminPort=0'], /at '\/adminPort': minimum: got 0, want 1/],
      [['adminPort=8080'], /httpPort and adminPort are both 8080/],
      [['replicas=3'], /additional properties 'replicas' not allowed/],
      [['config.SESSION_SECRET=not-here'], /at '\/config': additional properties 'SESSION_SECRET' not allowed/],
      [['config.LOG_LEVEL=loud'], /at '\/config\/LOG_LEVEL': value must be one of/],
      [['ingress.enabled=true'], /at '\/ingress\/host': '' does not match pattern/],
      [['networkPolicy.enabled=true'], /at '\/networkPolicy\/egress\/database\/cidrs': minItems: got 0, want 1/],
      [
        ['networkPolicy.enabled=true', 'networkPolicy.egress.database.cidrs={10.0.0.0/33x}'],
        /at '\/networkPolicy\/egress\/database\/cidrs\/0'/,
      ],
      [
        ['externalSecrets.parameterStore.keys={SESSION_SECRET}'],
        /SESSION_SECRET is also in externalSecrets.keys; a variable comes from one place/,
      ],
      [['jobs.mfaLogsRewrap.shards=0'], /at '\/jobs\/mfaLogsRewrap\/shards': minimum: got 0, want 1/],
    ];
    const messages = await Promise.all(cases.map(([sets]) => refusal(...sets)));
    cases.forEach(([sets, expected], index) => {
      expect(`${sets.join(' ')} → ${messages[index]}`).toMatch(expected);
    });
  }, 60_000);

  it('lists in config every plain variable of the code and no secret one', () => {
    const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8')) as {
      properties: { config: { properties: Record<string, unknown> } };
    };
    // The chart sets the ports itself; the default admin's email comes with the password from Secrets Manager.
    const expected = Object.keys(variables).filter(
      (name) =>
        !(secretVariables as string[]).includes(name) &&
        ![
          'HTTP_PORT',
          'ADMIN_PORT',
          'DEFAULT_PLATFORM_ADMIN_EMAIL',
          'SESSION_STORE_PHASE',
          'SESSION_STORE_FROM',
          'SESSION_STORE_TO',
        ].includes(name),
    );
    expect(Object.keys(schema.properties.config.properties).sort()).toEqual(expected.sort());
  });
});

it('runs each service with probes on the admin port, as non-root on a read-only filesystem, with settings and secrets from their own objects', () => {
  const deployments = only(manifests, 'Deployment');
  expect(deployments.map((deployment) => deployment.metadata.name).sort()).toEqual([
    'prod-portcullis-audit-log',
    'prod-portcullis-auth-session',
    'prod-portcullis-mfa-admin',
  ]);
  const secretName = one(manifests, 'ExternalSecret', 'prod-portcullis-secrets').spec.target.name;
  const parametersName = one(manifests, 'ExternalSecret', 'prod-portcullis-parameters').spec.target.name;
  const configName = one(manifests, 'ConfigMap', 'prod-portcullis-config').metadata.name;
  for (const deployment of deployments) {
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    expect(container.envFrom).toEqual([
      { configMapRef: { name: configName } },
      { secretRef: { name: secretName } },
      { secretRef: { name: parametersName } },
    ]);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    // Keeps serving while its endpoint is removed, then drains; all within the grace period.
    expect(container.lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(5 + 10 + 5);
    const component = deployment.metadata.labels!['app.kubernetes.io/component'];
    expect(pod.topologySpreadConstraints.map((constraint: Loose) => constraint.topologyKey)).toEqual([
      'topology.kubernetes.io/zone',
      'kubernetes.io/hostname',
    ]);
    expect(pod.topologySpreadConstraints[0].labelSelector.matchLabels).toEqual({
      'app.kubernetes.io/instance': 'prod',
      'app.kubernetes.io/component': component,
    });
    expect(
      pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector
        .matchLabels,
    ).toEqual({ 'app.kubernetes.io/instance': 'prod', 'app.kubernetes.io/component': component });
  }
});

it('gives every pod what the restricted Pod Security level demands', async () => {
  const pods = podsOf([...manifests, ...(await render(...dual))]);
  expect(pods.length).toBeGreaterThanOrEqual(3 + 1 + 6 + 1);
  for (const { from, pod } of pods) {
    // Only the cutover gate and the jobs that record its evidence talk to the Kubernetes API (templates/cutover-gate.yaml).
    const talksToKube = [
      'Job/prod-portcullis-cutover-gate',
      'CronJob/prod-portcullis-sessions-verify',
      'CronJob/prod-portcullis-sessions-backfill',
    ].includes(from);
    expect({ from, automount: pod.automountServiceAccountToken ?? podAccountAutomount(from) }).toEqual({
      from,
      automount: talksToKube,
    });
    const context = { from, pod: pod.securityContext };
    expect(context).toMatchObject({ pod: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } });
    expect(pod.hostNetwork ?? pod.hostPID ?? pod.hostIPC).toBeUndefined();
    expect((pod.volumes ?? []).filter((volume: Loose) => !volume.emptyDir)).toEqual([]);
    for (const container of pod.containers) {
      expect({ from, container: container.securityContext }).toEqual({
        from,
        container: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      });
      expect(container.ports?.some((port: Loose) => port.hostPort)).toBeFalsy();
    }
  }
}, 30_000);

/** Deployments rely on the release's ServiceAccount saying automountServiceAccountToken: false. */
function podAccountAutomount(from: string): boolean | undefined {
  const account = one(manifests, 'ServiceAccount', 'prod-portcullis') as Loose;
  return from.startsWith('Deployment/') ? account.automountServiceAccountToken : undefined;
}

it('gives the helm test pod no AWS role: not the release account IRSA annotates', () => {
  const pod = one(productionManifests, 'Pod', 'prod-portcullis-test-health').spec;
  expect(pod.serviceAccountName).toBe('default');
});

describe('autoscaling', () => {
  it('scales each service with an HPA that owns the replica count', () => {
    const hpas = only(productionManifests, 'HorizontalPodAutoscaler');
    expect(hpas.map((hpa) => hpa.spec.scaleTargetRef.name).sort()).toEqual(
      services.map((name) => `prod-portcullis-${name}`).sort(),
    );
    expect(one(productionManifests, 'HorizontalPodAutoscaler', 'prod-portcullis-auth-session').spec).toMatchObject({
      minReplicas: 3,
      maxReplicas: 12,
      metrics: [{ resource: { name: 'cpu', target: { averageUtilization: 65 } } }],
    });
    for (const deployment of only(productionManifests, 'Deployment')) expect(deployment.spec.replicas).toBeUndefined();
  });

  it('leaves the replica count to the values when a service autoscaling is off', async () => {
    const rendered = await render('services.audit-log.autoscaling.enabled=false', 'services.audit-log.replicas=3');
    expect(
      only(rendered, 'HorizontalPodAutoscaler')
        .map((hpa) => hpa.metadata.name)
        .sort(),
    ).toEqual(['prod-portcullis-auth-session', 'prod-portcullis-mfa-admin']);
    expect(one(rendered, 'Deployment', 'prod-portcullis-audit-log').spec.replicas).toBe(3);
  }, 30_000);
});

describe('the Ingress', () => {
  it('routes /auth, /admin and /audit on one host to the HTTP ports only, with TLS and annotations from the values', () => {
    const ingress = one(productionManifests, 'Ingress');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ hosts: ['portcullis.example.com'], secretName: 'portcullis-tls' }]);
    expect(ingress.metadata.annotations).toMatchObject({ 'cert-manager.io/cluster-issuer': 'letsencrypt-production' });
    expect(ingress.spec.rules).toHaveLength(1);
    expect(ingress.spec.rules[0].host).toBe('portcullis.example.com');
    const routes = ingress.spec.rules[0].http.paths.map((path: Loose) => [
      path.path,
      path.pathType,
      path.backend.service.name,
      path.backend.service.port,
    ]);
    expect(routes.sort()).toEqual([
      ['/admin', 'Prefix', 'prod-portcullis-mfa-admin', { name: 'http' }],
      ['/audit', 'Prefix', 'prod-portcullis-audit-log', { name: 'http' }],
      ['/auth', 'Prefix', 'prod-portcullis-auth-session', { name: 'http' }],
    ]);
    // The port named http is the Service's HTTP port, never the admin one.
    for (const service of only(productionManifests, 'Service')) {
      const ports = Object.fromEntries(service.spec.ports.map((port: Loose) => [port.name, port.port]));
      expect(ports).toEqual({ http: 8080, admin: 9090 });
    }
  });

  it('is not rendered unless enabled', () => {
    expect(only(manifests, 'Ingress')).toEqual([]);
  });
});

describe('NetworkPolicies', () => {
  it('admit the ingress controller to the HTTP port, Prometheus to the admin port, the helm test pod to both, nothing else', () => {
    const policy = one(productionManifests, 'NetworkPolicy', 'prod-portcullis-ingress').spec;
    expect(policy.podSelector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'portcullis',
      'app.kubernetes.io/instance': 'prod',
    });
    expect(policy.policyTypes).toEqual(['Ingress']);
    expect(policy.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } },
          },
          {
            podSelector: {
              matchLabels: { 'app.kubernetes.io/instance': 'prod', 'app.kubernetes.io/component': 'helm-test' },
            },
          },
        ],
        ports: [{ protocol: 'TCP', port: 8080 }],
      },
      {
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
          },
          {
            podSelector: {
              matchLabels: { 'app.kubernetes.io/instance': 'prod', 'app.kubernetes.io/component': 'helm-test' },
            },
          },
        ],
        ports: [{ protocol: 'TCP', port: 9090 }],
      },
    ]);
  });

  it('let the helm test pod reach every port it calls', () => {
    const test = one(productionManifests, 'Pod');
    const urls: string[] = test.spec.containers[0].env
      .find((variable: Loose) => variable.name === 'PORTCULLIS_TEST_URLS')
      .value.split(' ');
    const ports = [...new Set(urls.map((url) => Number(new URL(url).port)))].sort();
    const admits = (rule: Loose) =>
      rule.from.some(
        (peer: Loose) =>
          !peer.namespaceSelector &&
          Object.entries(peer.podSelector.matchLabels).every(([key, value]) => test.metadata.labels![key] === value),
      );
    const admitted = one(productionManifests, 'NetworkPolicy', 'prod-portcullis-ingress')
      .spec.ingress.filter(admits)
      .flatMap((rule: Loose) => rule.ports.map((port: Loose) => port.port));
    expect(ports).toEqual([8080, 9090]);
    expect(ports.filter((port) => !admitted.includes(port))).toEqual([]);
    const egress = one(productionManifests, 'NetworkPolicy', 'prod-portcullis-helm-test').spec;
    expect(
      Object.entries(egress.podSelector.matchLabels).every(([key, value]) => test.metadata.labels![key] === value),
    ).toBe(true);
    expect(
      egress.egress
        .at(-1)
        .ports.map((port: Loose) => port.port)
        .sort(),
    ).toEqual(ports);
  });

  it('let the pods out only to DNS, the database, Redis and the AWS endpoints', () => {
    const policy = one(productionManifests, 'NetworkPolicy', 'prod-portcullis-egress').spec;
    expect(policy.policyTypes).toEqual(['Egress']);
    expect(policy.egress).toEqual([
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
      {
        to: [{ ipBlock: { cidr: '10.0.32.0/20' } }, { ipBlock: { cidr: '10.0.48.0/20' } }],
        ports: [{ protocol: 'TCP', port: 5432 }],
      },
      { to: [{ ipBlock: { cidr: '10.0.64.0/20' } }], ports: [{ protocol: 'TCP', port: 6379 }] },
      { to: [{ ipBlock: { cidr: '10.0.96.0/24' } }], ports: [{ protocol: 'TCP', port: 443 }] },
    ]);
    // Every pod but the test pod is held by it, Jobs included.
    const test = one(productionManifests, 'Pod');
    expect(policy.podSelector.matchExpressions).toEqual([
      {
        key: 'app.kubernetes.io/component',
        operator: 'NotIn',
        values: [test.metadata.labels!['app.kubernetes.io/component']],
      },
    ]);
    const held = podsOf(productionManifests)
      .filter(({ from }) => from !== `Pod/${test.metadata.name}`)
      .map(({ from }) => from);
    expect(held).toEqual(
      expect.arrayContaining([
        'Job/prod-portcullis-migrate',
        'CronJob/prod-portcullis-mfa-logs-rewrap',
        'Deployment/prod-portcullis-auth-session',
      ]),
    );
    for (const from of held)
      expect({ from, labels: podLabels(productionManifests, from) }).toMatchObject({
        from,
        labels: policy.podSelector.matchLabels,
      });
  });

  it('are not rendered when switched off', () => {
    expect(only(manifests, 'NetworkPolicy')).toEqual([]);
  });
});

function podLabels(rendered: Manifest[], from: string): Record<string, string> {
  const manifest = rendered.find((candidate) => `${candidate.kind}/${candidate.metadata.name}` === from)!;
  if (manifest.kind === 'CronJob') return manifest.spec.jobTemplate.spec.template.metadata.labels;
  return manifest.spec.template.metadata.labels;
}

describe('rolling the pods', () => {
  const checksums = (rendered: Manifest[]) =>
    only(rendered, 'Deployment').map(
      (deployment) => deployment.spec.template.metadata.annotations as Record<string, string>,
    );

  it('changes the config checksum of every Deployment when a setting changes, and nothing else', async () => {
    const before = checksums(manifests);
    const after = checksums(await render('config.LOG_LEVEL=debug'));
    expect(after).toHaveLength(3);
    after.forEach((annotations, index) => {
      expect(annotations['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
      expect(annotations['checksum/config']).not.toBe(before[index]!['checksum/config']);
      expect(annotations['checksum/secrets']).toBe(before[index]!['checksum/secrets']);
    });
  }, 30_000);

  it('changes the secrets checksum when the synced variables change', async () => {
    const before = checksums(manifests);
    const after = checksums(await render('externalSecrets.remoteKey=portcullis/other'));
    after.forEach((annotations, index) =>
      expect(annotations['checksum/secrets']).not.toBe(before[index]!['checksum/secrets']),
    );
  }, 30_000);
});

describe('secrets', () => {
  it('keeps every secret variable out of the ConfigMap and takes only known variables from AWS, each from one place', () => {
    const configKeys = Object.keys(one(manifests, 'ConfigMap', 'prod-portcullis-config').data!);
    expect(configKeys.filter((key) => !(key in variables))).toEqual([]);
    expect(configKeys.filter((key) => (secretVariables as string[]).includes(key))).toEqual([]);
    expect(one(manifests, 'ConfigMap', 'prod-portcullis-config').data).toMatchObject({
      TRUSTED_PROXY_HOPS: '1',
      NODE_ENV: 'production',
    });
    const fromSecretsManager = one(manifests, 'ExternalSecret', 'prod-portcullis-secrets').spec.data as {
      secretKey: string;
      remoteRef: { key: string; property: string };
    }[];
    const fromParameterStore = one(manifests, 'ExternalSecret', 'prod-portcullis-parameters').spec as {
      secretStoreRef: Loose;
      data: { secretKey: string; remoteRef: { key: string } }[];
    };
    // The four secrets the checklist names come from Secrets Manager.
    expect(fromSecretsManager.map((entry) => entry.secretKey)).toEqual(
      expect.arrayContaining([
        'SESSION_SECRET',
        'DEFAULT_PLATFORM_ADMIN_EMAIL',
        'DEFAULT_PLATFORM_ADMIN_PASSWORD',
        'MFA_RESET_LOG_ENCRYPTION_KEY',
      ]),
    );
    expect(
      fromSecretsManager.every(
        (entry) => entry.remoteRef.key === 'portcullis/production' && entry.remoteRef.property === entry.secretKey,
      ),
    ).toBe(true);
    expect(fromParameterStore.secretStoreRef).toEqual({ name: 'aws-parameter-store', kind: 'ClusterSecretStore' });
    expect(
      fromParameterStore.data.every((entry) => entry.remoteRef.key === `/portcullis/production/${entry.secretKey}`),
    ).toBe(true);
    const synced = [...fromSecretsManager, ...fromParameterStore.data].map((entry) => entry.secretKey);
    expect(synced.filter((key) => !(key in variables))).toEqual([]);
    expect(new Set(synced).size).toBe(synced.length);
    // Every secret variable the services need in production comes from one of the two.
    expect(synced).toEqual(
      expect.arrayContaining([
        'DATABASE_URL',
        'SESSION_SECRET',
        'MFA_SECRET_ENCRYPTION_KEY',
        'MFA_RESET_LOG_ENCRYPTION_KEY',
        'AUDIT_DETAILS_ENCRYPTION_KEY',
      ]),
    );
  });

  it('uses a Secret the operator brings instead of ExternalSecrets', async () => {
    const rendered = await render(
      'secrets.existingSecret=portcullis-env',
      'secrets.migrationsExistingSecret=portcullis-migrate-env',
    );
    expect(only(rendered, 'ExternalSecret')).toEqual([]);
    for (const { from, pod } of podsOf(rendered).filter(({ from }) => !from.startsWith('Pod/'))) {
      const names = (pod.containers[0].envFrom ?? []).map((source: Loose) => source.secretRef?.name).filter(Boolean);
      // The cutover gate reads the cluster only: no setting, no secret.
      const expected =
        from === 'Job/prod-portcullis-cutover-gate'
          ? []
          : ['Job/prod-portcullis-migrate', 'CronJob/prod-portcullis-migrate-cli'].includes(from)
            ? ['portcullis-migrate-env']
            : ['portcullis-env'];
      expect({ from, names }).toEqual({ from, names: expected });
    }
  }, 30_000);

  it('gives the migration Job a hook-only Secret with the direct database URL alone, as docs/deploy.md says', () => {
    const secret = one(manifests, 'ExternalSecret', 'prod-portcullis-migrations');
    expect(secret.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '-10',
    });
    expect(secret.spec.target.name).toBe('prod-portcullis-migrations');
    expect(secret.spec.data).toEqual([
      { secretKey: 'DATABASE_URL', remoteRef: { key: 'portcullis/production', property: 'MIGRATIONS_DATABASE_URL' } },
    ]);
    const docs = readFileSync(join(root, 'docs', 'deploy.md'), 'utf8');
    expect(docs).toContain(
      '| ExternalSecret `<release>-portcullis-migrations` → Secret `<release>-portcullis-migrations` | hook (pre-install, pre-upgrade; weight -10) | `DATABASE_URL` ← property `MIGRATIONS_DATABASE_URL` of `externalSecrets.remoteKey`; nothing else |',
    );
  });
});

describe('Jobs', () => {
  it('migrates in a pre-install/pre-upgrade Job that gets only a direct database URL, after its secret and before any pod', async () => {
    const job = one(manifests, 'Job', 'prod-portcullis-migrate');
    const secret = one(manifests, 'ExternalSecret', 'prod-portcullis-migrations');
    expect(job.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '0',
    });
    expect(secret.metadata.annotations!['helm.sh/hook-delete-policy']).not.toContain('hook-succeeded');
    const [container] = job.spec.template.spec.containers;
    expect(container.envFrom).toEqual([{ secretRef: { name: secret.spec.target.name } }]);
    expect(container.command).toEqual(['node', cliMain, 'migrate', 'latest', '--wait-seconds', '900']);
    expect(job.spec.backoffLimit).toBe(0);

    const contract = one(await render('migrations.contract=true'), 'Job', 'prod-portcullis-migrate');
    expect(contract.spec.template.spec.containers[0].command.at(-1)).toBe('--contract');
    expect(only(await render('migrations.enabled=false'), 'Job').map((job) => job.metadata.name)).toEqual([
      'prod-portcullis-cutover-gate',
    ]);
  }, 30_000);

  it('runs every operational Job through the one CLI entry point with the services’ settings and secrets', async () => {
    const rendered = await render(...dual, 'cli.main=/opt/portcullis/cli.js', 'jobs.mfaLogsRewrap.shards=4');
    const cronJobs = only(rendered, 'CronJob');
    const commands = Object.fromEntries(
      cronJobs.map((cronJob) => {
        const [container] = cronJob.spec.jobTemplate.spec.template.spec.containers;
        // The migrate commands get what the migration Job gets: the direct database URL alone.
        expect({ name: cronJob.metadata.name, envFrom: container.envFrom }).toEqual({
          name: cronJob.metadata.name,
          envFrom:
            cronJob.metadata.name === 'prod-portcullis-migrate-cli'
              ? [{ secretRef: { name: 'prod-portcullis-migrations' } }]
              : [
                  { configMapRef: { name: 'prod-portcullis-config' } },
                  { secretRef: { name: 'prod-portcullis-secrets' } },
                  { secretRef: { name: 'prod-portcullis-parameters' } },
                ],
        });
        expect(container.command).toEqual(['node', '/opt/portcullis/cli.js']);
        return [
          cronJob.metadata.name,
          { args: container.args.join(' '), schedule: cronJob.spec.suspend ? 'template' : cronJob.spec.schedule },
        ];
      }),
    );
    expect(commands).toEqual({
      'prod-portcullis-sessions-cleanup': {
        args: 'sessions cleanup --json --batch-size 1000 --max-seconds 600',
        schedule: '17 * * * *',
      },
      'prod-portcullis-sessions-verify': {
        args: 'sessions verify --record --evidence-configmap prod-portcullis-cutover --evidence-namespace default',
        schedule: '*/15 * * * *',
      },
      'prod-portcullis-sessions-backfill': {
        args: 'sessions backfill --from knex --to dynamodb --evidence-configmap prod-portcullis-cutover --evidence-namespace default',
        schedule: 'template',
      },
      'prod-portcullis-mfa-logs-encrypt-legacy': { args: 'mfa-logs encrypt-legacy', schedule: 'template' },
      'prod-portcullis-mfa-logs-rewrap': {
        args: 'mfa-logs rewrap --shard $(JOB_COMPLETION_INDEX)/4',
        schedule: 'template',
      },
      'prod-portcullis-mfa-logs-verify-decrypt': { args: 'mfa-logs verify-decrypt', schedule: 'template' },
      'prod-portcullis-migrate-cli': { args: 'migrate status', schedule: 'template' },
    });
    expect(one(rendered, 'CronJob', 'prod-portcullis-mfa-logs-rewrap').spec.jobTemplate.spec).toMatchObject({
      completionMode: 'Indexed',
      completions: 4,
      parallelism: 4,
    });
    expect(
      one(rendered, 'Job', 'prod-portcullis-migrate').spec.template.spec.containers[0].command.slice(0, 2),
    ).toEqual(['node', '/opt/portcullis/cli.js']);
    for (const cronJob of cronJobs) expect(cronJob.spec.concurrencyPolicy).toBe('Forbid');
  }, 30_000);

  it('passes only subcommands and flags the CLI has', async () => {
    const rendered = await render(...dual, 'jobs.mfaLogsRewrap.shards=2', 'jobs.mfaLogsEncryptLegacy.shards=2');
    const invocations = [
      ...only(rendered, 'CronJob').map(
        (cronJob) => cronJob.spec.jobTemplate.spec.template.spec.containers[0].args as string[],
      ),
      one(rendered, 'Job', 'prod-portcullis-migrate').spec.template.spec.containers[0].command.slice(2) as string[],
      one(rendered, 'Job', 'prod-portcullis-cutover-gate').spec.template.spec.containers[0].args as string[],
    ];
    expect(invocations.length).toBeGreaterThanOrEqual(8);
    const program = buildProgram({ env: {}, stdout: { write: () => true }, stderr: { write: () => true } });
    for (const args of invocations) {
      // The leading words name the command; the rest are its flags and their values.
      let command = program;
      const path: string[] = [];
      for (const word of args) {
        const sub = command.commands.find((candidate) => candidate.name() === word);
        if (!sub) break;
        command = sub;
        path.push(word);
      }
      const flags = args.filter((arg) => arg.startsWith('--'));
      const known = new Set(command.options.map((option) => option.long));
      expect({ args: args.join(' '), path: path.length, unknown: flags.filter((flag) => !known.has(flag)) }).toEqual({
        args: args.join(' '),
        path: 2,
        unknown: [],
      });
    }
  });

  it('cleans up expired sessions only for the knex store, and verifies only while dual', async () => {
    const names = (rendered: Manifest[]) =>
      only(rendered, 'CronJob')
        .map((cronJob) => cronJob.metadata.name)
        .filter((name) => name.includes('sessions'));
    expect(names(manifests)).toEqual([]);
    expect(names(await render('sessionStore.from=knex'))).toEqual(['prod-portcullis-sessions-cleanup']);
    expect(names(await render('config.SESSION_STORE_DRIVER=knex'))).toEqual(['prod-portcullis-sessions-cleanup']);
    const moving = await render('sessionStore.phase=cutover', 'sessionStore.from=redis', 'sessionStore.to=dynamodb');
    expect(names(moving)).toEqual(['prod-portcullis-sessions-verify', 'prod-portcullis-sessions-backfill']);
    // The backfill copies along the move, whatever the phase: from → to.
    const backfill = only(moving, 'CronJob').find((cronJob) => cronJob.metadata.name.endsWith('backfill'))!;
    expect(backfill.spec.jobTemplate.spec.template.spec.containers[0].args).toEqual([
      'sessions',
      'backfill',
      '--from',
      'redis',
      '--to',
      'dynamodb',
      '--evidence-configmap',
      'prod-portcullis-cutover',
      '--evidence-namespace',
      'default',
    ]);
    expect(
      names(
        await render(
          'config.SESSION_STORE_DRIVER=dual',
          'config.SESSION_STORE_PRIMARY=redis',
          'config.SESSION_STORE_SECONDARY=dynamodb',
          'config.SESSION_DUAL_FALLBACK_ON_MISS=false',
        ),
      ),
    ).toEqual(['prod-portcullis-sessions-verify', 'prod-portcullis-sessions-backfill']);
    expect(
      names(
        await render(
          ...dual,
          'jobs.sessionsCleanup.enabled=false',
          'jobs.sessionsVerify.enabled=false',
          'jobs.sessionsBackfill.enabled=false',
        ),
      ),
    ).toEqual([]);
  }, 60_000);
});

describe('the session store phase', () => {
  const storeSettings = (rendered: Manifest[]) =>
    Object.fromEntries(
      Object.entries(one(rendered, 'ConfigMap', 'prod-portcullis-config').data!).filter(
        ([name]) => name.startsWith('SESSION_STORE_') || name.startsWith('SESSION_DUAL_'),
      ),
    );

  it('reaches every pod as SESSION_STORE_PHASE/_FROM/_TO, from which the services derive the rest', async () => {
    expect(storeSettings(manifests)).toEqual({ SESSION_STORE_PHASE: 'single', SESSION_STORE_FROM: 'redis' });
    expect(storeSettings(await render(...dual))).toEqual({
      SESSION_STORE_PHASE: 'dual-write',
      SESSION_STORE_FROM: 'knex',
      SESSION_STORE_TO: 'dynamodb',
    });
  }, 30_000);

  it('passes the deprecated variables through as they are, without a phase', async () => {
    expect(storeSettings(await render('config.SESSION_STORE_DRIVER=knex'))).toEqual({ SESSION_STORE_DRIVER: 'knex' });
  }, 30_000);

  it('gates every upgrade with a pre-upgrade Job that runs first, reads only what it judges, and asks for the phase of the values', async () => {
    const rendered = await render('sessionStore.phase=cutover', 'sessionStore.from=knex', 'sessionStore.to=dynamodb');
    const gate = one(rendered, 'Job', 'prod-portcullis-cutover-gate');
    expect(gate.metadata.annotations).toEqual({
      'helm.sh/hook': 'pre-upgrade',
      'helm.sh/hook-weight': '-30',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    expect(gate.spec.template.spec.containers[0].args).toEqual([
      'cutover',
      'gate',
      '--release',
      'prod',
      '--namespace',
      'default',
      '--phase',
      'cutover',
      '--from',
      'knex',
      '--to',
      'dynamodb',
    ]);
    expect(gate.spec.template.spec.serviceAccountName).toBe('prod-portcullis-cutover-gate');
    // Before the migration hooks (-20 … 0): a refused step changes nothing.
    expect(
      Number(one(rendered, 'Job', 'prod-portcullis-migrate').metadata.annotations!['helm.sh/hook-weight']),
    ).toBeGreaterThan(-30);
    expect((one(rendered, 'Role', 'prod-portcullis-cutover-gate') as Loose).rules).toEqual([
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: ['prod-portcullis-config', 'prod-portcullis-cutover'],
        verbs: ['get'],
      },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] },
    ]);
    expect((one(rendered, 'Role', 'prod-portcullis-cutover-evidence') as Loose).rules).toEqual([
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: ['prod-portcullis-cutover'],
        verbs: ['get', 'patch'],
      },
    ]);
    // Nothing of its own for helm to patch: what the jobs record survives every upgrade.
    const evidence = one(rendered, 'ConfigMap', 'prod-portcullis-cutover');
    expect([evidence.metadata.annotations, evidence.data]).toEqual([undefined, undefined]);
  }, 30_000);

  it('has no gate with the deprecated variables or when switched off', async () => {
    const gates = (rendered: Manifest[]) =>
      only(rendered, 'Job').filter((job) => job.metadata.name.endsWith('cutover-gate'));
    expect(gates(await render('config.SESSION_STORE_DRIVER=knex'))).toEqual([]);
    expect(gates(await render('sessionStore.gate.enabled=false'))).toEqual([]);
  }, 30_000);

  it('rolls every pod when the phase changes', async () => {
    const checksum = (rendered: Manifest[]) =>
      only(rendered, 'Deployment').map(
        (deployment) => deployment.spec.template.metadata.annotations['checksum/config'],
      );
    const [before, after] = [
      checksum(await render(...dual)),
      checksum(await render('sessionStore.phase=cutover', 'sessionStore.from=knex', 'sessionStore.to=dynamodb')),
    ];
    expect(after.every((value, index) => value !== before[index])).toBe(true);
  }, 30_000);
});

describe('helm test', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      response.statusCode = request.url === '/down/readyz' ? 503 : 200;
      response.end();
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const testPod = () => one(manifests, 'Pod', 'prod-portcullis-test-health');
  const runProbe = (urls: string) => {
    const [container] = testPod().spec.containers;
    return run(container.command[0] === 'node' ? process.execPath : container.command[0], container.command.slice(1), {
      env: { PATH: process.env.PATH, PORTCULLIS_TEST_URLS: urls },
      timeout: 20_000,
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
  };

  it('is a test hook calling each service’s health endpoints on both ports with node alone', () => {
    const pod = testPod();
    expect(pod.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'test' });
    const [container] = pod.spec.containers;
    expect(container.command.slice(0, 2)).toEqual(['node', '-e']);
    const urls = container.env.find((variable: Loose) => variable.name === 'PORTCULLIS_TEST_URLS').value.split(' ');
    expect(urls.sort()).toEqual(
      services
        .flatMap((name) => {
          const path = { 'auth-session': '/auth', 'mfa-admin': '/admin', 'audit-log': '/audit' }[name];
          return [
            `http://prod-portcullis-${name}:9090/healthz`,
            `http://prod-portcullis-${name}:9090/readyz`,
            `http://prod-portcullis-${name}:8080${path}/healthz`,
          ];
        })
        .sort(),
    );
  });

  it('passes when every endpoint answers 200 and fails on one that does not, or on one that cannot be reached', async () => {
    const up = await runProbe(`${base}/up/healthz ${base}/up/readyz`);
    expect({ code: up.code, lines: up.stdout.trim().split('\n').sort() }).toEqual({
      code: 0,
      lines: [`200 ${base}/up/healthz`, `200 ${base}/up/readyz`],
    });
    const down = await runProbe(`${base}/up/healthz ${base}/down/readyz`);
    expect(down.code).toBe(1);
    expect(down.stdout).toContain(`503 ${base}/down/readyz`);
    // A port nothing listens on: one this test held a moment ago.
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = await runProbe(`${base}/up/healthz http://127.0.0.1:${port}/readyz`);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stdout).toContain(`ECONNREFUSED http://127.0.0.1:${port}/readyz`);
  }, 30_000);
});

describe('k8s/', () => {
  const load = (file: string) =>
    parseAllDocuments(readFileSync(join(root, 'k8s', file), 'utf8')).map((document) => document.toJS() as Manifest);

  it('holds the ClusterSecretStores the chart refers to, authenticated through IRSA', () => {
    const values = parse(readFileSync(production, 'utf8')) as Loose;
    const stores = [
      ...load('cluster-secret-store-secrets-manager.yaml'),
      ...load('cluster-secret-store-parameter-store.yaml'),
    ];
    const byName = Object.fromEntries(
      only(stores, 'ClusterSecretStore').map((store) => [store.metadata.name, store.spec.provider.aws]),
    );
    expect(byName[values.externalSecrets.secretStoreRef.name]).toMatchObject({
      service: 'SecretsManager',
      auth: { jwt: { serviceAccountRef: { name: 'portcullis-secrets-reader', namespace: 'external-secrets' } } },
    });
    expect(byName[values.externalSecrets.parameterStore.secretStoreRef.name]).toMatchObject({
      service: 'ParameterStore',
      auth: { jwt: { serviceAccountRef: { name: 'portcullis-secrets-reader', namespace: 'external-secrets' } } },
    });
    expect(one(stores, 'ServiceAccount').metadata.annotations).toHaveProperty(['eks.amazonaws.com/role-arn']);
  });

  it('grants the secret, the parameter path with kms:Decrypt through SSM, and the session table with its index, nothing wider', () => {
    const values = parse(readFileSync(production, 'utf8')) as Loose;
    const reader = JSON.parse(readFileSync(join(root, 'k8s', 'iam-policy-secrets-reader.json'), 'utf8')) as {
      Statement: Loose[];
    };
    const app = JSON.parse(readFileSync(join(root, 'k8s', 'iam-policy-app.json'), 'utf8')) as { Statement: Loose[] };
    for (const statement of [...reader.Statement, ...app.Statement]) {
      expect(
        [statement.Resource].flat().filter((resource: string) => resource === '*' || resource.endsWith(':*')),
      ).toEqual([]);
      expect([statement.Action].flat().filter((action: string) => action.endsWith('*'))).toEqual([]);
    }
    const [secret, parameters, kms] = reader.Statement;
    expect(secret.Resource).toContain(`:secret:${values.externalSecrets.remoteKey}-`);
    expect(parameters.Resource).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`:parameter${values.externalSecrets.parameterStore.path}/\\*$`)),
      ]),
    );
    expect(kms).toMatchObject({
      Action: 'kms:Decrypt',
      Condition: { StringEquals: { 'kms:ViaService': expect.arrayContaining([expect.stringMatching(/^ssm\./)]) } },
    });
    expect(app.Statement.map((statement) => statement.Resource)).toEqual([
      expect.stringMatching(/:table\/[\w.-]+$/),
      expect.stringMatching(/:table\/[\w.-]+\/index\/byUser$/),
    ]);
  });
});

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
    // The knex table gauges (auth-session, knex store): registered only; nothing is read before a scrape.
    const unused = knex({ client: 'pg' });
    createSessionTableMetrics(registry, { knex: unused, tableName: 'sessions' });
    await unused.destroy();
    const exported = new Set([...registry.getMetricsAsArray().map((metric) => metric.name), 'mfa_reset_log_values']);
    const rules = one(manifests, 'PrometheusRule').spec.groups.flatMap(
      (group: { rules: { expr: string }[] }) => group.rules,
    );
    const used = rules.flatMap(
      (rule: { expr: string }) => rule.expr.match(/\b(session_store_\w+|mfa_reset_log_values)\b/g) ?? [],
    );
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((name: string) => !exported.has(name))).toEqual([]);
  });

  it('fire on failing dual writes and dropped repairs, and stay quiet while the stores agree', async () => {
    // promtool compares annotations too: the rule's own, with the store label filled in.
    const annotationsOf = (alert: string, labels: Record<string, string> = {}) =>
      expectedAnnotations(one(manifests, 'PrometheusRule').spec as RuleGroups, alert, labels);
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
            {
              eval_time: '15m',
              alertname: 'PortcullisDualWriteFailing',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning', store: 'dynamodb' },
                  exp_annotations: annotationsOf('PortcullisDualWriteFailing', { store: 'dynamodb' }),
                },
              ],
            },
            {
              eval_time: '8m',
              alertname: 'PortcullisSessionRepairsDropped',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical' },
                  exp_annotations: annotationsOf('PortcullisSessionRepairsDropped'),
                },
              ],
            },
            { eval_time: '15m', alertname: 'PortcullisSessionStoresDisagree', exp_alerts: [] },
          ],
        },
      ],
    };
    const testFile = join(work, 'rules.test.yaml');
    writeFileSync(testFile, JSON.stringify(tests));
    const result = await run('promtool', ['test', 'rules', testFile]).catch(
      (error: { stdout?: string; stderr?: string }) => error,
    );
    expect(`${result.stdout ?? ''}${result.stderr ?? ''}`).toContain('SUCCESS');
  });
});

describe('the session cutover dashboard', () => {
  it('ships as a ConfigMap for the Grafana sidecar, each query valid PromQL over metrics the services export', async () => {
    const configMap = one(manifests, 'ConfigMap', 'prod-portcullis-dashboards');
    expect(configMap.metadata).toMatchObject({ labels: { grafana_dashboard: '1' } });
    const dashboard = JSON.parse(configMap.data!['portcullis-session-cutover.json']!) as {
      uid: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dashboard.uid).toBe('portcullis-session-cutover');
    const queries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
    expect(queries.length).toBeGreaterThanOrEqual(9);
    // promtool parses every query as a recording rule: a typo in PromQL fails here, not on a wall screen.
    const file = join(work, 'dashboard-queries.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        groups: [
          { name: 'dashboard', rules: queries.map((expr, index) => ({ record: `dashboard:query_${index}`, expr })) },
        ],
      }),
    );
    const { stdout } = await run('promtool', ['check', 'rules', file]);
    expect(stdout).toContain(`SUCCESS: ${queries.length} rules found`);
    const registry = new Registry();
    createSessionStoreMetrics(registry);
    const exported = new Set(registry.getMetricsAsArray().flatMap((metric) => [metric.name, `${metric.name}_bucket`]));
    const used = queries.flatMap((expr) => expr.match(/\bsession_store_\w+/g) ?? []);
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  });
});
