// What the cutover gate reads from the cluster with @kubernetes/client-node: the release's live
// ConfigMap (the phase its pods run), its Deployments (is the last rollout finished, and when),
// and the evidence ConfigMap where `sessions backfill` and `sessions verify` record their results.
// The gate's Role (helm/portcullis/templates/cutover-gate.yaml) grants exactly these reads.
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
} from '@kubernetes/client-node';
import {
  positionFromLegacy,
  type CutoverEvidence,
  type Environment,
  type LiveRelease,
  type PhasePosition,
  type SessionPhase,
  type StoreName,
} from '@portcullis/config';
import { CliError, EXIT, messageOf } from '../cli-error.js';

/** Where the release lives; names as the chart makes them (helm/portcullis/templates/_helpers.tpl). */
export interface ReleaseRef {
  release: string;
  namespace: string;
}

export const fullnameOf = (release: string) =>
  (release.includes('portcullis') ? release : `${release}-portcullis`).slice(0, 63).replace(/-+$/, '');
export const evidenceConfigMapOf = (release: string) => `${fullnameOf(release)}-cutover`;
const EVIDENCE_ANNOTATION = {
  backfill: 'cutover.portcullis.io/backfill',
  verify: 'cutover.portcullis.io/verify',
} as const;

/** KUBECONFIG from the CLI's environment, else the pod's own account (a Job), else ~/.kube/config. */
export function kubeConfigOf(env: Environment): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (env.KUBECONFIG) kc.loadFromFile(env.KUBECONFIG);
    else if (env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (error) {
    throw new CliError(
      `Cannot read the Kubernetes configuration (${messageOf(error)}): set KUBECONFIG or run inside the cluster.`,
      EXIT.usage,
    );
  }
  // With nothing to load, the client falls back to http://localhost:8080 and later fails with a
  // TLS message that names neither the cause nor the fix.
  if (!env.KUBECONFIG && !env.KUBERNETES_SERVICE_HOST && kc.getCurrentCluster()?.server === 'http://localhost:8080') {
    throw new CliError(
      'KUBECONFIG is required outside the cluster (no kubeconfig file and no in-cluster service account found): the cutover commands read the release from the Kubernetes API.',
      EXIT.usage,
    );
  }
  return kc;
}

const status = (error: unknown) => (error as { code?: number }).code;

function apiError(what: string, error: unknown): CliError {
  const code = status(error);
  const hint =
    code === 403
      ? ': the account may not read it (the gate Role in helm/portcullis/templates/cutover-gate.yaml grants it)'
      : '';
  return new CliError(
    `Cannot read ${what} from the Kubernetes API (${code ? `HTTP ${code}` : messageOf(error)})${hint}.`,
    EXIT.failure,
  );
}

const bool = (value: string | undefined) =>
  value === undefined || value === '' ? undefined : value === 'true' || value === '1';
const store = (value: string | undefined) => (value ? (value as StoreName) : undefined);

/** The phase a ConfigMap's variables give, with the deprecated ones read as the services read them. */
export function positionOfConfigMap(data: Record<string, string>): PhasePosition | string {
  const phase = data.SESSION_STORE_PHASE as SessionPhase | undefined;
  if (phase) {
    if (!data.SESSION_STORE_FROM) return 'it sets SESSION_STORE_PHASE without SESSION_STORE_FROM';
    return {
      phase,
      from: store(data.SESSION_STORE_FROM)!,
      to: phase === 'single' ? undefined : store(data.SESSION_STORE_TO),
    };
  }
  const ttl = data.SESSION_RETIRING_STORE_TTL_SECONDS ? Number(data.SESSION_RETIRING_STORE_TTL_SECONDS) : undefined;
  const legacy = positionFromLegacy({
    SESSION_STORE_DRIVER: (data.SESSION_STORE_DRIVER || 'memory') as StoreName | 'dual',
    SESSION_STORE_PRIMARY: store(data.SESSION_STORE_PRIMARY),
    SESSION_STORE_SECONDARY: store(data.SESSION_STORE_SECONDARY),
    SESSION_DUAL_FALLBACK_ON_MISS: bool(data.SESSION_DUAL_FALLBACK_ON_MISS),
    SESSION_DUAL_READ_REPAIR: bool(data.SESSION_DUAL_READ_REPAIR),
    SESSION_RETIRING_STORE_TTL_SECONDS: ttl || undefined,
  });
  return 'position' in legacy
    ? legacy.position
    : legacy.problems.map((problem) => `${problem.variable} ${problem.message}`).join('; ') ||
        'its dual stores are incomplete';
}

/** One Deployment as `kubectl rollout status` judges it. */
function rolloutOf(deployment: V1Deployment): { name: string; complete: boolean; detail: string; finishedAt?: Date } {
  const name = deployment.metadata?.name ?? '?';
  const wanted = deployment.spec?.replicas ?? 1;
  const s = deployment.status ?? {};
  const [updated, total, available] = [s.updatedReplicas ?? 0, s.replicas ?? 0, s.availableReplicas ?? 0];
  const observed = (s.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const complete = observed && updated >= wanted && total <= updated && available >= wanted;
  const detail = !observed
    ? `${name}: the new spec is not yet seen by the controller`
    : `${name}: ${updated} of ${wanted} pods updated, ${available} available, ${Math.max(0, total - updated)} old`;
  // NewReplicaSetAvailable: the controller's own mark of a finished rollout, stamped when it happened.
  const progressing = s.conditions?.find(
    (condition) => condition.type === 'Progressing' && condition.reason === 'NewReplicaSetAvailable',
  );
  const finishedAt = progressing?.lastUpdateTime ? new Date(progressing.lastUpdateTime) : undefined;
  return { name, complete, detail, ...(finishedAt ? { finishedAt } : {}) };
}

export interface ClusterState {
  /** Undefined when the release is not installed (no live ConfigMap): a first install. */
  live: LiveRelease | undefined;
  evidence: CutoverEvidence;
  deployments: { name: string; complete: boolean; detail: string }[];
}

/** Reads the release's live phase, rollout and evidence; an unreadable phase is a sentence. */
export async function readClusterState(kc: KubeConfig, ref: ReleaseRef): Promise<ClusterState> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const fullname = fullnameOf(ref.release);
  const configMap = await core
    .readNamespacedConfigMap({ name: `${fullname}-config`, namespace: ref.namespace })
    .catch((error: unknown) => {
      if (status(error) === 404) return undefined;
      throw apiError(`ConfigMap ${ref.namespace}/${fullname}-config`, error);
    });
  const evidence = await readEvidence(kc, ref);
  if (!configMap) return { live: undefined, evidence, deployments: [] };
  const position = positionOfConfigMap(configMap.data ?? {});
  if (typeof position === 'string')
    throw new CliError(
      `Cannot tell the phase the release runs: its ConfigMap ${fullname}-config says ${position}. Fix it first with sessionStore.{phase,from,to} set to what the pods run.`,
      EXIT.usage,
    );
  const list = await apps
    .listNamespacedDeployment({
      namespace: ref.namespace,
      labelSelector: `app.kubernetes.io/instance=${ref.release},app.kubernetes.io/name=portcullis`,
    })
    .catch((error: unknown) => {
      throw apiError(`the Deployments of ${ref.release} in ${ref.namespace}`, error);
    });
  const deployments = list.items.map(rolloutOf);
  const unfinished = deployments.filter((deployment) => !deployment.complete);
  const finished = deployments
    .map((deployment) => deployment.finishedAt?.getTime())
    .filter((time): time is number => time !== undefined);
  const idle = Number(configMap.data?.SESSION_IDLE_TIMEOUT_SECONDS || 1800);
  return {
    live: {
      position,
      rolloutComplete: deployments.length > 0 && unfinished.length === 0,
      rolloutDetail:
        deployments.length === 0
          ? 'no Deployment of the release found'
          : unfinished.map((deployment) => deployment.detail).join('; '),
      ...(unfinished.length === 0 && finished.length === deployments.length && finished.length > 0
        ? { rolledOutAt: new Date(Math.max(...finished)) }
        : {}),
      idleTimeoutSeconds: Number.isFinite(idle) && idle > 0 ? idle : 1800,
    },
    evidence,
    deployments,
  };
}

async function readEvidence(kc: KubeConfig, ref: ReleaseRef): Promise<CutoverEvidence> {
  const name = evidenceConfigMapOf(ref.release);
  const configMap = await kc
    .makeApiClient(CoreV1Api)
    .readNamespacedConfigMap({ name, namespace: ref.namespace })
    .catch((error: unknown) => {
      if (status(error) === 404) return undefined;
      throw apiError(`ConfigMap ${ref.namespace}/${name}`, error);
    });
  const annotations = configMap?.metadata?.annotations ?? {};
  const parse = (key: string) => {
    try {
      return annotations[key] ? JSON.parse(annotations[key]) : undefined;
    } catch {
      return undefined; // a hand-edited value counts as no evidence
    }
  };
  return { backfill: parse(EVIDENCE_ANNOTATION.backfill), verify: parse(EVIDENCE_ANNOTATION.verify) };
}

/** Records one result on the evidence ConfigMap (a merge patch of one annotation). */
export async function recordEvidence<K extends keyof CutoverEvidence>(
  kc: KubeConfig,
  ref: { namespace: string; name: string },
  kind: K,
  value: NonNullable<CutoverEvidence[K]>,
): Promise<void> {
  const body = { metadata: { annotations: { [EVIDENCE_ANNOTATION[kind]]: JSON.stringify(value) } } };
  await kc
    .makeApiClient(CoreV1Api)
    .patchNamespacedConfigMap(
      { name: ref.name, namespace: ref.namespace, body },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )
    .catch((error: unknown) => {
      throw new CliError(
        `Could not record the ${kind} result on ConfigMap ${ref.namespace}/${ref.name} (${status(error) ? `HTTP ${status(error)}` : messageOf(error)}); the cutover gate will not see it. Check the Job's Role, or run the command again from a machine that may patch it.`,
        EXIT.failure,
      );
    });
}
