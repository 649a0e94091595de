// `npm run drill -- cutover` in the test run (test/drill): per deployment three real auth-session
// processes (the compiled entry point, production mode) restarted one at a time into each phase,
// synthetic admins over HTTP, a real Prometheus with the chart's rules; knex → dynamodb → knex and
// redis → knex. The drill's own bar (acceptance.ts) must hold, and its report must show every key
// series with data for each deployment, and the gate's and verify's evidence.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failures } from '../drill/acceptance.js';
import { PLOTS } from '../drill/report.js';
import { drill } from '../drill/run.js';
import { compiledEntryPoint } from '../support/compiled-service.js';

const work = mkdtempSync(join(tmpdir(), 'portcullis-drill-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('moves sessions both ways and from redis with nobody logged out, no logout undone, every panel fed and the fault seen', async () => {
  compiledEntryPoint('auth-session'); // fails first, saying to build, when dist is missing
  const report = join(work, 'drill.html');
  const problems: string[] = [];
  const summary = await drill({
    reportFile: report,
    admins: 6,
    log: (line) => void (/^(request|workload) error/.test(line) && problems.push(line)),
  });
  // What failed, named (the report is deleted with the test's folder).
  expect(problems).toEqual([]);
  expect(failures(summary)).toEqual([]);
  expect(summary).toMatchObject({
    directions: 3,
    forced_relogins: 0,
    logouts_undone: 0,
    panels_without_data: 0,
    post_switch_checks_failed: 0,
    request_errors: 0,
  });
  // Four rollouts of three replicas per move, and the two first fleets.
  expect(summary.replicas_started).toBe(3 * 4 * 3 + 2 * 3);
  expect(summary.sessions_tracked).toBeGreaterThan(50);
  // Per move: a skipped phase, the cutover before the wait, and a step in the middle of each of three rollouts.
  expect(summary.gate_refusals).toBe(3 * 5);

  const html = readFileSync(report, 'utf8');
  const plots = [...html.matchAll(/<section class="plot" data-title="([^"]+)" data-points="(\d+)">/g)].map(
    ([, title, points]) => ({ title, points: Number(points) }),
  );
  // Each key series of the issue, for both deployments, with points.
  expect(plots.map((plot) => plot.title)).toEqual(
    [...PLOTS, ...PLOTS].map((plot) => plot.title.replace(/&/g, '&amp;')),
  );
  expect(plots.filter((plot) => plot.points === 0)).toEqual([]);
  expect(html).toContain('PortcullisDualWriteFailing');
  const gate = html.slice(html.indexOf('<h2>The gate'), html.indexOf('<h2>Backfill'));
  expect(gate.match(/Refused: /g)?.length).toBe(summary.gate_refusals);
  const verify = html.slice(html.indexOf('<h2>Backfill'), html.indexOf('<h2>Fault'));
  expect(verify.match(/"go":true/g)?.length).toBe(3);
}, 780_000);
