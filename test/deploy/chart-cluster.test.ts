// The chart on a real Kubernetes API server (test/infra/kube.ts: etcd, kube-apiserver,
// controller-manager, scheduler; kwok fakes the kubelet, so pods become Ready and Job pods
// complete without any container). What rendering alone cannot show: every object passes the
// API server's strict validation (CRD schemas included) and the `restricted` Pod Security level,
// and `helm install/upgrade/rollback/uninstall --wait` behave as docs/deploy.md says, hooks
// included. Not covered (docs/testing.md): the containers themselves, ESO (no controller: the
// ExternalSecrets never produce Secrets, which kwok's fake kubelet does not need), admission
// webhooks, real NetworkPolicy enforcement.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { startKube, type KubeControlPlane, type KubeWatch, type WatchEvent } from '../infra/kube.js';

const execFileAsync = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const chart = join(repo, 'helm', 'portcullis');
const production = join(repo, 'k8s', 'values-production.yaml');
const staging = join(repo, 'k8s', 'values-staging.yaml');
const NS = 'portcullis';
const RELEASE = 'prod';
const PREFIX = `${RELEASE}-portcullis`;
const work = mkdtempSync(join(tmpdir(), 'portcullis-chart-cluster-'));

let kube: KubeControlPlane;

/** Runs kubectl/helm against the test cluster; the error carries stderr (no secrets in it: none exist). */
async function cli(command: 'kubectl' | 'helm', args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(command, args, { env: kube.env, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 });
  } catch (error) {
    const failed = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${failed.stderr || failed.stdout || failed.message}`);
  }
}
const kubectl = (...args: string[]) => cli('kubectl', args);
const helm = (...args: string[]) => cli('helm', args);
/** A helm operation that, when it fails, also says why the cluster refused: its Warning events. */
async function helmOperation(...args: string[]): Promise<void> {
  try {
    await helm(...args, '--wait', '--timeout', '90s');
  } catch (error) {
    const namespace = args[args.indexOf('-n') + 1]!;
    const { stdout } = await kubectl(
      'get',
      'events',
      '-n',
      namespace,
      '--field-selector=type=Warning',
      '-o',
      'custom-columns=OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message',
    );
    throw new Error(`${(error as Error).message}\nWarning events:\n${stdout}`);
  }
}
const getJson = async <T>(...args: string[]) =>
  JSON.parse((await kubectl('get', '-n', NS, '-o', 'json', ...args)).stdout) as T;

/**
 * A namespace at the `restricted` Pod Security level: enforced on pods, reported (warn) for the
 * workloads creating them. Ready once the controllers gave it its `default` ServiceAccount (the
 * helm test Pod runs as that one, and a pod naming a missing account is refused).
 */
async function createNamespace(namespace: string): Promise<void> {
  await kubectl('create', 'namespace', namespace);
  await kubectl(
    'label',
    'namespace',
    namespace,
    'pod-security.kubernetes.io/enforce=restricted',
    'pod-security.kubernetes.io/warn=restricted',
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await kube.api('GET', `/api/v1/namespaces/${namespace}/serviceaccounts/default`);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kubernetes objects, read by path
type Loose = any;
interface List {
  items: Loose[];
}

beforeAll(async () => {
  kube = await startKube();
  await kubectl('apply', '--server-side', ...kube.crdFiles.flatMap((file) => ['-f', file]));
  await kubectl(
    'wait',
    '--for=condition=Established',
    '--timeout=30s',
    ...kube.crdFiles.flatMap((file) => ['-f', file]),
  );
  await createNamespace(NS);
}, 90_000);

afterAll(async () => {
  await kube?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('every rendered object passes the API server strictly', () => {
  const cases: [string, string[]][] = [
    ['default values', []],
    ['k8s/values-staging.yaml', ['-f', staging]],
    ['k8s/values-production.yaml', ['-f', production]],
    ['store redis', ['--set', 'config.SESSION_STORE_DRIVER=redis']],
    ['store knex', ['--set', 'config.SESSION_STORE_DRIVER=knex']],
    ['store dynamodb', ['--set', 'config.SESSION_STORE_DRIVER=dynamodb']],
    [
      'store dual redis → dynamodb',
      [
        '--set',
        'config.SESSION_STORE_DRIVER=dual',
        '--set',
        'config.SESSION_STORE_PRIMARY=redis',
        '--set',
        'config.SESSION_STORE_SECONDARY=dynamodb',
      ],
    ],
    [
      'store dual knex → redis',
      [
        '--set',
        'config.SESSION_STORE_DRIVER=dual',
        '--set',
        'config.SESSION_STORE_PRIMARY=knex',
        '--set',
        'config.SESSION_STORE_SECONDARY=redis',
      ],
    ],
  ];
  it.each(cases)(
    '%s',
    async (name, values) => {
      const { stdout: manifest } = await helm('template', RELEASE, chart, '-n', NS, ...values);
      const file = join(work, `${name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, manifest);
      // --validate=strict: unknown or duplicate fields are errors, CRD schemas included.
      const { stdout, stderr } = await kubectl('apply', '-n', NS, '--dry-run=server', '--validate=strict', '-f', file);
      const kinds = manifest.split('\n').filter((line) => line.startsWith('kind: ')).length;
      expect(stdout.trim().split('\n')).toHaveLength(kinds);
      // No Pod Security warnings for the Deployments/Jobs/CronJobs, no deprecation warnings.
      expect(stderr).toBe('');
    },
    60_000,
  );
});

/** Event log of one collection across a helm operation; events order by etcd revision. */
interface Watches {
  jobs: KubeWatch;
  replicaSets: KubeWatch;
  serviceAccounts: KubeWatch;
  externalSecrets: KubeWatch;
}
async function watchAll(): Promise<Watches> {
  const [jobs, replicaSets, serviceAccounts, externalSecrets] = await Promise.all([
    kube.watch(`/apis/batch/v1/namespaces/${NS}/jobs`),
    kube.watch(`/apis/apps/v1/namespaces/${NS}/replicasets`),
    kube.watch(`/api/v1/namespaces/${NS}/serviceaccounts`),
    kube.watch(`/apis/external-secrets.io/v1/namespaces/${NS}/externalsecrets`),
  ]);
  return { jobs, replicaSets, serviceAccounts, externalSecrets };
}
const stopAll = (watches: Watches) => Object.values(watches).forEach((watch: KubeWatch) => watch.stop());
const named = (watch: KubeWatch, name: string, type?: WatchEvent['type']) =>
  watch.events.filter((event) => event.object.metadata.name === name && (!type || event.type === type));
/** The revision at which the migration Job was seen complete. */
function jobCompleted(watch: KubeWatch): bigint {
  const complete = named(watch, `${PREFIX}-migrate`).find((event) =>
    (event.object.status?.conditions ?? []).some((c: Loose) => c.type === 'Complete' && c.status === 'True'),
  );
  expect(complete).toBeDefined();
  return complete!.revision;
}
const first = (events: WatchEvent[]) => {
  expect(events.length).toBeGreaterThan(0);
  return events[0]!.revision;
};
/** Deployments' images and the ReplicaSet each one currently runs. */
async function deployments(): Promise<Map<string, { image: string; replicaSet: string }>> {
  const [deploys, sets] = await Promise.all([
    getJson<List>('deployments', '-l', `app.kubernetes.io/instance=${RELEASE}`),
    getJson<List>('replicasets'),
  ]);
  return new Map(
    deploys.items.map((deploy) => {
      const active = sets.items.find(
        (set) =>
          set.metadata.ownerReferences?.[0]?.uid === deploy.metadata.uid &&
          set.metadata.annotations['deployment.kubernetes.io/revision'] ===
            deploy.metadata.annotations['deployment.kubernetes.io/revision'],
      );
      return [
        deploy.metadata.name,
        { image: deploy.spec.template.spec.containers[0].image, replicaSet: active?.metadata.name },
      ];
    }),
  );
}
/** Pods of the release that are Ready (kwok marks them so once scheduled). */
async function readyPods(): Promise<number> {
  const pods = await getJson<List>('pods', '-l', `app.kubernetes.io/instance=${RELEASE}`);
  return pods.items.filter(
    (pod) =>
      pod.status?.conditions?.some((c: Loose) => c.type === 'Ready' && c.status === 'True') &&
      !pod.metadata.deletionTimestamp,
  ).length;
}

it('installs and uninstalls with the default values (the first install used to fail: its migration Job named a ServiceAccount not yet created)', async () => {
  const ns = 'portcullis-defaults';
  await createNamespace(ns);
  try {
    await helmOperation('install', 'dflt', chart, '-n', ns);
    const { stdout } = await helm('status', 'dflt', '-n', ns, '-o', 'json');
    expect(JSON.parse(stdout).info.status).toBe('deployed');
  } finally {
    await helm('uninstall', 'dflt', '-n', ns, '--ignore-not-found');
  }
}, 150_000);

describe('helm install, upgrade, rollback and uninstall with the production values', () => {
  let installed: Map<string, { image: string; replicaSet: string }>;

  it('installs: the migration Job runs under its own hook ServiceAccount, before any pod, and the release becomes ready', async () => {
    const watches = await watchAll();
    try {
      await helmOperation('install', RELEASE, chart, '-n', NS, '-f', production);
    } finally {
      stopAll(watches);
    }
    const done = jobCompleted(watches.jobs);
    // Hook weights: ServiceAccount (-20), then the migration ExternalSecret (-10), then the Job (0).
    const account = first(named(watches.serviceAccounts, `${PREFIX}-migrations`, 'ADDED'));
    const secret = first(named(watches.externalSecrets, `${PREFIX}-migrations`, 'ADDED'));
    const job = first(named(watches.jobs, `${PREFIX}-migrate`, 'ADDED'));
    expect(account < secret && secret < job).toBe(true);
    // Every ReplicaSet (and so every service pod) comes after the completed migration.
    const sets = watches.replicaSets.events.filter((event) => event.type === 'ADDED');
    expect(sets).toHaveLength(3);
    for (const set of sets)
      expect({ replicaSet: set.object.metadata.name, afterMigration: set.revision > done }).toEqual({
        replicaSet: set.object.metadata.name,
        afterMigration: true,
      });
    // hook-succeeded: the Job and its ServiceAccount are gone; the ExternalSecret stays (docs/deploy.md).
    expect(named(watches.jobs, `${PREFIX}-migrate`, 'DELETED')).toHaveLength(1);
    expect(named(watches.serviceAccounts, `${PREFIX}-migrations`, 'DELETED')).toHaveLength(1);
    expect(named(watches.externalSecrets, `${PREFIX}-migrations`, 'DELETED')).toHaveLength(0);

    installed = await deployments();
    expect([...installed.keys()].sort()).toEqual([
      `${PREFIX}-audit-log`,
      `${PREFIX}-auth-session`,
      `${PREFIX}-mfa-admin`,
    ]);
    for (const { image } of installed.values()) expect(image).toMatch(/\/portcullis:0\.1\.0$/);
    expect(await readyPods()).toBeGreaterThanOrEqual(3);
    const { stdout } = await helm('status', RELEASE, '-n', NS, '-o', 'json');
    expect(JSON.parse(stdout).info.status).toBe('deployed');
  }, 150_000);

  it('keeps the migration secret as docs/deploy.md says: a hook ExternalSecret with only the direct database URL, not part of the release', async () => {
    const secret = await getJson<Loose>('externalsecret', `${PREFIX}-migrations`);
    expect(secret.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '-10',
      'helm.sh/hook-delete-policy': 'before-hook-creation',
    });
    expect(secret.spec.target.name).toBe(`${PREFIX}-migrations`);
    expect(secret.spec.data).toEqual([
      {
        secretKey: 'DATABASE_URL',
        remoteRef: expect.objectContaining({ key: 'portcullis/production', property: 'MIGRATIONS_DATABASE_URL' }),
      },
    ]);
    const objects = async (what: 'manifest' | 'hooks') =>
      parseAllDocuments((await helm('get', what, RELEASE, '-n', NS)).stdout)
        .map((document) => document.toJS() as Loose)
        .filter(Boolean)
        .map((object) => `${object.kind}/${object.metadata.name}`);
    const hookObjects = [
      `ServiceAccount/${PREFIX}-migrations`,
      `ExternalSecret/${PREFIX}-migrations`,
      `Job/${PREFIX}-migrate`,
    ];
    expect(await objects('manifest')).not.toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^(ServiceAccount|ExternalSecret)\/.*-migrations$|^Job\/.*-migrate$/),
      ]),
    );
    expect(await objects('hooks')).toEqual(expect.arrayContaining(hookObjects));
    // The ServiceAccount and the Job went with hook-succeeded; only the ExternalSecret is left.
    await expect(getJson('serviceaccount', `${PREFIX}-migrations`)).rejects.toThrow(/NotFound/);
    await expect(getJson('job', `${PREFIX}-migrate`)).rejects.toThrow(/NotFound/);
  }, 60_000);

  it('upgrades with a new image and a changed setting: the pre-upgrade Job completes before any new ReplicaSet', async () => {
    const watches = await watchAll();
    try {
      await helmOperation(
        'upgrade',
        RELEASE,
        chart,
        '-n',
        NS,
        '-f',
        production,
        '--set',
        'image.tag=0.2.0',
        '--set',
        'config.LOG_LEVEL=debug',
      );
    } finally {
      stopAll(watches);
    }
    const done = jobCompleted(watches.jobs);
    // before-hook-creation: the ExternalSecret from the install is replaced, before the Job.
    const secretDeleted = first(named(watches.externalSecrets, `${PREFIX}-migrations`, 'DELETED'));
    const secretAdded = first(named(watches.externalSecrets, `${PREFIX}-migrations`, 'ADDED'));
    const account = first(named(watches.serviceAccounts, `${PREFIX}-migrations`, 'ADDED'));
    const job = first(named(watches.jobs, `${PREFIX}-migrate`, 'ADDED'));
    expect(account < secretAdded && secretDeleted < secretAdded && secretAdded < job).toBe(true);
    const newSets = watches.replicaSets.events.filter((event) => event.type === 'ADDED');
    expect(newSets).toHaveLength(3);
    for (const set of newSets) {
      expect({ replicaSet: set.object.metadata.name, afterMigration: set.revision > done }).toEqual({
        replicaSet: set.object.metadata.name,
        afterMigration: true,
      });
      expect(set.object.spec.template.spec.containers[0].image).toMatch(/:0\.2\.0$/);
    }
    expect(named(watches.jobs, `${PREFIX}-migrate`, 'DELETED')).toHaveLength(1);
    expect(named(watches.serviceAccounts, `${PREFIX}-migrations`, 'DELETED')).toHaveLength(1);

    const config = await getJson<Loose>('configmap', `${PREFIX}-config`);
    expect(config.data.LOG_LEVEL).toBe('debug');
    for (const [name, { image, replicaSet }] of await deployments()) {
      expect(image).toMatch(/:0\.2\.0$/);
      expect(replicaSet).not.toBe(installed.get(name)!.replicaSet);
    }
  }, 150_000);

  it('rolls back to the install: the old ReplicaSets come back, no migration runs (the schema stays migrated)', async () => {
    const watches = await watchAll();
    try {
      await helmOperation('rollback', RELEASE, '1', '-n', NS);
    } finally {
      stopAll(watches);
    }
    // Rollback runs only pre/post-rollback hooks: no migration Job, and no new ReplicaSet either.
    expect(named(watches.jobs, `${PREFIX}-migrate`)).toEqual([]);
    expect(watches.replicaSets.events.filter((event) => event.type === 'ADDED')).toEqual([]);
    expect(await deployments()).toEqual(installed);
    const config = await getJson<Loose>('configmap', `${PREFIX}-config`);
    expect(config.data.LOG_LEVEL).toBe('info');
    // The upgrade's hook ExternalSecret is untouched by the rollback.
    expect(named(watches.externalSecrets, `${PREFIX}-migrations`)).toEqual([]);
    const { stdout } = await helm('history', RELEASE, '-n', NS, '-o', 'json');
    expect(JSON.parse(stdout).map((entry: Loose) => entry.status)).toEqual(['superseded', 'superseded', 'deployed']);
  }, 150_000);

  it('uninstalls everything but the hook ExternalSecret, which helm does not track', async () => {
    await helmOperation('uninstall', RELEASE, '-n', NS);
    const { stdout: types } = await kubectl('api-resources', '--verbs=list', '--namespaced', '-o', 'name');
    const listable = types.split('\n').filter((type) => type && type !== 'events' && type !== 'events.events.k8s.io');
    const remaining = async () => {
      const { stdout } = await kubectl(
        'get',
        '-n',
        NS,
        '-o',
        'name',
        '-l',
        `app.kubernetes.io/instance=${RELEASE}`,
        listable.join(','),
      );
      return stdout.trim().split('\n').filter(Boolean);
    };
    // The garbage collector removes the pods shortly after their ReplicaSets: bounded wait.
    let left = await remaining();
    for (
      const deadline = Date.now() + 30_000;
      left.some((name) => name.startsWith('pod/')) && Date.now() < deadline;
      left = await remaining()
    ) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(left).toEqual([`externalsecret.external-secrets.io/${PREFIX}-migrations`]);
    const { stdout: releases } = await helm('list', '-n', NS, '-q');
    expect(releases.trim()).toBe('');
  }, 120_000);
});
