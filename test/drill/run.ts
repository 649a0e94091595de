// Starts what the cutover drill needs (PostgreSQL, Redis, moto of its own, so the fault can stop
// one; per deployment a database and Debian's Prometheus with the chart's alert rules), runs the
// two deployments side by side (knex → dynamodb → knex; redis → knex, another cluster's move),
// writes the HTML report, and stops everything by pid, on failure too. Used by
// `npm run drill -- cutover` and its test.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { createDynamoClient, createDynamoSessionTable } from '@portcullis/session-store';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../infra/moto-account.js';
import type { ServerHandle } from '../infra/server.js';
import { dashboardPanels, emptySummary, runDeployment, type Deployment, type DrillSummary } from './cutover.js';
import { startPrometheus, type DrillPrometheus } from './prometheus.js';
import { drillReport, type Evidence } from './report.js';
import { seedDeployment } from './seed.js';
import { emptyTotals, IDLE_SECONDS, MAX_CONCURRENT } from './workload.js';

const run = promisify(execFile);
const chart = join(import.meta.dirname, '..', '..', 'helm', 'portcullis');
/** Bounds the whole drill: a hung step fails it instead of holding CI. */
const DRILL_TIMEOUT_MS = 12 * 60_000;

type Rules = { groups: { name: string; rules: { alert?: string; expr: string }[] }[] };

/** The chart's alert rules with windows and `for` durations a one-second scrape can show in seconds. */
async function drillRules(): Promise<Rules> {
  const sets = [
    'rateWindow=5s',
    'dualWriteFailuresFor=1s',
    'phasesNotAdjacentFor=5s',
    'countDivergenceFor=20s',
    'fallbackReadsAfterCutoverFor=30s',
  ].flatMap((set) => ['--set', `monitoring.prometheusRule.${set}`]);
  const { stdout } = await run('helm', [
    'template',
    'drill',
    chart,
    ...sets,
    '--show-only',
    'templates/monitoring.yaml',
  ]);
  const rule = parseAllDocuments(stdout)
    .map((document) => document.toJS() as { kind?: string; spec: Rules })
    .find((document) => document?.kind === 'PrometheusRule');
  return rule!.spec;
}

const key = () => randomBytes(32).toString('base64');

export async function drill(options: {
  reportFile: string;
  admins?: number;
  log?: (line: string) => void;
}): Promise<DrillSummary> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[drill] ${line}\n`));
  const [{ startPostgres }, { startRedis }, { startMoto }] = await Promise.all([
    import('../infra/postgres.js'),
    import('../infra/redis.js'),
    import('../infra/moto.js'),
  ]);
  const handles: ServerHandle[] = [];
  const work = mkdtempSync(join(tmpdir(), 'portcullis-drill-'));
  const prometheuses: DrillPrometheus[] = [];
  const evidence: Evidence[] = [];
  const startedAt = Date.now() / 1000;
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), DRILL_TIMEOUT_MS);
  try {
    const [postgres, redis, moto] = await Promise.all([startPostgres(), startRedis(), startMoto()]);
    handles.push(postgres, redis, moto);
    // The drill's own DynamoDB clients (table, backfill, verify, checks) find moto's credentials as a pod finds its role's.
    process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
    const rules = await drillRules();
    const alerts = rules.groups
      .filter((group) =>
        ['portcullis-session-store', 'portcullis-session-cutover', 'portcullis-jobs'].includes(group.name),
      )
      .flatMap((group) =>
        group.rules
          .filter((rule) => rule.alert)
          .map((rule) => ({ alert: rule.alert!, expr: rule.expr, group: group.name })),
      );
    const { default: pg } = await import('pg');
    const dynamoTable = async () => {
      const client = createDynamoClient({ region: MOTO_REGION, endpoint: moto.url });
      try {
        await createDynamoSessionTable(client, { tableName: 'drill-sessions', billingMode: 'PAY_PER_REQUEST' });
      } finally {
        client.destroy();
      }
    };
    await dynamoTable();

    /** A database of its own on the drill's PostgreSQL, migrated and seeded, and a production pod's environment. */
    async function deployment(name: string, database: string, moves: Deployment['moves']): Promise<Deployment> {
      const admin = new pg.Client({ connectionString: postgres.url });
      await admin.connect();
      try {
        await admin.query(`create database "${database}"`);
      } finally {
        await admin.end();
      }
      const url = new URL(postgres.url);
      url.pathname = `/${database}`;
      const env = {
        NODE_ENV: 'production',
        LOG_LEVEL: 'info', // startCompiledService reads the ports from the "listening" line
        TRUSTED_PROXY_HOPS: '1',
        DATABASE_URL: url.toString(),
        DATABASE_POOL_MAX: '4',
        SESSION_SECRET: randomBytes(48).toString('base64url'),
        SESSION_IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS),
        SESSION_MAX_CONCURRENT: String(MAX_CONCURRENT),
        SESSION_CONSISTENCY_SAMPLE_SECONDS: '2',
        SESSION_CONSISTENCY_SAMPLE_SIZE: '20',
        RATE_LIMIT_STORE: 'postgres',
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: `${database}:`,
        DYNAMODB_ENDPOINT: moto.url,
        DYNAMODB_SESSION_TABLE: 'drill-sessions',
        AWS_REGION: MOTO_REGION,
        AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
        MFA_SECRET_ENCRYPTION_KEY: key(),
        MFA_RESET_LOG_ENCRYPTION_KEY: key(),
        AUDIT_DETAILS_ENCRYPTION_KEY: key(),
        // SHUTDOWN_GRACE_MS stays at production's default (10 s): a retired replica waits only as
        // long as its in-flight requests need. At 1 s, a sign-in still hashing on a loaded CI
        // machine had its connection cut ("fetch failed", a request error of the drill).
      };
      const seeded = await seedDeployment({
        databaseUrl: env.DATABASE_URL,
        mfaKey: env.MFA_SECRET_ENCRYPTION_KEY,
        admins: (options.admins ?? 6) + 8,
      });
      const prometheus = await startPrometheus(join(work, `prometheus-${database}`), rules);
      prometheuses.push(prometheus);
      return { name, env, seeded, moves, prometheus };
    }

    const [chain, fromRedis] = await Promise.all([
      deployment('knex ⇄ dynamodb', 'drill_chain', [
        ['knex', 'dynamodb', true],
        ['dynamodb', 'knex', false],
      ]),
      deployment('redis → knex', 'drill_redis', [['redis', 'knex', false]]),
    ]);
    chain.fault = {
      stop: () => moto.stop(),
      restart: async () => {
        await moto.restart();
        await dynamoTable();
      },
    };
    const summary = emptySummary();
    const totals = emptyTotals();
    const panelsWithData = new Set<string>();
    const common = {
      alerts,
      summary,
      totals,
      panelsWithData,
      log: {
        step: log,
        evidence: (kind: string, detail: unknown) => {
          evidence.push({ at: new Date().toISOString(), kind, detail });
          // Failures and retries are in the report, and said at once: a test run keeps no report.
          if (/error|retried/.test(kind)) log(`${kind}: ${JSON.stringify(detail)}`);
        },
      },
    };
    const aborted = new Promise<never>((_, reject) =>
      timeout.signal.addEventListener('abort', () =>
        reject(new Error(`the drill did not finish within ${DRILL_TIMEOUT_MS / 60_000} min`)),
      ),
    );
    try {
      await Promise.race([
        Promise.all([
          runDeployment({ ...common, deployment: chain }),
          runDeployment({ ...common, deployment: fromRedis }),
        ]),
        aborted,
      ]);
    } finally {
      summary.forced_relogins = totals.forcedRelogins;
      summary.logouts_undone = totals.logoutsUndone;
      summary.requests = totals.requests;
      summary.request_errors = totals.requestErrors;
      summary.requests_retried = totals.requestsRetried;
    }
    const panels = dashboardPanels();
    for (const [at, panel] of panels.entries())
      if (!panelsWithData.has(panel.title))
        evidence.push({ at: new Date().toISOString(), kind: 'panel without data', detail: { at, title: panel.title } });
    summary.panels_checked = panels.length;
    summary.panels_without_data = panels.filter((panel) => !panelsWithData.has(panel.title)).length;
    // A name is missing when no deployment's Prometheus ever saw it.
    const seen = new Set((await Promise.all(prometheuses.map((prometheus) => prometheus.metricNames()))).flat());
    const named = [...panels.flatMap((panel) => panel.exprs), ...alerts.map((rule) => rule.expr)].flatMap(
      (expr) => expr.match(/\b(session_store_\w+|portcullis_\w+)\b/g) ?? [],
    );
    summary.metrics_missing = [...new Set(named)].filter((name) => !seen.has(name));
    writeFileSync(
      options.reportFile,
      await drillReport({
        deployments: [
          { name: chain.name, prometheus: chain.prometheus },
          { name: fromRedis.name, prometheus: fromRedis.prometheus },
        ],
        startedAt,
        endedAt: Date.now() / 1000,
        summary,
        evidence,
      }),
    );
    log(`report: ${options.reportFile}`);
    return summary;
  } finally {
    clearTimeout(timer);
    await Promise.allSettled(prometheuses.map((prometheus) => prometheus.stop()));
    await Promise.allSettled(handles.map((handle) => handle.dispose()));
    rmSync(work, { recursive: true, force: true });
  }
}
