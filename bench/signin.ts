// `npm run bench -- signin`: full sign-ins (password, then TOTP) per second with 20 concurrent
// clients against the compiled auth-session (redis store, production configuration, pinned to
// its own core), and GET /auth/me latency for other, already signed-in admins at a steady rate
// (open loop: requests go out when due, whatever the answers; from a process of its own,
// peers/probe-process.ts), alone first and then during the sign-ins. The rise of its p99 says
// whether sign-in work (argon2id in libuv's pool, PASSWORD_WORK_LIMITS in passwords.ts) starves other requests.
// A TOTP step is accepted once per admin, so every sign-in uses an admin who has not signed in
// during the current 30 s step: BENCH_SIGNIN_ADMINS of them (one password hash shared by all).
//   BENCH_DURATION_S (default 10), BENCH_WARMUP_S (2), BENCH_SIGNIN_ADMINS (800), BENCH_ME_RATE (200 req/s), BENCH_PORTCULLIS_ROOT.
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { startPostgres, startRedis, type ServerHandle } from '../test/support/index.js';
import { percentile, printResult, printTable, round } from './harness.js';
import { startProbeProcess, type ProbeFigures, type ProbeProcess } from './peers/probe-process.js';
import { BENCH_CORE, pin, pinning, type ServerProcess } from './peers/processes.js';
import {
  beginBench,
  checkMe,
  meHeaders,
  portcullisRoot,
  productionEnv,
  seededBenchDatabase,
  signIn,
  SignInError,
  startAuthSession,
  type BenchAdmin,
  type Seeded,
} from './peers/portcullis.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 2);
const SIGNIN_ADMINS = Number(process.env.BENCH_SIGNIN_ADMINS ?? 800);
// 2,000 samples per 10 s window: the p99 is the 20th slowest, not the 5th of 500 (docs/performance.md).
const ME_RATE = Number(process.env.BENCH_ME_RATE ?? 200);
const SIGNIN_CLIENTS = 20;
const ME_USERS = 10;
const STEP_MS = 30_000;

/** Limits that must not shape the figures: every sign-in here is a success, from its own address. */
const GENEROUS = { LOCKOUT_THRESHOLD: '100', SESSION_MAX_CONCURRENT: '1000' };

interface SignInLoad {
  /** Epoch ms (performance.timeOrigin + now) at each completed sign-in, and how long it took (ms). */
  completed: { at: number; ms: number }[];
  failures: string[];
  /** Times a client found every admin's current TOTP step spent and waited for the next step. */
  stepWaits: number;
  stop(): Promise<void>;
}

/** SIGNIN_CLIENTS loops signing admins in until stopped. */
function startSignIns(url: string, seeded: Seeded, pool: BenchAdmin[]): SignInLoad {
  let stopped = false;
  let next = 0;
  let clients: Promise<void>[] = [];
  const load: SignInLoad = {
    completed: [],
    failures: [],
    stepWaits: 0,
    async stop() {
      stopped = true;
      await Promise.all(clients);
    },
  };
  /** The next admin with an unused code in this step, or undefined when all have signed in during it. */
  const take = (): [BenchAdmin, string] | undefined => {
    for (let tried = 0; tried < pool.length; tried++) {
      const admin = pool[next++ % pool.length]!;
      const code = admin.freshCode();
      if (code) return [admin, code];
    }
    return undefined;
  };
  const client = async () => {
    while (!stopped) {
      const taken = take();
      if (!taken) {
        load.stepWaits += 1;
        await new Promise((resolve) => setTimeout(resolve, STEP_MS - (Date.now() % STEP_MS) + 50));
        continue;
      }
      const started = performance.now();
      try {
        await signIn(url, seeded, ...taken);
        const now = performance.now();
        load.completed.push({ at: performance.timeOrigin + now, ms: now - started });
      } catch (error) {
        if (!(error instanceof SignInError)) throw error;
        load.failures.push(error.message);
      }
    }
  };
  clients = Array.from({ length: SIGNIN_CLIENTS }, client);
  return load;
}

export default async function bench(): Promise<void> {
  const { began, loadBefore, stale } = beginBench();

  const servers: ServerHandle[] = [];
  let service: ServerProcess | undefined;
  let prober: ProbeProcess | undefined;
  try {
    prober = startProbeProcess();
    const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    servers.push(postgres, redis);
    for (const server of servers) if (server.pid) pin(server.pid, BENCH_CORE);
    const { databaseUrl, seeded } = await seededBenchDatabase(postgres.url, ME_USERS + SIGNIN_ADMINS);
    const meUsers = seeded.admins.slice(0, ME_USERS);
    const pool = seeded.admins.slice(ME_USERS);

    service = await startAuthSession(productionEnv({ databaseUrl, redisUrl: redis.url }, seeded, 'redis', GENEROUS));
    const headers: Record<string, string>[] = [];
    for (const user of meUsers) {
      const cookie = await signIn(service.url, seeded, user, user.freshCode()!);
      await checkMe(service.url, user, cookie);
      headers.push(meHeaders(user, cookie));
    }
    const probe = { url: `${service.url}/auth/me`, headers, rate: ME_RATE };
    const { pid } = service;

    await prober.probe(pid, { ...probe, seconds: WARMUP_S });
    const before = await prober.probe(pid, { ...probe, seconds: DURATION_S });
    const signIns = startSignIns(service.url, seeded, pool);
    let during: ProbeFigures;
    try {
      await new Promise((resolve) => setTimeout(resolve, WARMUP_S * 1000));
      during = await prober.probe(pid, { ...probe, seconds: DURATION_S });
    } finally {
      await signIns.stop();
    }
    await service.stop();
    service = undefined;

    const inWindow = signIns.completed.filter(({ at }) => at >= during.startedAt && at <= during.endedAt);
    const windowSeconds = (during.endedAt - during.startedAt) / 1000;
    const signinsPerSecond = inWindow.length / windowSeconds;
    const signinMs = inWindow.map(({ ms }) => ms);
    // The window's server CPU less what the /auth/me load alone cost over as long a time.
    const meCpuMicros = (before.cpuMicros / before.seconds) * during.seconds;
    const cpuMsPerSignin = inWindow.length > 0 ? (during.cpuMicros - meCpuMicros) / inWindow.length / 1000 : Number.NaN;
    const busy503 = signIns.failures.filter((message) => / 503 /.test(message)).length;

    printTable(
      `auth-session (compiled, redis store), ${SIGNIN_CLIENTS} clients signing in (password + TOTP), GET /auth/me of ${ME_USERS} other admins at ${ME_RATE} req/s, ${DURATION_S} s windows`,
      [
        {
          measurement: 'GET /auth/me alone',
          'per s': round(before.rps),
          'p50 ms': round(before.p50),
          'p99 ms': round(before.p99),
          'non-2xx / failures': before.non2xx + before.errors,
        },
        {
          measurement: 'GET /auth/me during sign-ins',
          'per s': round(during.rps),
          'p50 ms': round(during.p50),
          'p99 ms': round(during.p99),
          'non-2xx / failures': during.non2xx + during.errors,
        },
        {
          measurement: 'sign-ins (password + TOTP)',
          'per s': round(signinsPerSecond),
          'p50 ms': round(percentile(signinMs, 50)),
          'p99 ms': round(percentile(signinMs, 99)),
          'non-2xx / failures': signIns.failures.length,
        },
      ],
    );
    if (signIns.failures.length > 0) console.error(`first sign-in failure: ${signIns.failures[0]}`);
    printResult({
      signins_per_s: round(signinsPerSecond),
      me_p99_before: round(before.p99),
      me_p99_during: round(during.p99),
      me_p99_rise_during_signins: round(during.p99 / before.p99, 3),
      me_p50_before: round(before.p50),
      me_p50_during: round(during.p50),
      me_rps_before: round(before.rps),
      me_rps_during: round(during.rps),
      // The probe process's own event-loop delay and GC pauses: small, so the latencies above are the server's.
      client_lag_p99_ms_before: round(before.client.lagP99),
      client_lag_p99_ms_during: round(during.client.lagP99),
      client_lag_max_ms_before: round(before.client.lagMax),
      client_lag_max_ms_during: round(during.client.lagMax),
      client_gc_max_ms_before: round(before.client.gcMax),
      client_gc_max_ms_during: round(during.client.gcMax),
      me_non_2xx: before.non2xx + during.non2xx,
      me_errors: before.errors + during.errors,
      signin_p50_ms: round(percentile(signinMs, 50)),
      signin_p99_ms: round(percentile(signinMs, 99)),
      signin_failures: signIns.failures.length,
      signin_busy_503: busy503,
      signin_step_waits: signIns.stepWaits,
      server_cpu_ms_per_signin: round(cpuMsPerSignin),
      server_busy_during: round(during.cpuMicros / (during.seconds * 1e6), 2),
      // Share of each window the server's core spent on other processes (noise; see docs/performance.md).
      core_other_before: round(before.coreOther, 2),
      core_other_during: round(during.coreOther, 2),
      signin_clients: SIGNIN_CLIENTS,
      signin_admins: SIGNIN_ADMINS,
      me_users: ME_USERS,
      me_rate: ME_RATE,
      duration_s: DURATION_S,
      warmup_s: WARMUP_S,
      pinned: pinning(),
      portcullis_root: portcullisRoot,
      portcullis_dist_stale: stale,
      loadavg_before: loadBefore,
      loadavg_after: loadavg().map((value) => round(value)),
      wall_s: Math.round((performance.now() - began) / 1000),
    });
  } finally {
    prober?.stop();
    await service?.stop();
    await Promise.all(servers.map((server) => server.dispose()));
  }
}
