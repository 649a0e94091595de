// Debian's Prometheus for the cutover drill: scrapes every replica's /metrics each second (file
// service discovery, rewritten as replicas come and go), evaluates the chart's own alert rules,
// and answers the drill's queries over its HTTP API. Loopback only, stopped by pid.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, LOOPBACK } from '../infra/process.js';
import { launchLocal, type ServerHandle } from '../infra/server.js';

export interface DrillPrometheus {
  readonly url: string;
  /** Replaces the scrape targets (host:port of each replica's admin server). */
  setTargets(targets: { address: string; replica: string }[]): void;
  /** An instant query; the result vector (empty when no series). Throws on a query Prometheus refuses. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** A range query over the drill, one point per `stepSeconds`. */
  queryRange(
    expr: string,
    startSeconds: number,
    endSeconds: number,
    stepSeconds: number,
  ): Promise<{ metric: Record<string, string>; values: [number, string][] }[]>;
  /** Alerts now firing (state firing), by name and labels. */
  firing(): Promise<{ name: string; labels: Record<string, string> }[]>;
  /** Every metric name Prometheus has seen. */
  metricNames(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(dir: string, rules: unknown): Promise<DrillPrometheus> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const url = `http://${LOOPBACK}:${port}`;
  const targetsFile = join(dir, 'targets.json');
  const setTargets = (targets: { address: string; replica: string }[]) => {
    // Written aside and renamed: Prometheus never reads half a file.
    writeFileSync(
      `${targetsFile}.tmp`,
      JSON.stringify(targets.map((target) => ({ targets: [target.address], labels: { replica: target.replica } }))),
    );
    renameSync(`${targetsFile}.tmp`, targetsFile);
  };
  setTargets([]);
  writeFileSync(join(dir, 'rules.json'), JSON.stringify(rules));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    JSON.stringify({
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      rule_files: [join(dir, 'rules.json')],
      scrape_configs: [{ job_name: 'portcullis', file_sd_configs: [{ files: [targetsFile], refresh_interval: '1s' }] }],
    }),
  );
  const handle: ServerHandle = await launchLocal({
    name: 'prometheus',
    dir,
    port,
    url,
    command: '/usr/bin/prometheus',
    args: [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${LOOPBACK}:${port}`,
      '--log.level=warn',
    ],
    ready: async () => {
      const response = await fetch(`${url}/-/ready`);
      if (!response.ok) throw new Error(`not ready: ${response.status}`);
    },
  });
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus refused ${path}: ${body.error}`);
    return body.data;
  };
  return {
    url,
    setTargets,
    query: async (expr) =>
      (
        await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
          `/api/v1/query?query=${encodeURIComponent(expr)}`,
        )
      ).result,
    queryRange: async (expr, start, end, step) =>
      (
        await api<{ result: { metric: Record<string, string>; values: [number, string][] }[] }>(
          `/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${start}&end=${end}&step=${step}`,
        )
      ).result,
    firing: async () =>
      (await api<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts')).alerts
        .filter((alert) => alert.state === 'firing')
        .map((alert) => ({ name: alert.labels.alertname!, labels: alert.labels })),
    metricNames: () => api<string[]>('/api/v1/label/__name__/values'),
    stop: () => handle.dispose(),
  };
}
