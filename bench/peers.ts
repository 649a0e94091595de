// `npm run bench -- peers`: Portcullis' GET /auth/me against the session stacks Node users pick,
// each target its own server process pinned to its own core (all started first, idle while
// another is measured), measured one at a time, interleaved over rounds (round 2 runs the
// targets in reverse order, so drift on the shared machine hits both ends alike), with the
// same connections, warm-up and duration. Server CPU per request comes
// from /proc/<pid>/stat around the measured window. Figures are medians over the rounds; ratios
// are taken between medians of the same run. docs/performance.md describes the method.
//   BENCH_DURATION_S (default 10), BENCH_WARMUP_S (2), BENCH_ROUNDS (3), BENCH_PORTCULLIS_ROOT.
//   BENCH_BASELINE_ROOT: a tree built by bench/peers/build-baseline.sh; its auth-session joins
//   the run on redis and knex (me_redis_baseline, me_knex_baseline), for before/after ratios
//   measured side by side.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { createDynamoClient, createDynamoSessionTable } from '@portcullis/session-store';
import { startMoto, startPostgres, startRedis, type ServerHandle } from '../test/support/index.js';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../test/infra/moto-account.js';
import { printResult, printTable, round } from './harness.js';
import { FLOOR_KEY, USER, type PeerTarget } from './peers/apps.js';
import {
  BENCH_CORE,
  measure,
  pin,
  pinning,
  SERVER_CORE,
  startServer,
  type LoadFigures,
  type ServerProcess,
} from './peers/processes.js';
import {
  beginBench,
  compiledIsStale,
  checkMe,
  meHeaders,
  portcullisRoot,
  productionEnv,
  repoRoot,
  seededBenchDatabase,
  signIn,
  startAuthSession,
  type Infrastructure,
  type PortcullisDriver,
  type Seeded,
} from './peers/portcullis.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 50;
const BASELINE_ROOT = process.env.BENCH_BASELINE_ROOT || undefined;

interface Target {
  /** Key in the JSON line. */
  key: string;
  label: string;
  /** Starts the server and returns it with the path and headers of the measured request. */
  start(): Promise<{ server: ServerProcess; path: string; headers: Record<string, string> }>;
}

/** A peer app with, for the session peers, a session made by one POST /login. */
const peer = (
  key: string,
  label: string,
  app: PeerTarget,
  env: Record<string, string>,
  withSession: boolean,
): Target => ({
  key,
  label,
  async start() {
    const server = await startServer({ args: ['bench/peers/apps.ts', app], env, readyPath: '/me', cwd: repoRoot });
    try {
      let headers: Record<string, string> = {};
      if (withSession) {
        // A JSON body, as an API client sends it (the service shell's CSRF check refuses a bodiless POST).
        const login = await fetch(`${server.url}/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        await login.arrayBuffer();
        const cookie = login.headers
          .getSetCookie()
          .map((line) => line.split(';')[0])
          .join('; ');
        if (login.status !== 200 || !cookie)
          throw new Error(`${label}: POST /login answered ${login.status} with no cookie`);
        headers = { cookie };
      }
      const me = await fetch(`${server.url}/me`, { headers });
      const body = await me.text();
      if (me.status !== 200 || !body.includes(USER.id))
        throw new Error(`${label}: GET /me answered ${me.status}: ${body.slice(0, 200)}`);
      return { server, path: '/me', headers };
    } catch (error) {
      await server.stop();
      throw error;
    }
  },
});

/** Compiled auth-session on `driver`, with a new admin signed in (TOTP steps are single-use). */
const portcullis = (
  key: string,
  label: string,
  driver: PortcullisDriver,
  infra: Infrastructure,
  seeded: Seeded,
  nextAdmin: () => Seeded['admins'][number],
  root = portcullisRoot,
): Target => ({
  key,
  label,
  async start() {
    const server = await startAuthSession(productionEnv(infra, seeded, driver), root);
    try {
      const admin = nextAdmin();
      const code = admin.freshCode();
      if (!code) throw new Error(`admin ${admin.email} has used this TOTP step already`);
      const cookie = await signIn(server.url, seeded, admin, code);
      await checkMe(server.url, admin, cookie);
      return { server, path: '/auth/me', headers: meHeaders(admin, cookie) };
    } catch (error) {
      await server.stop();
      throw new Error(`${label}: ${(error as Error).message}\nits stderr:\n${server.errors().slice(-2000)}`);
    }
  },
});

/** The commit build-baseline.sh exported into `root`, shortened, or the directory's name. */
function baselineCommit(root: string): string {
  try {
    return readFileSync(join(root, '.bench-commit'), 'utf8').trim().slice(0, 10);
  } catch {
    return basename(root);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export default async function bench(): Promise<void> {
  const { began, loadBefore, stale } = beginBench();
  if (BASELINE_ROOT && compiledIsStale(BASELINE_ROOT))
    throw new Error(
      `BENCH_BASELINE_ROOT=${BASELINE_ROOT} holds no up-to-date build: make it with bench/peers/build-baseline.sh <commit> <dir>`,
    );

  const servers: ServerHandle[] = [];
  const running: ServerProcess[] = [];
  try {
    const [postgres, redisServer, moto] = await Promise.all([startPostgres(), startRedis(), startMoto()]);
    servers.push(postgres, redisServer, moto);
    // The stores share the bench's core: the measured server has the other one to itself.
    for (const server of servers) if (server.pid) pin(server.pid, BENCH_CORE);

    const portcullisTargets = BASELINE_ROOT ? 6 : 4;
    const { databaseUrl, seeded } = await seededBenchDatabase(postgres.url, portcullisTargets);
    const dynamo = createDynamoClient({ endpoint: moto.url, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
    await createDynamoSessionTable(dynamo, { tableName: 'sessions', billingMode: 'PAY_PER_REQUEST' });
    dynamo.destroy();
    const redis = new Redis(redisServer.url);
    await redis.set(FLOOR_KEY, JSON.stringify(USER));
    redis.disconnect();

    const infra: Infrastructure = { databaseUrl, redisUrl: redisServer.url, dynamoEndpoint: moto.url };
    const peerEnv = {
      REDIS_URL: redisServer.url,
      DATABASE_URL: databaseUrl,
      SESSION_SECRET: 'bench-peer-secret-0123456789abcdef',
      NODE_ENV: 'production',
    };
    let adminIndex = 0;
    const nextAdmin = () => seeded.admins[adminIndex++]!;
    const targets: Target[] = [
      peer('ceiling', 'ceiling: Koa hello (JSON), no session', 'ceiling', peerEnv, false),
      peer('floor', 'floor: Koa + ioredis, one GET + JSON.parse', 'floor', peerEnv, false),
      peer('koa_session_redis', 'koa-session + ioredis store', 'koa-session-redis', peerEnv, true),
      peer(
        'koa_session_redis_shell',
        "koa-session + ioredis store in Portcullis' service shell",
        'koa-session-redis-shell',
        peerEnv,
        true,
      ),
      peer(
        'express_session',
        'express 5 + express-session + connect-redis (defaults)',
        'express-session-redis',
        peerEnv,
        true,
      ),
      peer(
        'express_session_readme',
        "express 5 + express-session + connect-redis (README's options)",
        'express-session-redis-readme',
        peerEnv,
        true,
      ),
      peer('koa_session_knex', 'koa-session + knex/PostgreSQL store', 'koa-session-knex', peerEnv, true),
      portcullis('me_redis', 'Portcullis /auth/me, redis', 'redis', infra, seeded, nextAdmin),
      portcullis('me_knex', 'Portcullis /auth/me, knex (PostgreSQL)', 'knex', infra, seeded, nextAdmin),
      portcullis('me_dynamodb', 'Portcullis /auth/me, dynamodb (moto)', 'dynamodb', infra, seeded, nextAdmin),
      portcullis('me_dual', 'Portcullis /auth/me, dual redis → knex', 'dual', infra, seeded, nextAdmin),
      ...(BASELINE_ROOT
        ? [
            portcullis(
              'me_redis_baseline',
              `baseline ${baselineCommit(BASELINE_ROOT)} /auth/me, redis`,
              'redis',
              infra,
              seeded,
              nextAdmin,
              BASELINE_ROOT,
            ),
            portcullis(
              'me_knex_baseline',
              `baseline ${baselineCommit(BASELINE_ROOT)} /auth/me, knex`,
              'knex',
              infra,
              seeded,
              nextAdmin,
              BASELINE_ROOT,
            ),
          ]
        : []),
    ];

    // Every server starts (and signs in) once and stays up, idle while the others are measured:
    // the rounds then follow each other within seconds, so drift on the shared machine falls on
    // every target alike instead of on whichever happened to start in a noisy minute.
    const started = new Map<string, { server: ServerProcess; path: string; headers: Record<string, string> }>();
    for (const target of targets) {
      const ready = await target.start();
      started.set(target.key, ready);
      running.push(ready.server);
    }
    const runs = new Map<string, LoadFigures[]>(targets.map((target) => [target.key, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const target of r % 2 === 0 ? targets : [...targets].reverse()) {
        const { server, path, headers } = started.get(target.key)!;
        const figures = await measure(server.pid, {
          url: `${server.url}${path}`,
          connections: CONNECTIONS,
          warmupSeconds: WARMUP_S,
          seconds: DURATION_S,
          headers,
        });
        runs.get(target.key)!.push(figures);
        console.error(
          `round ${r + 1}/${ROUNDS} ${target.label}: ${Math.round(figures.rps)} req/s, p99 ${figures.p99} ms, ${Math.round(figures.cpuMicrosPerRequest)} µs CPU/req, others on its core ${Math.round(figures.coreOther * 100)} %, non-2xx ${figures.non2xx}, errors ${figures.errors}`,
        );
      }
    }

    const medians = Object.fromEntries(
      targets.map(({ key }) => {
        const all = runs.get(key)!;
        const of = (pick: (f: LoadFigures) => number) => median(all.map(pick));
        return [
          key,
          {
            rps: of((f) => f.rps),
            p50: of((f) => f.p50),
            p99: of((f) => f.p99),
            cpuMicrosPerRequest: of((f) => f.cpuMicrosPerRequest),
            serverBusy: of((f) => f.serverBusy),
            coreOther: of((f) => f.coreOther),
          },
        ];
      }),
    ) as Record<
      string,
      { rps: number; p50: number; p99: number; cpuMicrosPerRequest: number; serverBusy: number; coreOther: number }
    >;
    const sum = (pick: (f: LoadFigures) => number) =>
      [...runs.values()].flat().reduce((total, f) => total + pick(f), 0);
    const m = (key: string) => medians[key]!;
    const ratios = {
      me_redis_vs_koa_session_redis: round(m('me_redis').rps / m('koa_session_redis').rps, 3),
      me_redis_vs_express_session: round(m('me_redis').rps / m('express_session').rps, 3),
      me_redis_vs_express_session_readme: round(m('me_redis').rps / m('express_session_readme').rps, 3),
      cpu_per_req_vs_floor: round(m('me_redis').cpuMicrosPerRequest / m('floor').cpuMicrosPerRequest, 3),
      me_knex_vs_koa_session_knex: round(m('me_knex').rps / m('koa_session_knex').rps, 3),
      dual_vs_primary_alone: round(m('me_dual').rps / m('me_redis').rps, 3),
      // The targets against the machine's floor: what the floor itself reaches against the same
      // peers (a target the floor cannot meet is below what this machine can show).
      floor_vs_express_session: round(m('floor').rps / m('express_session').rps, 3),
      koa_session_cpu_per_req_vs_floor: round(
        m('koa_session_redis').cpuMicrosPerRequest / m('floor').cpuMicrosPerRequest,
        3,
      ),
      // Portcullis against koa-session inside the same production shell (request log, metrics,
      // security headers, error pages, CSRF): the session layers and guard compared alone.
      me_redis_vs_koa_session_redis_in_shell: round(m('me_redis').rps / m('koa_session_redis_shell').rps, 3),
      me_redis_vs_koa_session_redis_in_shell_by_cpu: round(
        m('koa_session_redis_shell').cpuMicrosPerRequest / m('me_redis').cpuMicrosPerRequest,
        3,
      ),
      me_redis_vs_ceiling: round(m('me_redis').rps / m('ceiling').rps, 3),
      me_redis_vs_floor: round(m('me_redis').rps / m('floor').rps, 3),
      // The same comparisons from the work per request (the inverse ratio of CPU µs per request):
      // what req/s would show if every target had its core to itself (see docs/performance.md).
      me_redis_vs_koa_session_redis_by_cpu: round(
        m('koa_session_redis').cpuMicrosPerRequest / m('me_redis').cpuMicrosPerRequest,
        3,
      ),
      me_redis_vs_express_session_by_cpu: round(
        m('express_session').cpuMicrosPerRequest / m('me_redis').cpuMicrosPerRequest,
        3,
      ),
      me_knex_vs_koa_session_knex_by_cpu: round(
        m('koa_session_knex').cpuMicrosPerRequest / m('me_knex').cpuMicrosPerRequest,
        3,
      ),
      dual_vs_primary_alone_by_cpu: round(m('me_redis').cpuMicrosPerRequest / m('me_dual').cpuMicrosPerRequest, 3),
      ...(BASELINE_ROOT
        ? {
            me_redis_vs_baseline: round(m('me_redis').rps / m('me_redis_baseline').rps, 3),
            me_knex_vs_baseline: round(m('me_knex').rps / m('me_knex_baseline').rps, 3),
            cpu_per_req_redis_vs_baseline: round(
              m('me_redis').cpuMicrosPerRequest / m('me_redis_baseline').cpuMicrosPerRequest,
              3,
            ),
          }
        : {}),
    };

    printTable(
      `GET /me, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s, median of ${ROUNDS} rounds; server on core ${pinning() ? SERVER_CORE : '(not pinned)'}`,
      targets.map(({ key, label }) => {
        const med = m(key);
        const perRound = runs.get(key)!;
        return {
          target: label,
          'req/s': Math.round(med.rps),
          'req/s by round': perRound.map((f) => Math.round(f.rps)).join(' / '),
          'p50 ms': med.p50,
          'p99 ms': med.p99,
          'CPU µs/req': Math.round(med.cpuMicrosPerRequest),
          'server core busy': `${Math.round(med.serverBusy * 100)} %`,
          'others on its core': Number.isNaN(med.coreOther) ? '' : `${Math.round(med.coreOther * 100)} %`,
          'non-2xx': perRound.reduce((total, f) => total + f.non2xx, 0),
          errors: perRound.reduce((total, f) => total + f.errors, 0),
        };
      }),
    );
    const acceptance: Record<string, string> = {
      me_redis_vs_koa_session_redis: '≥ 1.0',
      me_redis_vs_express_session: '≥ 2.0',
      cpu_per_req_vs_floor: '≤ 1.8',
      me_knex_vs_koa_session_knex: '≥ 1.0',
      dual_vs_primary_alone: '≥ 0.85',
    };
    printTable(
      'Ratios between medians',
      Object.entries(ratios).map(([name, value]) => ({ ratio: name, value, acceptance: acceptance[name] ?? '' })),
    );
    printResult({
      ...ratios,
      non_2xx: sum((f) => f.non2xx),
      errors: sum((f) => f.errors),
      targets: Object.fromEntries(
        targets.map(({ key }) => {
          const med = m(key);
          return [
            key,
            {
              rps: Math.round(med.rps),
              p50_ms: med.p50,
              p99_ms: med.p99,
              cpu_us_per_req: Math.round(med.cpuMicrosPerRequest),
              server_busy: round(med.serverBusy, 2),
              core_other: round(med.coreOther, 2),
              rounds: runs.get(key)!.map((f) => ({
                rps: Math.round(f.rps),
                p50_ms: f.p50,
                p99_ms: f.p99,
                cpu_us_per_req: Math.round(f.cpuMicrosPerRequest),
                server_busy: round(f.serverBusy, 2),
                core_other: round(f.coreOther, 2),
                requests: f.requests,
                non_2xx: f.non2xx,
                errors: f.errors,
              })),
            },
          ];
        }),
      ),
      connections: CONNECTIONS,
      duration_s: DURATION_S,
      warmup_s: WARMUP_S,
      rounds: ROUNDS,
      pinned: pinning(),
      portcullis_root: portcullisRoot,
      portcullis_dist_stale: stale,
      ...(BASELINE_ROOT ? { baseline_root: BASELINE_ROOT, baseline_commit: baselineCommit(BASELINE_ROOT) } : {}),
      loadavg_before: loadBefore,
      loadavg_after: loadavg().map((value) => round(value)),
      wall_s: Math.round((performance.now() - began) / 1000),
    });
  } finally {
    await Promise.all(running.map((server) => server.stop()));
    await Promise.all(servers.map((server) => server.dispose()));
  }
}
