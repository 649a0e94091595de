// The drill's HTML report: the key series over the whole drill as inline SVG plots (from
// Prometheus, so what a reviewer sees is what the dashboard would have shown), the gate, backfill,
// verify and fault evidence, and the summary. One file, no scripts, no Grafana needed.
import type { DrillSummary } from './cutover.js';
import type { DrillPrometheus } from './prometheus.js';

export interface Evidence {
  at: string;
  kind: string;
  detail: unknown;
}

/** The key series of issue 16 ("the drill's report"), each with what it shows. */
export const PLOTS: { title: string; expr: string; legend: string[] }[] = [
  {
    title: 'Pods per phase',
    expr: 'count by (phase, from, to) (session_store_phase_info)',
    legend: ['phase', 'from', 'to'],
  },
  { title: 'Live sessions per store', expr: 'max by (store) (session_store_items{state="live"})', legend: ['store'] },
  {
    title: 'Live sessions: difference between the stores',
    expr: 'max(max by (store) (session_store_items{state="live"})) - min(max by (store) (session_store_items{state="live"}))',
    legend: [],
  },
  {
    title: 'Reads answered by the secondary (per second)',
    expr: 'sum by (reason) (rate(session_store_read_fallbacks_total[10s]))',
    legend: ['reason'],
  },
  {
    title: 'Secondary write failures (per second)',
    // The failure counters have no series before their first failure: a quiet move draws 0.
    expr: 'sum by (store) (rate(session_store_dual_write_failures_total[10s])) or vector(0)',
    legend: ['store'],
  },
  {
    title: 'Store errors (per second)',
    expr: 'sum by (store) (rate(session_store_errors_total[10s])) or vector(0)',
    legend: ['store'],
  },
  {
    // Zero is data here: `or vector(0)` draws the line a reviewer wants to see flat.
    title: 'Request errors: answers 5xx (per second)',
    expr: 'sum(rate(http_request_duration_seconds_count{status=~"5.."}[10s])) or vector(0)',
    legend: [],
  },
  {
    title: 'Requests answered (per second, by status)',
    expr: 'sum by (status) (rate(http_request_duration_seconds_count[10s]))',
    legend: ['status'],
  },
];
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function svg(series: { name: string; points: [number, number][] }[], start: number, end: number): string {
  const [width, height] = [900, 180];
  const max = Math.max(1, ...series.flatMap((line) => line.points.map(([, value]) => value)));
  const x = (time: number) => ((time - start) / Math.max(1, end - start)) * width;
  const y = (value: number) => height - (value / max) * (height - 10);
  const lines = series.map(
    (line, index) =>
      `<polyline fill="none" stroke="${COLOURS[index % COLOURS.length]}" stroke-width="1.5" points="${line.points.map(([time, value]) => `${x(time).toFixed(1)},${y(value).toFixed(1)}`).join(' ')}"/>`,
  );
  const legend = series
    .map((line, index) => `<span style="color:${COLOURS[index % COLOURS.length]}">■ ${escape(line.name)}</span>`)
    .join(' ');
  return `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" style="border:1px solid #ccc"><text x="4" y="12" font-size="10">max ${max}</text>${lines.join('')}</svg><div>${legend || '(no series)'}</div>`;
}

/** One plot of one deployment: an SVG and whether any series had a point. */
async function plot(
  prometheus: DrillPrometheus,
  spec: (typeof PLOTS)[number],
  startedAt: number,
  endedAt: number,
): Promise<string> {
  const step = Math.max(1, Math.ceil((endedAt - startedAt) / 600));
  const result = await prometheus.queryRange(spec.expr, startedAt, endedAt, step);
  const series = result.map((line) => ({
    name: spec.legend.map((label) => line.metric[label] ?? '').join(' ') || 'value',
    points: line.values.map(([time, value]) => [time, Number(value)] as [number, number]),
  }));
  const points = series.reduce((sum, line) => sum + line.points.length, 0);
  return `<section class="plot" data-title="${escape(spec.title)}" data-points="${points}"><h3>${escape(spec.title)}</h3><code>${escape(spec.expr)}</code>${svg(series, startedAt, endedAt)}</section>`;
}

const table = (rows: Evidence[], columns: [string, (item: Evidence) => unknown][]) =>
  `<table><tr>${columns.map(([name]) => `<th>${escape(name)}</th>`).join('')}</tr>${rows
    .map(
      (item) =>
        `<tr>${columns.map(([, value]) => `<td>${escape(typeof value(item) === 'string' ? (value(item) as string) : JSON.stringify(value(item)))}</td>`).join('')}</tr>`,
    )
    .join('')}</table>`;
const field = (name: string) => (item: Evidence) => (item.detail as Record<string, unknown>)[name];

export async function drillReport(options: {
  deployments: { name: string; prometheus: DrillPrometheus }[];
  startedAt: number;
  endedAt: number;
  summary: DrillSummary;
  evidence: Evidence[];
}): Promise<string> {
  const { deployments, startedAt, endedAt, summary, evidence } = options;
  const sections = await Promise.all(
    deployments.map(
      async ({ name, prometheus }) =>
        `<h2>${escape(name)}</h2>${(await Promise.all(PLOTS.map((spec) => plot(prometheus, spec, startedAt, endedAt)))).join('\n')}`,
    ),
  );
  const of = (kind: string) => evidence.filter((item) => item.kind === kind);
  const others = evidence.filter((item) => !['gate', 'verify', 'backfill'].includes(item.kind));
  return `<!doctype html><html><head><meta charset="utf-8"><title>Session store cutover drill</title>
<style>body{font:14px sans-serif;margin:2em}td,th{border-top:1px solid #ddd;padding:2px 6px;vertical-align:top;text-align:left}code{font-size:12px}</style></head><body>
<h1>Session store cutover drill</h1>
<p>${new Date(startedAt * 1000).toISOString()} – ${new Date(endedAt * 1000).toISOString()}. Three auth-session processes per deployment, restarted one at a time into each phase; every series below was scraped by that deployment's Prometheus from the replicas' admin ports.</p>
<h2>Summary</h2><pre>${escape(JSON.stringify(summary, null, 2))}</pre>
${sections.join('\n')}
<h2>The gate's verdicts</h2>${table(of('gate'), [
    ['at', (item) => item.at],
    ['deployment', field('deployment')],
    ['from', field('from')],
    ['to', field('to')],
    ['allowed', field('allowed')],
    ['reason', field('reason')],
  ])}
<h2>Backfill and verify</h2>${table(
    [...of('backfill'), ...of('verify')],
    [
      ['at', (item) => item.at],
      ['kind', (item) => item.kind],
      ['deployment', field('deployment')],
      ['detail', (item) => item.detail],
    ],
  )}
<h2>Fault, checks and everything else</h2>${table(others, [
    ['at', (item) => item.at],
    ['kind', (item) => item.kind],
    ['detail', (item) => item.detail],
  ])}
</body></html>
`;
}
