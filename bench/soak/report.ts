// The soak's table and its last-line JSON. A request is an error when it got no HTTP answer or a
// 5xx; a scenario's window runs from the fault's injection until recovery (or clearance + 5 s).
import type { CheckResult } from './checks.js';
import type { StoreMode } from './cluster.js';
import { RECOVERY_WAIT_MS, type Scenario } from './faults.js';
import type { RequestRecord } from './http.js';

export interface ModeResult {
  mode: StoreMode;
  scenarios: Scenario[];
  checks: CheckResult;
  requests: RequestRecord[];
  unexpected401: number;
  began: number;
  ended: number;
}

const isError = (record: RequestRecord) => record.status === 0 || record.status >= 500;
const seconds = (ms: number) => Math.round(ms / 100) / 10;

function windowOf(scenario: Scenario, requests: RequestRecord[]) {
  const end = scenario.recovered ?? scenario.cleared + 5000;
  const inside = requests.filter((record) => !record.probe && record.start >= scenario.start && record.start <= end);
  return { total: inside.length, errors: inside.filter(isError).length };
}

const recoveryOf = (scenario: Scenario) =>
  scenario.recovered === undefined ? undefined : seconds(Math.max(0, scenario.recovered - scenario.cleared));

export function printTable(results: ModeResult[]): void {
  const rows = [['mode', 'scenario', 'fault s', 'requests', 'errors', 'error %', 'recovery s', 'note']];
  for (const result of results) {
    for (const scenario of result.scenarios) {
      const { total, errors } = windowOf(scenario, result.requests);
      const recovery = recoveryOf(scenario);
      rows.push([
        result.mode,
        scenario.name,
        String(seconds(scenario.cleared - scenario.start)),
        String(total),
        String(errors),
        total ? ((100 * errors) / total).toFixed(1) : '-',
        recovery === undefined ? 'NOT RECOVERED' : String(recovery),
        dropNote(scenario, result.requests),
      ]);
    }
    const workload = result.requests.filter((record) => !record.probe);
    const errors = workload.filter(isError).length;
    rows.push([
      result.mode,
      'whole run',
      String(seconds(result.ended - result.began)),
      String(workload.length),
      String(errors),
      workload.length ? ((100 * errors) / workload.length).toFixed(1) : '-',
      '',
      checksNote(result),
    ]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log(line(rows[0]!));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows.slice(1)) console.log(line(row));
  for (const result of results) {
    const { checks } = result;
    const lists: [string, string[]][] = [
      ['sessions lost', checks.sessionsLost.map((held) => `${held.admin.email} (${held.why})`)],
      [
        'sessions resurrected',
        checks.sessionsResurrected.map((held) => `${held.admin.email} (${held.state}, ${held.why})`),
      ],
      ['sessions unanswered', checks.sessionsUnanswered.map((held) => `${held.admin.email} (${held.state})`)],
      ['events lost', checks.eventsLost.map((event) => `${event.action} ${event.requestId}`)],
      ['chain breaks', checks.chainBreaks],
      ['half-applied resets', checks.halfApplied],
    ];
    for (const [what, items] of lists)
      if (items.length > 0)
        console.log(
          `${result.mode}: ${what}: ${items.slice(0, 10).join('; ')}${items.length > 10 ? ` … (${items.length})` : ''}`,
        );
  }
}

/** What the errors were: HTTP status or the connection error, most frequent first. */
function errorKinds(scenario: Scenario, requests: RequestRecord[]): string {
  const end = scenario.recovered ?? scenario.cleared + 5000;
  const counts = new Map<string, number>();
  for (const record of requests) {
    if (record.probe || record.start < scenario.start || record.start > end || !isError(record)) continue;
    const kind = record.status === 0 ? (record.error ?? 'no answer') : String(record.status);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([kind, count]) => `${kind}×${count}`)
    .join(' ');
}

function dropNote(scenario: Scenario, requests: RequestRecord[]): string {
  const parts = [errorKinds(scenario, requests), scenario.note ?? ''];
  if (scenario.inFlightAtSignal !== undefined)
    parts.push(`${scenario.inFlightAtSignal} in flight at SIGTERM, ${scenario.droppedInFlight ?? 0} dropped`);
  return parts.filter(Boolean).join('; ');
}

function checksNote(result: ModeResult): string {
  const c = result.checks;
  return `${c.sessionsChecked} sessions, ${c.eventsChecked} acked events, ${c.chainsChecked} chains, ${c.resetsChecked} resets checked; ${result.unexpected401} mid-run 401s`;
}

export function summarize(results: ModeResult[], secondsPerMode: number, admins: number) {
  const sum = (pick: (result: ModeResult) => number) => results.reduce((total, result) => total + pick(result), 0);
  const scenarios = results.flatMap((result) => result.scenarios);
  const recoveries = scenarios.map(recoveryOf);
  const workload = results.flatMap((result) => result.requests.filter((record) => !record.probe));
  return {
    requests: sum((result) => result.requests.length),
    sessions_lost: sum((result) => result.checks.sessionsLost.length),
    sessions_resurrected: sum((result) => result.checks.sessionsResurrected.length),
    sessions_unanswered: sum((result) => result.checks.sessionsUnanswered.length),
    sessions_checked: sum((result) => result.checks.sessionsChecked),
    events_lost: sum((result) => result.checks.eventsLost.length),
    events_checked: sum((result) => result.checks.eventsChecked),
    chain_breaks: sum((result) => result.checks.chainBreaks.length),
    half_applied_resets: sum((result) => result.checks.halfApplied.length),
    resets_checked: sum((result) => result.checks.resetsChecked),
    dropped_in_flight: scenarios.reduce((total, scenario) => total + (scenario.droppedInFlight ?? 0), 0),
    scenarios: scenarios.length,
    not_recovered: recoveries.filter((value) => value === undefined).length,
    // A scenario not recovered within the prober's bound counts as that bound (a lower limit).
    max_recovery_s: Math.max(0, ...recoveries.map((value) => value ?? RECOVERY_WAIT_MS / 1000)),
    error_rate: workload.length ? Number((workload.filter(isError).length / workload.length).toFixed(4)) : 0,
    unexpected_401: sum((result) => result.unexpected401),
    modes: results.map((result) => result.mode),
    seconds_per_mode: secondsPerMode,
    admins,
  };
}
