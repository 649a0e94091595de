// The scheduled faults and the recovery prober. Each fault has an injection (stop a server, kill
// or drain a replica) and a clearance (start it again); recovery is the time from clearance until
// a probe round through every replica in rotation of every service succeeds.
import type { Cluster, Servers } from './cluster.js';
import type { HeldSession } from './actors.js';
import { isAlive } from '../../test/infra/process.js';
import { Jar, requestLog, send, sleep } from './http.js';

export interface Scenario {
  name: string;
  /** performance.now() of injection, clearance, and first fully good probe round after it. */
  start: number;
  cleared: number;
  recovered: number | undefined;
  /** Drain only: requests to the drained replica dispatched before SIGTERM that got no response. */
  droppedInFlight?: number;
  inFlightAtSignal?: number;
  note?: string;
}

/** How long a scenario may take to recover before it is reported as not recovered. */
export const RECOVERY_WAIT_MS = 60_000;

export class Prober {
  /** End times of fully good probe rounds. */
  readonly goodRounds: { start: number; end: number }[] = [];
  private running = true;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly session: HeldSession,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (this.running) {
        const start = performance.now();
        const probes = this.cluster.replicas
          .filter((replica) => replica.up)
          .map((replica) => {
            const path = {
              'auth-session': '/auth/me',
              'mfa-admin': '/admin/tenants',
              'audit-log': '/audit/events?limit=1',
            }[replica.service];
            return send(this.cluster, this.session.jar.clone(), 'GET', path, {
              ip: '198.51.100.2',
              replica,
              probe: true,
            });
          });
        const replies = await Promise.all(probes);
        if (replies.length === this.cluster.replicas.length && replies.every((reply) => reply.status === 200))
          this.goodRounds.push({ start, end: performance.now() });
        await sleep(250);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** First good round that started after `since`, waiting at most `timeoutMs`. */
  async recoveredAfter(since: number, timeoutMs = RECOVERY_WAIT_MS): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const round = this.goodRounds.find((candidate) => candidate.start >= since);
      if (round) return round.end;
      await sleep(100);
    }
    return undefined;
  }
}

type Fault = (cluster: Cluster, servers: Servers, scenario: Scenario) => Promise<void>;

const hold = (ms: number) => sleep(ms);

/** Stops a backing server, keeps it down, starts it again with the same data (moto: empty). */
const serverOutage =
  (which: keyof Servers, downMs: number): Fault =>
  async (cluster, servers, scenario) => {
    await servers[which].stop();
    await hold(downMs);
    await servers[which].restart();
    // moto keeps its tables in memory: recreate the session table as an operator would.
    if (which === 'moto') await cluster.createDynamoTable(servers.moto.url);
    scenario.cleared = performance.now();
  };

const sigkill: Fault = async (cluster, _servers, scenario) => {
  const replica = cluster.replica('auth-session#1');
  process.kill(replica.process.pid, 'SIGKILL');
  // The ingress keeps sending to a dead pod until its endpoint is removed (readiness probe
  // period × failure threshold); 1 s here, so the errors a crash costs show in the table.
  await hold(1000);
  replica.up = false;
  await hold(2000);
  await cluster.restart(replica.name);
  scenario.cleared = performance.now();
};

/**
 * SIGTERM while requests are in flight on the replica: a burst of slow requests (password
 * checks with argon2, session reads) aimed at it, then the signal; what it had accepted must
 * finish. Requests dispatched after the signal are counted as the scenario's errors instead.
 */
const drain =
  (inFlightSession: () => HeldSession | undefined): Fault =>
  async (cluster, _servers, scenario) => {
    const replica = cluster.replica('auth-session#0');
    const session = inFlightSession();
    const burst = Array.from({ length: 12 }, (_, index) =>
      index % 2 === 0
        ? send(cluster, session?.jar.clone() ?? new Jar(), 'GET', '/auth/sessions', {
            ip: `203.0.113.${index + 1}`,
            replica,
          })
        : send(cluster, new Jar(), 'POST', '/auth/login', {
            ip: `203.0.113.${index + 1}`,
            replica,
            json: { email: `nobody-${index}@drain.soak.example`, password: 'not-the-password' },
          }),
    );
    await sleep(40);
    const signalAt = performance.now();
    const pid = replica.process.pid;
    process.kill(pid, 'SIGTERM');
    // As in Kubernetes, the endpoint leaves the rotation a moment after the signal (the chart has
    // no preStop delay): requests sent in that second are errors of this scenario, not in-flight.
    await hold(1000);
    replica.up = false;
    await Promise.all(burst);
    // Not stop(): a second SIGTERM would find no handler left and cut the drain short.
    const until = performance.now() + 30_000;
    while (isAlive(pid) && performance.now() < until) await sleep(50);
    await sleep(200);
    const code = await replica.process.stop().catch(() => null);
    const inFlight = requestLog.filter(
      (record) => record.replica === replica.name && record.start < signalAt && record.end >= signalAt,
    );
    scenario.inFlightAtSignal = inFlight.length;
    scenario.droppedInFlight = inFlight.filter((record) => record.status === 0).length;
    scenario.note = `exit code ${code}`;
    await cluster.restart(replica.name);
    scenario.cleared = performance.now();
  };

export interface ScheduledFault {
  name: string;
  /** Fraction of the run's duration at which it starts. */
  at: number;
  fault: Fault;
}

export function schedule(cluster: Cluster, inFlightSession: () => HeldSession | undefined): ScheduledFault[] {
  const common = [
    { name: 'postgres restart', at: 0.3, fault: serverOutage('postgres', 2000) },
    { name: 'replica SIGKILL', at: 0.5, fault: sigkill },
    { name: 'replica SIGTERM drain', at: 0.65, fault: drain(inFlightSession) },
  ];
  const own =
    cluster.mode === 'redis'
      ? { name: 'redis stop/start', at: 0.12, fault: serverOutage('redis', 5000) }
      : { name: 'dynamodb (secondary) stop/start', at: 0.12, fault: serverOutage('moto', 5000) };
  return [own, ...common];
}

/** Runs the faults at their times, one after another; each gets its recovery measured. */
export async function runFaults(
  cluster: Cluster,
  servers: Servers,
  prober: Prober,
  faults: ScheduledFault[],
  began: number,
  durationMs: number,
): Promise<Scenario[]> {
  const scenarios: Scenario[] = [];
  for (const { name, at, fault } of faults) {
    const wait = began + at * durationMs - performance.now();
    if (wait > 0) await sleep(wait);
    const scenario: Scenario = { name, start: performance.now(), cleared: 0, recovered: undefined };
    scenarios.push(scenario);
    try {
      await fault(cluster, servers, scenario);
    } catch (error) {
      scenario.cleared = performance.now();
      scenario.note = `fault step failed: ${(error as Error).message.slice(0, 200)}`;
    }
    scenario.recovered = await prober.recoveredAfter(scenario.cleared);
  }
  return scenarios;
}
