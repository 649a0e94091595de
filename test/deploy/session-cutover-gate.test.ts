// The cutover gate on a real Kubernetes API server (test/infra/kube.ts; kwok plays the kubelet,
// so no container runs and the hook Job completes without running the gate). What the hook Job
// would run, `portcullis cutover gate`, runs here in-process with a token of the hook's own
// ServiceAccount: the chart's Role is enough, and the verdicts come from the live objects. The
// backfill and verify record their evidence with the release account's token, as their CronJobs do.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import createKnex from 'knex';
import { parseAllDocuments } from 'yaml';
import { runCli } from '@portcullis/cli';
import { createSessionTable } from '@portcullis/session-store';
import { startKube, type KubeControlPlane } from '../infra/kube.js';
import { testDynamo, testPostgres, type TestDatabase } from '../support/index.js';

const execFileAsync = promisify(execFile);
const chart = join(import.meta.dirname, '..', '..', 'helm', 'portcullis');
const NS = 'cutover';
const RELEASE = 'gate';
const work = mkdtempSync(join(tmpdir(), 'portcullis-cutover-gate-'));
let kube: KubeControlPlane;
let db: TestDatabase;

const sh = async (command: 'kubectl' | 'helm', ...args: string[]) => {
  try {
    return (await execFileAsync(command, args, { env: kube.env, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }))
      .stdout;
  } catch (error) {
    throw new Error(`${command} ${args.join(' ')}: ${(error as { stderr?: string }).stderr ?? String(error)}`);
  }
};
/** Small and quick: one replica each, no autoscaling. */
const values = (...sets: string[]) => [
  '-n',
  NS,
  ...['auth-session', 'mfa-admin', 'audit-log'].flatMap((service) => [
    '--set',
    `services.${service}.autoscaling.enabled=false`,
    '--set',
    `services.${service}.replicas=1`,
  ]),
  ...sets.flatMap((set) => ['--set', set]),
];
const phase = (name: string, from: string, to = '') => [
  `sessionStore.phase=${name}`,
  `sessionStore.from=${from}`,
  `sessionStore.to=${to}`,
];

/** A kubeconfig of `account`: a token from the TokenRequest API, the server's CA. */
async function kubeconfigOf(account: string): Promise<string> {
  const token = (await sh('kubectl', 'create', 'token', account, '-n', NS, '--duration', '10m')).trim();
  const admin = JSON.parse(readFileSync(kube.kubeconfig, 'utf8')) as { users: { user: { token: string } }[] };
  admin.users[0]!.user.token = token;
  const file = join(work, `${account}.kubeconfig`);
  writeFileSync(file, JSON.stringify(admin), { mode: 0o600 });
  return file;
}

async function cli(env: Record<string, string>, ...args: string[]) {
  let [stdout, stderr] = ['', ''];
  const code = await runCli(args, {
    env,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

let gateEnv: Record<string, string>;
const gate = (...target: string[]) =>
  cli(gateEnv, 'cutover', 'gate', '--release', RELEASE, '--namespace', NS, ...target);

/**
 * The hook's account, Role and binding as ordinary objects, and a token of that account. helm
 * deletes them around every upgrade's hooks (before-hook-creation, hook-succeeded): call again after one.
 */
async function keepGateAccount(): Promise<void> {
  const hook = parseAllDocuments(
    await sh(
      'helm',
      'template',
      RELEASE,
      chart,
      ...values(...phase('dual-write', 'knex', 'dynamodb')),
      '--show-only',
      'templates/cutover-gate.yaml',
    ),
  )
    .map(
      (document) =>
        document.toJS() as { kind: string; metadata: { name: string; annotations?: Record<string, string> } },
    )
    .filter(
      (object) =>
        object &&
        ['ServiceAccount', 'Role', 'RoleBinding'].includes(object.kind) &&
        object.metadata.name.endsWith('cutover-gate'),
    )
    .map((object) => ({ ...object, metadata: { ...object.metadata, annotations: {} } }));
  expect(hook.map((object) => object.kind)).toEqual(['ServiceAccount', 'Role', 'RoleBinding']);
  writeFileSync(join(work, 'hook.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: hook }));
  await sh('kubectl', 'apply', '-n', NS, '-f', join(work, 'hook.json'));
  gateEnv = { KUBECONFIG: await kubeconfigOf('gate-portcullis-cutover-gate') };
}

beforeAll(async () => {
  [kube, db] = await Promise.all([startKube({ zones: ['zone-a'] }), testPostgres()]);
  await sh('kubectl', 'apply', '--server-side', ...kube.crdFiles.flatMap((file) => ['-f', file]));
  await sh(
    'kubectl',
    'wait',
    '--for=condition=Established',
    '--timeout=30s',
    ...kube.crdFiles.flatMap((file) => ['-f', file]),
  );
  await sh('kubectl', 'create', 'namespace', NS);
  await sh('helm', 'install', RELEASE, chart, ...values(...phase('single', 'knex')), '--wait', '--timeout', '90s');
  await keepGateAccount();
}, 180_000);

afterAll(async () => {
  await kube?.stop();
  await db?.drop();
  rmSync(work, { recursive: true, force: true });
});

it('refuses a skipped phase with the next allowed step, and lets the next one through', async () => {
  const skip = await gate('--phase', 'cutover', '--from', 'knex', '--to', 'dynamodb');
  expect(skip.code).toBe(3);
  expect(skip.stderr).toBe(
    'portcullis: Refused: single(knex) → cutover(knex→dynamodb) skips a phase (only neighbouring phases are safe side by side during the rollout). The next allowed step is dual-write(knex→dynamodb): sessionStore.phase=dual-write, sessionStore.from=knex, sessionStore.to=dynamodb.\n',
  );
  const next = await gate('--phase', 'dual-write', '--from', 'knex', '--to', 'dynamodb');
  expect(next).toMatchObject({
    code: 0,
    stdout: 'cutover gate: single(knex) → dual-write(knex→dynamodb) is allowed.\n',
  });
  expect((await gate('--phase', 'dual-write', '--from', 'redis', '--to', 'dynamodb')).code).toBe(3);
}, 30_000);

/** The stores of the move, for backfill and verify: PostgreSQL (knex) and moto (DynamoDB), one table prefix. */
let stores: Record<string, string> | undefined;
function storeEnv(): Record<string, string> {
  if (stores) return stores;
  const dynamo = testDynamo();
  process.env.AWS_ACCESS_KEY_ID = dynamo.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = dynamo.credentials.secretAccessKey;
  stores = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    SESSION_SECRET: 'gate-test-session-secret-0123456789abcdef',
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    DYNAMODB_TABLE_PREFIX: dynamo.tablePrefix,
    AWS_REGION: dynamo.region,
  };
  return stores;
}

describe('after dual-write has rolled out', () => {
  beforeAll(async () => {
    await sh(
      'helm',
      'upgrade',
      RELEASE,
      chart,
      ...values(...phase('dual-write', 'knex', 'dynamodb')),
      '--wait',
      '--timeout',
      '90s',
    );
    await keepGateAccount();
    const knex = createKnex({ client: 'pg', connection: db.url });
    await createSessionTable(knex, 'sessions');
    await knex.destroy();
    expect((await cli(storeEnv(), 'sessions', 'create-dynamodb-table')).code).toBe(0);
  }, 150_000);

  it('reports the phase, the finished rollout and the missing evidence; refuses the cutover, naming backfill, verify and the wait', async () => {
    const admin = { KUBECONFIG: kube.kubeconfig };
    const status = await cli(admin, 'cutover', 'status', '--release', RELEASE, '--namespace', NS, '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      phase: { phase: 'dual-write', from: 'knex', to: 'dynamodb' },
      rollout: { complete: true },
      evidence: {},
      next: { phase: 'cutover', allowed: false },
    });
    const refused = await gate('--phase', 'cutover', '--from', 'knex', '--to', 'dynamodb');
    expect(refused.stderr).toMatch(
      /is the cutover, and it is not ready\. Run `portcullis sessions backfill --from knex --to dynamodb` to completion first \(none recorded\)\. Run `portcullis sessions verify --from knex --to dynamodb` after the backfill \(none recorded for this pair\)\. Wait until /,
    );
    const next = await cli(admin, 'cutover', 'next', '--release', RELEASE, '--namespace', NS);
    expect(next.code).toBe(3);
    expect(next.stderr).toMatch(
      /Then: helm upgrade gate portcullis\/portcullis -n cutover --reuse-values --set sessionStore.phase=cutover --set sessionStore.from=knex --set-string sessionStore.to=dynamodb --wait\n$/,
    );
  }, 30_000);

  it('reads nothing beyond its Role: the gate account may not record evidence', async () => {
    const denied = await cli(
      { ...gateEnv, ...storeEnv() },
      'sessions',
      'verify',
      '--from',
      'knex',
      '--to',
      'dynamodb',
      '--evidence-configmap',
      'gate-portcullis-cutover',
      '--evidence-namespace',
      NS,
    );
    expect(denied.stderr).toMatch(
      /Could not record the verify result on ConfigMap cutover\/gate-portcullis-cutover \(HTTP 403\)/,
    );
  }, 30_000);

  it('accepts the evidence the backfill and a GO verify record with the release account; only the wait is left', async () => {
    const jobs = { ...storeEnv(), KUBECONFIG: await kubeconfigOf('gate-portcullis') };
    const evidence = ['--evidence-configmap', 'gate-portcullis-cutover', '--evidence-namespace', NS];
    const backfill = await cli(jobs, 'sessions', 'backfill', '--from', 'knex', '--to', 'dynamodb', ...evidence);
    expect(backfill).toMatchObject({
      code: 0,
      stderr: expect.stringContaining('recorded the backfill on ConfigMap cutover/gate-portcullis-cutover'),
    });
    expect(await cli(jobs, 'sessions', 'verify', '--from', 'knex', '--to', 'dynamodb', ...evidence)).toMatchObject({
      code: 0,
      stderr: expect.stringContaining('recorded the verify verdict'),
    });
    const refused = await gate('--phase', 'cutover', '--from', 'knex', '--to', 'dynamodb');
    expect(refused.code).toBe(3);
    expect(refused.stderr).not.toMatch(/sessions backfill|sessions verify/);
    expect(refused.stderr).toMatch(
      /Wait until \S+ \(SESSION_IDLE_TIMEOUT_SECONDS, 1800 s, plus the 10 s stored sessions outlive their cookies, after dual-write finished rolling out at \S+\): until then dynamodb may hold sessions that knex-only pods logged out\.\n$/,
    );
    // The way back needs nothing.
    expect((await gate('--phase', 'single', '--from', 'knex')).code).toBe(0);

    // An upgrade of the same phase (an image bump) keeps the recorded evidence, but it restarts the
    // rollout the backfill and the wait count from: the gate asks for both again (docs, Decisions).
    await sh(
      'helm',
      'upgrade',
      RELEASE,
      chart,
      ...values(...phase('dual-write', 'knex', 'dynamodb'), 'image.tag=0.1.1'),
      '--wait',
      '--timeout',
      '90s',
    );
    await keepGateAccount();
    expect((await gate('--phase', 'cutover', '--from', 'knex', '--to', 'dynamodb')).stderr).toMatch(
      /the last one recorded, knex → dynamodb at \S+, is not one of this dual-write/,
    );
  }, 150_000);
});
