// The session store cutover drill (docs/session-cutover.md, "The drill") for one deployment:
// three real auth-session processes behind a "load balancer", synthetic admins using their
// sessions over HTTP all along, each move stepped phase by phase with rolling restarts (one
// replica at a time, surge first: neighbouring phases side by side), backfill, the real wait of
// one idle timeout, verify and the gate's verdicts; a real Prometheus scraping every replica's
// admin port evaluates the chart's alerts and answers every dashboard query; a fault (the new
// store stopped) whose alert must fire and clear; the post-switch checks over HTTP.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import knexFactory from 'knex';
import {
  judgeStep,
  loadConfig,
  phaseLabel,
  type CutoverEvidence,
  type PhasePosition,
  type StoreName,
} from '@portcullis/config';
import { createSessionIdHasher } from '@portcullis/crypto';
import {
  backfillSessions,
  cleanupFigures,
  createJobRunQueries,
  createSessionStore,
  createSingleBackend,
  runExpiredSessionCleanup,
  STORED_SESSION_MARGIN_MS,
  verifyFigures,
  verifyStores,
} from '@portcullis/session-store';
import type { DrillPrometheus } from './prometheus.js';
import { startReplica, type DrillReplica } from './replica.js';
import type { Seeded } from './seed.js';
import { Admins, Client, IDLE_SECONDS, MAX_CONCURRENT, sessionIdOf, type Browser, type Totals } from './workload.js';

const repo = join(import.meta.dirname, '..', '..');

export interface DrillSummary {
  directions: number;
  sessions_tracked: number;
  forced_relogins: number;
  logouts_undone: number;
  gate_refusals: number;
  fallback_reads: number;
  max_count_divergence: number;
  panels_checked: number;
  panels_without_data: number;
  alerts_checked: number;
  alerts_fired: number;
  alerts_cleared: number;
  post_switch_checks_failed: number;
  /** auth-session processes started (rolling restarts included). */
  replicas_started: number;
  /** HTTP requests of the synthetic admins and those answered other than 200/401 or not at all. */
  requests: number;
  request_errors: number;
  /** Sent once more after a 503 + Retry-After or a timeout (Totals.requestsRetried). */
  requests_retried: number;
  /** Alerts that fired though nothing was wrong (a runbook step that looks unsafe to on-call). */
  unexpected_alerts: string[];
  /** Sampled consistency mismatches seen by the replicas, by kind and the step they were seen after. */
  consistency_mismatches: Record<string, string[]>;
  metrics_missing: string[];
}

export const emptySummary = (): DrillSummary => ({
  directions: 0,
  sessions_tracked: 0,
  forced_relogins: 0,
  logouts_undone: 0,
  gate_refusals: 0,
  fallback_reads: 0,
  max_count_divergence: 0,
  panels_checked: 0,
  panels_without_data: 0,
  alerts_checked: 0,
  alerts_fired: 0,
  alerts_cleared: 0,
  post_switch_checks_failed: 0,
  replicas_started: 0,
  requests: 0,
  request_errors: 0,
  requests_retried: 0,
  unexpected_alerts: [],
  consistency_mismatches: {},
  metrics_missing: [],
});

export interface DrillLog {
  step(text: string): void;
  evidence(kind: string, detail: unknown): void;
}

/** One deployment of the drill: its own database, stores, Prometheus and admins. */
export interface Deployment {
  name: string;
  /** A production pod's environment, the session store phase aside. */
  env: Record<string, string>;
  seeded: Seeded;
  /** [from, to, inject the fault during dual-write]. */
  moves: [StoreName, StoreName, boolean][];
  prometheus: DrillPrometheus;
  /** Stops and restarts the DynamoDB API (moto), then re-creates the table: the fault. */
  fault?: { stop(): Promise<void>; restart(): Promise<void> };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const REPLICAS = 3;
const IDLE_MS = IDLE_SECONDS * 1000;
/** Synthetic admins that keep working; the rest of the seeded ones serve the checks. */
const WORKERS = (admins: number) => admins - 8;
const MOVE_ALERTS = [
  'PortcullisSessionPhasesNotAdjacent',
  'PortcullisSessionStoreCountsDiverge',
  'PortcullisSessionFallbackReadsAfterCutover',
  'PortcullisSessionVerifyNoGo',
];
const DIVERGENCE =
  '(max(max by (store) (session_store_items{state="live"})) - min(max by (store) (session_store_items{state="live"}))) / clamp_min(max(max by (store) (session_store_items{state="live"})), 1)';

/** The dashboard's queries, by panel. */
export function dashboardPanels(): { title: string; exprs: string[] }[] {
  const dashboard = JSON.parse(
    readFileSync(join(repo, 'helm', 'portcullis', 'files', 'dashboards', 'session-cutover.json'), 'utf8'),
  ) as { panels: { title: string; targets: { expr: string }[] }[] };
  return dashboard.panels.map((panel) => ({ title: panel.title, exprs: panel.targets.map((target) => target.expr) }));
}

/** The store settings of the environment with one store, for the drill's own connections (backfill, verify, checks). */
function configOf(env: Record<string, string>, store: StoreName) {
  return loadConfig({ ...env, SESSION_STORE_PHASE: 'single', SESSION_STORE_FROM: store }, { warn: () => undefined });
}

/** Polls `check` every 500 ms until it holds or `timeoutMs` passes. */
async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(500);
  }
  return false;
}

export async function runDeployment(options: {
  deployment: Deployment;
  alerts: { alert: string; expr: string; group: string }[];
  summary: DrillSummary;
  totals: Totals;
  panelsWithData: Set<string>;
  log: DrillLog;
}): Promise<void> {
  const { deployment, alerts, summary, totals, panelsWithData } = options;
  const { env, prometheus, seeded } = deployment;
  const log = {
    step: (text: string) => options.log.step(`${deployment.name}: ${text}`),
    evidence: (kind: string, detail: unknown) =>
      options.log.evidence(kind, { deployment: deployment.name, ...(detail as object) }),
  };
  const panels = dashboardPanels();
  const fleet: DrillReplica[] = [];
  const evidence: CutoverEvidence = {};
  const db = knexFactory({ client: 'pg', connection: env.DATABASE_URL!, pool: { min: 0, max: 2 } });
  const jobRuns = createJobRunQueries(db);
  const client = new Client(
    seeded.tenant,
    () => fleet.map((replica) => replica.url),
    totals,
    (kind, detail) => log.evidence(kind, detail as object),
  );
  const workers = WORKERS(seeded.admins.length);
  const spare = seeded.admins.slice(workers);
  let serial = 0;

  const setTargets = () =>
    prometheus.setTargets(fleet.map((replica) => ({ address: replica.address, replica: replica.name })));
  const start = async (position: PhasePosition) => {
    const replica = await startReplica({ name: `replica-${serial++}`, position, env });
    summary.replicas_started++;
    return replica;
  };
  const retire = async (replica: DrillReplica) => {
    summary.fallback_reads += (await replica.stop()).fallbacks;
  };
  const copy = (browser: Browser): Browser => ({ ...browser, jar: new Map(browser.jar) });

  /** Every panel query and alert expression against Prometheus now; the move's alerts must be quiet. */
  async function observe(position: PhasePosition): Promise<void> {
    await sleep(2000); // a scrape of the new replicas and a rule evaluation
    for (const panel of panels) {
      for (const expr of panel.exprs) if ((await prometheus.query(expr)).length > 0) panelsWithData.add(panel.title);
    }
    for (const rule of alerts) {
      await prometheus.query(rule.expr); // throws on an expression Prometheus refuses
      summary.alerts_checked++;
    }
    for (const alert of await prometheus.firing()) {
      // Not PortcullisSessionStoresDisagree: logouts by single-store pods leave copies in the other
      // store during the rollouts into dual-write and out of retiring (missing_in_primary), as the
      // runbook expects; the drill reports those mismatches by kind instead (consistency_mismatches).
      if (!MOVE_ALERTS.includes(alert.name)) continue;
      summary.unexpected_alerts.push(`${alert.name} in ${phaseLabel(position)}`);
      log.evidence('unexpected alert', { ...alert, during: phaseLabel(position) });
    }
    // By the replica that sampled it (its name carries its phase): during a rollout two phases sample.
    for (const { metric } of await prometheus.query(
      'sum by (kind, replica) (increase(session_store_consistency_mismatches_total[15s])) > 0',
    )) {
      (summary.consistency_mismatches[metric.kind!] ??= []).push(
        `after ${phaseLabel(position)}, sampled by ${metric.replica}`,
      );
    }
  }

  /** The stores' live counts apart, as a share (auth-session counts each store once a minute). */
  async function divergence(): Promise<void> {
    const [share] = await prometheus.query(`${DIVERGENCE} and on () count(count by (store) (session_store_items)) > 1`);
    if (share) summary.max_count_divergence = Math.max(summary.max_count_divergence, Number(share.value[1]));
  }

  let rolledOutAt = Date.now();
  const live = (position: PhasePosition, rolloutComplete = true) => ({
    position,
    rolloutComplete,
    rolloutDetail: rolloutComplete ? '' : `1 of ${REPLICAS} replicas still runs the previous phase`,
    rolledOutAt: new Date(rolledOutAt),
    idleTimeoutSeconds: IDLE_SECONDS,
  });

  /** The gate must refuse this step now. */
  function expectRefusal(current: PhasePosition, target: PhasePosition, rolloutComplete = true) {
    const verdict = judgeStep({ live: live(current, rolloutComplete), target, evidence, now: new Date() });
    log.evidence('gate', { from: phaseLabel(current), to: phaseLabel(target), ...verdict });
    if (verdict.allowed) throw new Error(`the gate let ${phaseLabel(current)} → ${phaseLabel(target)} through`);
    summary.gate_refusals++;
  }

  /** Surge one new replica, then take one old one out of the balancer and stop it; three times. */
  async function rollTo(target: PhasePosition, current: PhasePosition): Promise<void> {
    const verdict = judgeStep({ live: live(current), target, evidence, now: new Date() });
    log.evidence('gate', { from: phaseLabel(current), to: phaseLabel(target), ...verdict });
    if (!verdict.allowed) throw new Error(`the gate refused a step of the runbook: ${verdict.reason}`);
    log.step(`rolling ${phaseLabel(current)} → ${phaseLabel(target)}`);
    for (let index = 0; index < REPLICAS; index++) {
      const fresh = await start(target);
      const [old] = fleet.splice(index, 1, fresh);
      setTargets();
      await sleep(300); // the old pod's preStop: requests already sent to it finish
      await retire(old!);
      // Mid-rollout, the next step must wait for this one to finish.
      if (index === 0 && target.phase !== 'single') expectRefusal(target, nextOf(target), false);
    }
    rolledOutAt = Date.now();
    await admins.checkAllGone();
    await observe(target);
  }

  /** The checklist's checks after the store read changed, over HTTP through every replica. */
  async function postSwitchChecks(to: StoreName, idle?: Browser): Promise<void> {
    const failed: string[] = [];
    const urls = fleet.map((replica) => replica.url);
    const admin = spare.pop();
    if (!admin) throw new Error('no seeded admin left for the post-switch checks');
    // Concurrent-session limit: one sign-in more than allowed, each on the next replica.
    const browsers: Browser[] = [];
    for (let index = 0; index <= MAX_CONCURRENT; index++)
      browsers.push(await client.signIn(admin, urls[index % urls.length]));
    const newest = browsers[browsers.length - 1]!;
    for (const url of urls) {
      const listed = await client.request(newest, 'GET', '/auth/sessions', { on: url });
      const count = (listed.body.sessions as unknown[] | undefined)?.length;
      if (count !== MAX_CONCURRENT)
        failed.push(`concurrent-session limit: ${url} lists ${count} sessions, ${MAX_CONCURRENT} wanted`);
      if ((await client.me(copy(browsers[0]!), url)) !== 401)
        failed.push(`concurrent-session limit: the evicted session is still served by ${url}`);
    }
    // Absolute timeout: the newest session as if signed in longer ago than SESSION_ABSOLUTE_TIMEOUT_SECONDS, written to the new store.
    const config = configOf(env, to);
    const single = createSingleBackend(to, config);
    try {
      const store = createSessionStore({
        backend: single.backend,
        hashers: [createSessionIdHasher(env.SESSION_SECRET!)],
      });
      const id = sessionIdOf(newest);
      const session = id ? await store.get(id) : undefined;
      if (!session) failed.push(`absolute timeout: the ${to} store does not hold a session just signed in`);
      else {
        const signedInAt = Date.now() - (config.SESSION_ABSOLUTE_TIMEOUT_SECONDS + 60) * 1000;
        await store.set(id, { ...session, signedInAt }, IDLE_MS + STORED_SESSION_MARGIN_MS);
        for (const url of urls)
          if ((await client.me(copy(newest), url)) !== 401)
            failed.push(`absolute timeout: a session past it is still served by ${url}`);
      }
    } finally {
      await single.close();
    }
    // Idle timeout: a session nobody used for longer than SESSION_IDLE_TIMEOUT_SECONDS.
    if (idle) {
      await sleep(Math.max(0, idle.lastUsed + IDLE_MS + 1000 - Date.now()));
      for (const url of urls)
        if ((await client.me(copy(idle), url)) !== 401)
          failed.push(`idle timeout: a session idle past it is still served by ${url}`);
    }
    log.evidence('post-switch checks', { on: to, replicas: fleet.map((replica) => replica.name), failed });
    summary.post_switch_checks_failed += failed.length;
  }

  async function faultOfTheNewStore(): Promise<void> {
    log.step('fault: the DynamoDB API stops during dual-write');
    await deployment.fault!.stop();
    const firing = async () => (await prometheus.firing()).some((alert) => alert.name === 'PortcullisDualWriteFailing');
    const fired = await until(firing, 45_000);
    if (fired) summary.alerts_fired++;
    await deployment.fault!.restart();
    const cleared = await until(async () => !(await firing()), 60_000);
    if (fired && cleared) summary.alerts_cleared++;
    log.evidence('fault', { alert: 'PortcullisDualWriteFailing', fired, cleared });
  }

  async function backfill(from: StoreName, to: StoreName): Promise<void> {
    const [source, target] = [
      createSingleBackend(from, configOf(env, from)),
      createSingleBackend(to, configOf(env, to)),
    ];
    try {
      const copied = await backfillSessions({ source: source.backend, target: target.backend });
      evidence.backfill = { from, to, completedAt: new Date().toISOString() };
      log.evidence('backfill', { from, to, ...copied });
    } finally {
      await Promise.all([source.close(), target.close()]);
    }
  }

  /** `sessions verify --exact --record`: the verdict the gate reads and auth-session exports. */
  async function verify(from: StoreName, to: StoreName): Promise<void> {
    const [primary, secondary] = [
      createSingleBackend(from, configOf(env, from)),
      createSingleBackend(to, configOf(env, to)),
    ];
    try {
      const startedAt = new Date();
      const report = await verifyStores({ primary: primary.backend, secondary: secondary.backend, exactCounts: true });
      evidence.verify = { primary: from, secondary: to, go: report.go, at: new Date().toISOString() };
      await jobRuns.record({
        job: 'sessions-verify',
        startedAt,
        finishedAt: new Date(),
        outcome: report.go ? 'success' : 'no_go',
        figures: verifyFigures(report, (Date.now() - startedAt.getTime()) / 1000),
      });
      log.evidence('verify', {
        from,
        to,
        go: report.go,
        reasons: report.reasons,
        countsExact: report.countsExact,
        counts: { [from]: report.primary.counts, [to]: report.secondary.counts },
        countDifference: report.countDifference,
        compared: report.compared,
        mismatches: report.mismatches.map((mismatch) => mismatch.kind),
      });
      if (!report.go) throw new Error(`verify said NO-GO for ${from} → ${to}: ${report.reasons.join(' ')}`);
    } finally {
      await Promise.all([primary.close(), secondary.close()]);
    }
  }

  /** The hourly `sessions cleanup` of the knex store, recorded as the CronJob records it. */
  async function cleanupRun(): Promise<void> {
    const startedAt = new Date();
    const table = env.SESSION_TABLE_NAME ?? 'sessions';
    const result = await runExpiredSessionCleanup(db, table);
    await jobRuns.record({
      job: 'sessions-cleanup',
      startedAt,
      finishedAt: new Date(),
      outcome: 'success',
      figures: cleanupFigures(result, { batchSize: 1000, seconds: (Date.now() - startedAt.getTime()) / 1000, table }),
    });
  }

  const admins = new Admins(client, seeded.admins.slice(0, workers), (kind, detail) =>
    log.evidence(kind, detail as object),
  );
  try {
    const first: PhasePosition = { phase: 'single', from: deployment.moves[0]![0] };
    log.step(`starting ${REPLICAS} replicas in ${phaseLabel(first)}`);
    // One at a time, as for the rollouts: six node processes starting at once on a loaded CI machine
    // took longer than startCompiledService's 30 s to print their first line.
    for (let index = 0; index < REPLICAS; index++) fleet.push(await start(first));
    setTargets();
    admins.start();
    await observe(first);
    let current = first;
    for (const [from, to, fault] of deployment.moves) {
      log.step(`move ${from} → ${to}`);
      const dualWrite: PhasePosition = { phase: 'dual-write', from, to };
      expectRefusal(current, { phase: 'cutover', from, to });
      await rollTo(dualWrite, current);
      // Signed in now and left alone: idle past the timeout by the cutover, and read from the new store then.
      const idle = [await client.signIn(spare.pop()!), await client.signIn(spare.pop()!)];
      if (fault) await faultOfTheNewStore();
      await backfill(from, to);
      if (from === 'knex' || to === 'knex') await cleanupRun();
      expectRefusal(dualWrite, { phase: 'cutover', from, to }); // before the wait
      // The gate allows the cutover one idle timeout and STORED_SESSION_MARGIN_MS after the rollout:
      // verify any sooner sees the copy a single(A) pod's logout left in B (refused by the guard,
      // its lastSeenAt being too old) as live, missing_in_primary: NO-GO.
      log.step(
        `the wait: one idle timeout (${IDLE_SECONDS} s) and the stored copies' margin since dual-write rolled out`,
      );
      await sleep(Math.max(0, rolledOutAt + IDLE_MS + STORED_SESSION_MARGIN_MS + 1000 - Date.now()));
      await verify(from, to);
      await observe(dualWrite);
      await divergence();
      await rollTo({ phase: 'cutover', from, to }, dualWrite);
      await postSwitchChecks(to, idle[0]);
      await rollTo({ phase: 'retiring', from, to }, { phase: 'cutover', from, to });
      current = { phase: 'single', from: to };
      await rollTo(current, { phase: 'retiring', from, to });
      await postSwitchChecks(to, idle[1]);
      summary.directions++;
    }
    await observe(current);
  } finally {
    await admins.stop();
    summary.sessions_tracked += admins.tracked;
    await Promise.allSettled(fleet.splice(0).map(retire));
    await db.destroy();
  }
}

/** The phase after `position` in its move. */
function nextOf(position: PhasePosition): PhasePosition {
  const { from, to } = position as { from: StoreName; to: StoreName };
  if (position.phase === 'dual-write') return { phase: 'cutover', from, to };
  if (position.phase === 'cutover') return { phase: 'retiring', from, to };
  return { phase: 'single', from: to };
}
