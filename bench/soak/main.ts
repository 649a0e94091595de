// `npm run soak [-- --seconds 90 --admins 20 --modes redis,dual]`: load and fault soak of the
// compiled services (see docs/reliability.md). For each session-store mode: two replicas of each
// service, N tenant admins + the platform admin working for --seconds, scheduled faults, then
// the checks. Prints a table, and one JSON object as the very last line. Loopback only; every
// server and replica is stopped by pid at the end, on failure and on Ctrl-C too.
import { parseArgs } from 'node:util';
import { cleanRunDir, RUN_DIR_ENV } from '../../test/infra/state.js';
import { newLedger } from './actors.js';
import { runChecks, type CheckResult } from './checks.js';
import { Cluster, startServers, type Servers, type StoreMode } from './cluster.js';
import { Prober, runFaults, schedule, type Scenario } from './faults.js';
import { requestLog } from './http.js';
import { summarize, printTable, type ModeResult } from './report.js';
import { adminLoop, provision, ResetCycle } from './workload.js';

const USAGE =
  'Usage: npm run soak -- [--seconds N (per store mode, 30-900, default 90)] [--admins N (tenant admins, 2-60, default 20)] [--modes redis,dual]';

function options() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '90' },
      admins: { type: 'string', default: '20' },
      modes: { type: 'string', default: 'redis,dual' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const seconds = Number(values.seconds);
  const admins = Number(values.admins);
  const modes = values.modes.split(',') as StoreMode[];
  const problems = [
    !(Number.isInteger(seconds) && seconds >= 30 && seconds <= 900) &&
      '--seconds must be a whole number from 30 to 900',
    !(Number.isInteger(admins) && admins >= 2 && admins <= 60) && '--admins must be a whole number from 2 to 60',
    !(modes.length > 0 && modes.every((mode) => mode === 'redis' || mode === 'dual')) &&
      '--modes must list redis and/or dual',
  ].filter(Boolean);
  if (problems.length > 0) {
    console.error(`${problems.join('; ')}.\n${USAGE}`);
    process.exit(2);
  }
  return { seconds, admins, modes };
}

const clusters = new Set<Cluster>();
let servers: Servers | undefined;

async function cleanUp(): Promise<void> {
  await Promise.allSettled([...clusters].map((cluster) => cluster.close()));
  clusters.clear();
  if (servers) await Promise.allSettled([servers.postgres.dispose(), servers.redis.dispose(), servers.moto.dispose()]);
  servers = undefined;
  const dir = process.env[RUN_DIR_ENV];
  if (dir) await cleanRunDir(dir);
}

async function soakMode(mode: StoreMode, seconds: number, admins: number): Promise<ModeResult> {
  const log = (message: string) => console.error(`[soak ${mode}] ${message}`);
  const cluster = await Cluster.start(mode, servers!);
  clusters.add(cluster);
  try {
    const firstRequest = requestLog.length;
    const ledger = newLedger();
    log('provisioning tenants and admins through the API');
    const population = await provision(cluster, ledger, admins);
    const prober = new Prober(cluster, population.probe);
    prober.start();
    const durationMs = seconds * 1000;
    const began = performance.now();
    const deadline = Date.now() + durationMs;
    const stats = { unexpected401: 0 };
    log(`${population.tenantAdmins.length} tenant admins + platform admin for ${seconds} s`);
    const resets = new ResetCycle(cluster, ledger, population);
    const liveSession = () =>
      ledger.sessions.find((held) => held.state === 'live' && population.tenantAdmins.includes(held.admin));
    const [scenarios] = await Promise.all([
      runFaults(cluster, servers!, prober, schedule(cluster, liveSession), began, durationMs),
      resets.run(deadline, 6),
      ...population.tenantAdmins.map((admin) => adminLoop(cluster, ledger, admin, deadline, stats)),
    ]);
    const ended = performance.now();
    await resets.finish(Date.now() + 60_000);
    scenarios.push({
      name: 'mfa reset + rollback (concurrent)',
      start: began,
      cleared: ended,
      recovered: ended,
      note: `${resets.outcomes.length} resets, ${resets.outcomes.filter((outcome) => outcome.rolledBack).length} rolled back${resets.notes.length ? `; ${resets.notes.join('; ')}` : ''}`,
    });
    log('checks');
    const checks: CheckResult = await runChecks(cluster, ledger, population, resets.outcomes);
    await prober.stop();
    return {
      mode,
      scenarios: scenarios as Scenario[],
      checks,
      requests: requestLog.slice(firstRequest),
      unexpected401: stats.unexpected401,
      began,
      ended,
    };
  } finally {
    clusters.delete(cluster);
    await cluster.close();
  }
}

async function main(): Promise<void> {
  const { seconds, admins, modes } = options();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`[soak] ${signal}: stopping every server and replica`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  try {
    servers = await startServers();
    const results: ModeResult[] = [];
    for (const mode of modes) results.push(await soakMode(mode, seconds, admins));
    printTable(results);
    console.log(JSON.stringify(summarize(results, seconds, admins)));
  } finally {
    await cleanUp();
  }
}

await main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`[soak] failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
