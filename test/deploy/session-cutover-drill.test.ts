// `npm run drill -- cutover` in the test run (test/drill): three replicas, synthetic admins, a real
// Prometheus with the chart's rules, knex → dynamodb → knex and redis → knex phase by phase. The
// drill's own bar (acceptance.ts) must hold, and its report must show the series and the evidence.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failures } from '../drill/acceptance.js';
import { drill } from '../drill/run.js';

const work = mkdtempSync(join(tmpdir(), 'portcullis-drill-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('moves sessions both ways and from redis with nobody logged out, no logout undone, every panel fed and the fault seen', async () => {
  const report = join(work, 'drill.html');
  const summary = await drill({ reportFile: report, admins: 6, log: () => undefined });
  expect(failures(summary)).toEqual([]);
  expect(summary).toMatchObject({
    directions: 3,
    forced_relogins: 0,
    logouts_undone: 0,
    panels_without_data: 0,
    post_switch_checks_failed: 0,
  });
  expect(summary.sessions_tracked).toBeGreaterThan(50);
  expect(summary.gate_refusals).toBeGreaterThanOrEqual(6); // a skipped phase and a cutover before the wait, per direction
  const html = readFileSync(report, 'utf8');
  expect(html.match(/<polyline/g)?.length).toBeGreaterThanOrEqual(6);
  expect(html).toContain('PortcullisDualWriteFailing');
}, 420_000);
