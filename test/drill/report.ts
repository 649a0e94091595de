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

const PLOTS: { title: string; expr: string; legend: string[] }[] = [
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
    expr: 'sum by (store) (rate(session_store_dual_write_failures_total[10s]))',
    legend: ['store'],
  },
  {
    title: 'Store errors (per second): what requests would see',
    expr: 'sum by (store) (rate(session_store_errors_total[10s]))',
    legend: ['store'],
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

export async function drillReport(options: {
  prometheus: DrillPrometheus;
  startedAt: number;
  endedAt: number;
  summary: DrillSummary;
  evidence: Evidence[];
}): Promise<string> {
  const { prometheus, startedAt, endedAt, summary, evidence } = options;
  const step = Math.max(1, Math.ceil((endedAt - startedAt) / 600));
  const plots = await Promise.all(
    PLOTS.map(async (plot) => {
      const result = await prometheus.queryRange(plot.expr, startedAt, endedAt, step);
      const series = result.map((line) => ({
        name: plot.legend.map((label) => line.metric[label] ?? '').join(' ') || 'value',
        points: line.values.map(([time, value]) => [time, Number(value)] as [number, number]),
      }));
      return `<h2>${escape(plot.title)}</h2><code>${escape(plot.expr)}</code>${svg(series, startedAt, endedAt)}`;
    }),
  );
  const rows = evidence
    .map(
      (item) =>
        `<tr><td>${escape(item.at)}</td><td>${escape(item.kind)}</td><td><code>${escape(JSON.stringify(item.detail))}</code></td></tr>`,
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Session store cutover drill</title>
<style>body{font:14px sans-serif;margin:2em}td{border-top:1px solid #ddd;padding:2px 6px;vertical-align:top}code{font-size:12px}</style></head><body>
<h1>Session store cutover drill</h1>
<p>${new Date(startedAt * 1000).toISOString()} – ${new Date(endedAt * 1000).toISOString()}. Every series below was scraped by Prometheus from the drill's replicas.</p>
<h2>Summary</h2><pre>${escape(JSON.stringify(summary, null, 2))}</pre>
${plots.join('\n')}
<h2>Gate, backfill, verify, fault and checks</h2><table>${rows}</table>
</body></html>
`;
}
