// Starts what the cutover drill needs (PostgreSQL, Redis, moto of its own, so the fault can stop
// one; Debian's Prometheus with the chart's alert rules), runs it, writes the HTML report, and
// stops everything by pid, on failure too. Used by `npm run drill -- cutover` and its test.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../infra/moto-account.js';
import type { ServerHandle } from '../infra/server.js';
import { runCutoverDrill, type DrillSummary } from './cutover.js';
import { startPrometheus, type DrillPrometheus } from './prometheus.js';
import { drillReport, type Evidence } from './report.js';

const run = promisify(execFile);
const chart = join(import.meta.dirname, '..', '..', 'helm', 'portcullis');

/** The chart's alert rules with windows and `for` durations a one-second scrape can show in seconds. */
async function drillRules(): Promise<{ groups: { name: string; rules: { alert?: string; expr: string }[] }[] }> {
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
    .map(
      (document) =>
        document.toJS() as {
          kind?: string;
          spec: { groups: { name: string; rules: { alert?: string; expr: string }[] }[] };
        },
    )
    .find((document) => document?.kind === 'PrometheusRule');
  return rule!.spec;
}

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
  let prometheus: DrillPrometheus | undefined;
  const evidence: Evidence[] = [];
  const startedAt = Date.now() / 1000;
  try {
    const [postgres, redis, moto] = await Promise.all([startPostgres(), startRedis(), startMoto()]);
    handles.push(postgres, redis, moto);
    process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
    const rules = await drillRules();
    prometheus = await startPrometheus(join(work, 'prometheus'), rules);
    const alerts = rules.groups
      .filter((group) =>
        ['portcullis-session-store', 'portcullis-session-cutover', 'portcullis-jobs'].includes(group.name),
      )
      .flatMap((group) =>
        group.rules
          .filter((rule) => rule.alert)
          .map((rule) => ({ alert: rule.alert!, expr: rule.expr, group: group.name })),
      );
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: postgres.url,
      SESSION_SECRET: 'drill-session-secret-0123456789abcdefghijkl',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'drill:',
      DYNAMODB_ENDPOINT: moto.url,
      AWS_REGION: MOTO_REGION,
      SESSION_CONSISTENCY_SAMPLE_SECONDS: '2',
      SESSION_CONSISTENCY_SAMPLE_SIZE: '20',
    };
    const summary = await runCutoverDrill({
      servers: { env, moto },
      prometheus,
      alerts,
      admins: options.admins ?? 24,
      log: { step: log, evidence: (kind, detail) => evidence.push({ at: new Date().toISOString(), kind, detail }) },
    });
    writeFileSync(
      options.reportFile,
      await drillReport({ prometheus, startedAt, endedAt: Date.now() / 1000, summary, evidence }),
    );
    log(`report: ${options.reportFile}`);
    return summary;
  } finally {
    await prometheus?.stop().catch(() => undefined);
    await Promise.allSettled(handles.map((handle) => handle.dispose()));
    rmSync(work, { recursive: true, force: true });
  }
}
