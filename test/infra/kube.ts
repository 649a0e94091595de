// A throwaway Kubernetes control plane for the chart test: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler (upstream code, built by scripts/setup-kube.sh),
// with kwok playing the kubelet of a few fake nodes: pods are scheduled and become Ready, Job
// pods complete, but no container runs. Everything listens on 127.0.0.1, lives in the run
// directory (state.ts) and is stopped by pid. docs/testing.md, "Kubernetes control plane".
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, isAlive, LOOPBACK } from './process.js';
import { launchLocal, type ServerHandle } from './server.js';
import { serverDir } from './state.js';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');

export interface KubeControlPlane {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** A kubeconfig with a cluster-admin token and the server's own CA. */
  readonly kubeconfig: string;
  /** The CRD manifests fetched by setup-kube.sh (ExternalSecret, ServiceMonitor, ...). */
  readonly crdFiles: string[];
  /**
   * process.env plus KUBECONFIG, throwaway helm homes, and the built binaries first on PATH
   * (so `kubectl` is the server's own version): for running kubectl and helm.
   */
  readonly env: NodeJS.ProcessEnv;
  /** Names of the fake nodes, one per zone. */
  readonly nodes: string[];
  /** A call to the API server as cluster admin; rejects on a non-2xx status. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /**
   * Records every change to the collection at `path` (e.g. /apis/batch/v1/namespaces/x/jobs)
   * from now on: it lists first and watches from the list's resourceVersion, so nothing that
   * happens after the returned promise resolves is missed.
   */
  watch(path: string): Promise<KubeWatch>;
  /** Stops every process (by pid) and deletes the data. Idempotent. */
  stop(): Promise<void>;
}

/** The cache directory of setup-kube.sh for this checkout; tells how to build it when missing. */
async function cacheDir(): Promise<string> {
  try {
    const { stdout } = await run('bash', [join(repo, 'scripts', 'setup-kube.sh'), '--dir']);
    return stdout.trim();
  } catch (error) {
    throw new Error(`Kubernetes binaries missing: ${(error as { stderr?: string }).stderr?.trim() ?? String(error)}`);
  }
}

function apiCall<T>(
  server: string,
  ca: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = request(
      `${server}${path}`,
      {
        method,
        ca,
        timeout: 5000,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) reject(new Error(`${method} ${path}: ${status} ${text.slice(0, 500)}`));
          else resolve((text.startsWith('{') ? JSON.parse(text) : text) as T);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 5 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

interface Condition {
  type: string;
  status: string;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Kubernetes object, read by path
  object: any;
  /** metadata.resourceVersion: etcd's global revision here, so events of different kinds order by it. */
  revision: bigint;
}

export interface KubeWatch {
  readonly events: WatchEvent[];
  stop(): void;
}

function watchCall(server: string, ca: string, token: string, path: string): Promise<KubeWatch> {
  return apiCall<{ metadata: { resourceVersion: string } }>(server, ca, token, 'GET', path).then(
    (list) =>
      new Promise<KubeWatch>((resolve, reject) => {
        const events: WatchEvent[] = [];
        const query = `watch=true&timeoutSeconds=600&resourceVersion=${list.metadata.resourceVersion}`;
        const req = request(
          `${server}${path}${path.includes('?') ? '&' : '?'}${query}`,
          { ca, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            if (res.statusCode !== 200) {
              reject(new Error(`watch ${path}: ${res.statusCode}`));
              res.resume();
              return;
            }
            let buffer = '';
            res.on('error', () => {}); // stop()
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              buffer += chunk;
              let newline: number;
              while ((newline = buffer.indexOf('\n')) >= 0) {
                const line = buffer.slice(0, newline);
                buffer = buffer.slice(newline + 1);
                if (!line.trim()) continue;
                const event = JSON.parse(line) as Omit<WatchEvent, 'revision'> & { type: string };
                if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') {
                  events.push({ ...event, revision: BigInt(event.object.metadata.resourceVersion as string) });
                }
              }
            });
            resolve({ events, stop: () => req.destroy() });
          },
        );
        req.on('error', reject); // a no-op once resolved: stop() ends the stream with an error
        req.end();
      }),
  );
}

/**
 * Starts the control plane and waits until the fake nodes are Ready and the controllers work
 * (the `default` ServiceAccount exists). About 5 s once built; fails with the component's log
 * tail when one exits.
 */
export async function startKube(options: { zones?: string[] } = {}): Promise<KubeControlPlane> {
  const cache = await cacheDir();
  const bin = (name: string) => join(cache, 'bin', name);
  const dir = serverDir('kube');
  const handles: ServerHandle[] = [];
  const stop = async () => {
    // Reverse order: the clients go before the API server, which goes before etcd.
    for (const handle of handles.splice(0).reverse()) await handle.dispose();
    rmSync(dir, { recursive: true, force: true });
  };
  const component = (name: string) => {
    const path = join(dir, name);
    mkdirSync(path);
    return path;
  };

  try {
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const server = `https://${LOOPBACK}:${apiPort}`;
    const token = randomBytes(24).toString('hex');
    const pki = component('pki');
    // The service-account signing pair (any RSA key pair; generated by Node's OpenSSL).
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(pki, 'sa.key'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(pki, 'sa.pub'), keys.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(pki, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
    const certDir = join(pki, 'serving');
    const caFile = join(certDir, 'apiserver.crt'); // self-signed by the API server at first start

    const etcdUrl = `http://${LOOPBACK}:${etcdPort}`;
    const etcdDir = component('etcd');
    handles.push(
      await launchLocal({
        name: 'etcd',
        dir: etcdDir,
        port: etcdPort,
        url: etcdUrl,
        command: bin('etcd'),
        args: [
          '--name=test',
          `--data-dir=${join(etcdDir, 'data')}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=http://${LOOPBACK}:${peerPort}`,
          `--initial-advertise-peer-urls=http://${LOOPBACK}:${peerPort}`,
          `--initial-cluster=test=http://${LOOPBACK}:${peerPort}`,
          '--unsafe-no-fsync',
          '--log-level=warn',
        ],
        ready: async (url) => {
          const response = await fetch(`${url}/health`);
          if (!response.ok || !(await response.text()).includes('"health":"true"'))
            throw new Error(`etcd health: ${response.status}`);
        },
      }),
    );

    let ca = '';
    const api = <T>(method: string, path: string, body?: unknown) => apiCall<T>(server, ca, token, method, path, body);
    handles.push(
      await launchLocal({
        name: 'kube-apiserver',
        dir: component('kube-apiserver'),
        port: apiPort,
        url: server,
        command: bin('kube-apiserver'),
        args: [
          `--etcd-servers=${etcdUrl}`,
          `--bind-address=${LOOPBACK}`,
          `--advertise-address=${LOOPBACK}`,
          `--secure-port=${apiPort}`,
          `--cert-dir=${certDir}`,
          `--token-auth-file=${join(pki, 'tokens.csv')}`,
          '--authorization-mode=RBAC',
          `--service-account-key-file=${join(pki, 'sa.pub')}`,
          `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
          '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
          '--service-cluster-ip-range=10.96.0.0/16',
          // No kube-proxy or real endpoints: the `kubernetes` Service's endpoints would point
          // at 127.0.0.1, which the API server refuses to publish.
          '--endpoint-reconciler-type=none',
          '--profiling=false',
        ],
        ready: async () => {
          ca = readFileSync(caFile, 'utf8');
          await api('GET', '/readyz');
        },
      }),
    );

    const kubeconfig = join(pki, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'test', cluster: { server, 'certificate-authority': caFile } }],
        users: [{ name: 'admin', user: { token } }],
        contexts: [{ name: 'test', context: { cluster: 'test', user: 'admin' } }],
        'current-context': 'test',
      }),
      { mode: 0o600 },
    );
    const client = (
      name: string,
      command: string,
      args: string[],
      ready: () => Promise<void>,
      env?: NodeJS.ProcessEnv,
    ) =>
      launchLocal({
        name,
        dir: component(name),
        port: 0,
        url: server,
        command,
        args: [`--kubeconfig=${kubeconfig}`, ...args],
        ready,
        env,
      });

    handles.push(
      await client(
        'kube-controller-manager',
        bin('kube-controller-manager'),
        [
          '--secure-port=0',
          '--leader-elect=false',
          `--root-ca-file=${caFile}`,
          `--service-account-private-key-file=${join(pki, 'sa.key')}`,
        ],
        async () => {
          // The serviceaccount controller creating `default` shows the controllers run.
          await api('GET', '/api/v1/namespaces/default/serviceaccounts/default');
        },
      ),
    );
    handles.push(
      await client(
        'kube-scheduler',
        bin('kube-scheduler'),
        ['--secure-port=0', '--leader-elect=false'],
        async () => {},
      ),
    );

    // Fake nodes, one per zone, big enough for any values file, so topology spread and
    // anti-affinity over hostname and zone can be satisfied. kwok (below) makes them Ready.
    const zones = options.zones ?? ['zone-a', 'zone-b', 'zone-c'];
    const nodes = zones.map((_, index) => `kwok-node-${index}`);
    for (const [index, name] of nodes.entries()) {
      await api('POST', '/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
          labels: {
            'kubernetes.io/hostname': name,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'topology.kubernetes.io/zone': zones[index],
            type: 'kwok',
          },
        },
        status: {
          allocatable: { cpu: '64', memory: '256Gi', pods: '110' },
          capacity: { cpu: '64', memory: '256Gi', pods: '110' },
        },
      });
    }
    const stages = ['node-initialize', 'node-heartbeat', 'pod-ready', 'pod-complete', 'pod-delete'].map(
      (stage) => `--config=${join(cache, 'stages', `${stage}.yaml`)}`,
    );
    handles.push(
      await client(
        'kwok',
        bin('kwok'),
        ['--manage-all-nodes', ...stages],
        async () => {
          const list = await api<{ items: { status?: { conditions?: Condition[] } }[] }>('GET', '/api/v1/nodes');
          const ready = list.items.filter((node) =>
            node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          );
          if (ready.length < nodes.length) throw new Error(`${ready.length} of ${nodes.length} nodes Ready`);
        },
        { ...process.env, HOME: join(dir, 'kwok') },
      ), // kwok reads ~/.kwok/kwok.yaml when present: not a developer's
    );
    // The scheduler has no port to probe (--secure-port=0): at least it must still be running.
    const exited = handles.filter((handle) => handle.pid === undefined || !isAlive(handle.pid));
    if (exited.length > 0)
      throw new Error(
        `exited right after starting: ${exited.map((handle) => `${handle.name} (log: ${join(dir, handle.name, 'server.log')})`).join(', ')}`,
      );

    const helmHome = component('helm');
    return {
      server,
      kubeconfig,
      crdFiles: ['externalsecrets', 'secretstores', 'clustersecretstores']
        .map((crd) => join(cache, 'crds', `external-secrets.io_${crd}.yaml`))
        .concat(
          ['servicemonitors', 'prometheusrules'].map((crd) => join(cache, 'crds', `monitoring.coreos.com_${crd}.yaml`)),
        ),
      env: {
        ...process.env,
        PATH: [join(cache, 'bin'), process.env.PATH].filter(Boolean).join(delimiter),
        KUBECONFIG: kubeconfig,
        HELM_CACHE_HOME: join(helmHome, 'cache'),
        HELM_CONFIG_HOME: join(helmHome, 'config'),
        HELM_DATA_HOME: join(helmHome, 'data'),
      },
      nodes,
      api,
      watch: (path) => watchCall(server, ca, token, path),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
