// `npm run bench -- profile`: where the CPU of one `GET /auth/me` goes. Starts the compiled
// auth-session as production runs it (redis store, LOG_LEVEL=info to /dev/null) with
// --cpu-prof, loads it, and attributes the profile's self time to parts of the request path,
// as µs per request (BENCH_STORE=knex for the PostgreSQL store). Baseline in the same run: the same load on a bare Koa app answering the
// same JSON (the framework's own cost). BENCH_PORTCULLIS_ROOT profiles another build (a
// before/after pair in docs/performance.md); BENCH_DURATION_S sets the load window.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import knex from 'knex';
import { startPostgres, startRedis } from '../test/support/index.js';
import { printResult, printTable, round } from './harness.js';
import { checkMe, meHeaders, portcullisRoot, productionEnv, seedPortcullis, signIn } from './peers/portcullis.js';
import { cpuMicros, startServer } from './peers/processes.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
/** BENCH_STORE: redis (default) or knex (PostgreSQL). */
const STORE = process.env.BENCH_STORE === 'knex' ? 'knex' : 'redis';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** The part of the request path a frame belongs to, from its function and file. */
const PARTS: [string, (fn: string, url: string) => boolean][] = [
  [
    'start-up (module loading)',
    (_fn, url) =>
      /modules\/(cjs|esm)|bootstrap\/realm|get_format/.test(url) ||
      _fn === 'wrapSafe' ||
      _fn === 'compileSourceTextModule',
  ],
  [
    'socket writes (kernel)',
    (fn) => fn === 'writeUtf8String' || fn === 'writev' || fn === 'writeBuffer' || fn === 'writeLatin1String',
  ],
  ['log writes (kernel)', (fn) => fn === 'writeString'],
  ['garbage collection', (fn) => fn === '(garbage collector)'],
  [
    'session store client',
    (_fn, url) =>
      /node_modules\/(ioredis|@ioredis|redis-parser|cluster-key-slot|pg|pg-protocol|pg-pool|knex|tarn|@aws-sdk|@smithy)\//.test(
        url,
      ),
  ],
  [
    'logging (pino)',
    (_fn, url) =>
      /node_modules\/(pino|sonic-boom|fast-redact|on-exit-leak-free)/.test(url) ||
      url.includes('libs/observability/dist/logger') ||
      url.includes('redact'),
  ],
  ['metrics (prom-client)', (_fn, url) => /node_modules\/prom-client/.test(url)],
  [
    'crypto (HMACs)',
    (_fn, url) => url.startsWith('node:internal/crypto') || /node_modules\/(keygrip|tsscmp)/.test(url),
  ],
  ['security headers (helmet)', (_fn, url) => /node_modules\/(helmet|koa-helmet)/.test(url)],
  [
    'session middleware (koa-session or ours)',
    (_fn, url) =>
      /node_modules\/(koa-session|crc)\//.test(url) ||
      url.includes('libs/session-auth/') ||
      url.includes('libs/session-store/'),
  ],
  [
    'Koa, router, cookies, negotiation',
    (_fn, url) =>
      /node_modules\/(koa|koa-compose|@koa|delegates|cookies|accepts|negotiator|on-finished|statuses|content-type|type-is|mime|http-errors|vary|fresh|only|encodeurl|escape-html|depd|destroy)/.test(
        url,
      ),
  ],
  [
    'Node HTTP and streams',
    (_fn, url) =>
      /^node:(_http|internal\/streams|net|events|internal\/stream_base|stream)/.test(url) || url === 'node:http',
  ],
  ['Portcullis routes and libraries', (_fn, url) => url.includes('/services/') || url.includes('/libs/')],
  ['idle', (fn) => fn === '(idle)'],
  [
    'promises and ticks (async/await)',
    (fn, url) =>
      fn === 'runMicrotasks' || url === 'node:internal/process/task_queues' || url === 'node:internal/timers',
  ],
];

/** Kernel and V8 entries that are parts of their own, whoever called them. */
const OWN_PARTS = new Set([
  '(garbage collector)',
  '(idle)',
  '(program)',
  'writeUtf8String',
  'writev',
  'writeBuffer',
  'writeLatin1String',
  'writeString',
]);

function attribute(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  /** A builtin without a file (JSON.parse, Buffer.from…) counts for the nearest caller that has one. */
  const frameOf = (id: number) => {
    let node = byId.get(id)!;
    while (node.callFrame.url === '' && !OWN_PARTS.has(node.callFrame.functionName) && parentOf.has(node.id))
      node = byId.get(parentOf.get(node.id)!)!;
    return node.callFrame;
  };
  const parts = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = frameOf(id);
    const part =
      PARTS.find(([, matches]) => matches(frame.functionName, frame.url))?.[0] ?? 'other (V8 program, timers)';
    parts.set(part, (parts.get(part) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return parts;
}

async function load(url: string, headers: Record<string, string>, seconds: number) {
  const result = await autocannon({ url, headers, connections: 50, duration: seconds });
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p99: result.latency.p99,
    non2xx: result.non2xx + result.errors,
  };
}

export default async function bench(): Promise<void> {
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const db = knex({ client: 'pg', connection: postgres.url });
  // BENCH_PROFILE_DIR keeps the .cpuprofile there (for Chrome DevTools or speedscope).
  const keep = process.env.BENCH_PROFILE_DIR;
  const profileDir = keep ?? mkdtempSync(join(tmpdir(), 'portcullis-profile-'));
  try {
    const seeded = await seedPortcullis(db, 1);
    const admin = seeded.admins[0]!;

    // Baseline: Koa answering the same JSON, no session.
    const koa = await startServer({
      args: [
        '--input-type=module',
        '-e',
        "import Koa from 'koa'; const app = new Koa(); app.use((ctx) => { ctx.body = { id: 'x', kind: 'tenant', assurance: 2 }; }); app.listen(Number(process.env.PORT), '127.0.0.1');",
      ],
      env: {},
      readyPath: '/',
      cwd: portcullisRoot,
    });
    await load(koa.url, {}, 2);
    const koaCpu = cpuMicros(koa.pid);
    const koaLoad = await load(koa.url, {}, DURATION_S);
    const koaCpuPerRequest = (cpuMicros(koa.pid) - koaCpu) / koaLoad.requests;
    await koa.stop();

    const env = productionEnv({ databaseUrl: postgres.url, redisUrl: redis.url }, seeded, STORE);
    const server = await startServer({
      args: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, join(portcullisRoot, 'services/auth-session/dist/main.js')],
      env,
      portcullis: true,
      readyPath: '/readyz',
      readyStatus: 200,
      cwd: portcullisRoot,
    });
    const cookie = await signIn(server.url, seeded, admin, admin.freshCode()!);
    await checkMe(server.url, admin, cookie);
    const warm = await load(`${server.url}/auth/me`, meHeaders(admin, cookie), 2);
    const before = cpuMicros(server.pid);
    const measured = await load(`${server.url}/auth/me`, meHeaders(admin, cookie), DURATION_S);
    const cpuPerRequest = (cpuMicros(server.pid) - before) / measured.requests;
    await server.stop();

    const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error('auth-session wrote no CPU profile (did it exit through its SIGTERM handler?)');
    const parts = attribute(JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile);
    // The profiler samples wall time, so a process waiting for the shared core is sampled too:
    // each part's share of the busy samples (start-up and idle left out) times the CPU per
    // request measured from /proc over the load window.
    void warm;
    const busy = [...parts].filter(([part]) => part !== 'idle' && !part.startsWith('start-up'));
    const busyTotal = busy.reduce((sum, [, micros]) => sum + micros, 0);
    const rows = busy
      .sort((a, b) => b[1] - a[1])
      .map(([part, micros]) => ({
        part,
        share: `${round((100 * micros) / busyTotal, 1)} %`,
        'µs per request': round((micros / busyTotal) * cpuPerRequest, 1),
      }));
    printTable(
      `GET /auth/me, ${STORE} store, ${portcullisRoot === process.cwd() ? 'this tree' : portcullisRoot} (self time of the CPU profile)`,
      rows,
    );
    printTable('Load', [
      {
        target: 'Koa hello (baseline)',
        'req/s': round(koaLoad.rps),
        'p99 ms': koaLoad.p99,
        'CPU µs/req': round(koaCpuPerRequest, 1),
        'non-2xx': koaLoad.non2xx,
      },
      {
        target: 'auth-session GET /auth/me',
        'req/s': round(measured.rps),
        'p99 ms': measured.p99,
        'CPU µs/req': round(cpuPerRequest, 1),
        'non-2xx': measured.non2xx,
      },
    ]);
    printResult({
      benchmark: 'profile',
      store: STORE,
      duration_s: DURATION_S,
      me_rps: round(measured.rps),
      me_cpu_us_per_req: round(cpuPerRequest, 1),
      koa_cpu_us_per_req: round(koaCpuPerRequest, 1),
      me_cpu_vs_koa: round(cpuPerRequest / koaCpuPerRequest),
      parts_us_per_req: Object.fromEntries(rows.map((row) => [row.part, row['µs per request']])),
      non_2xx: measured.non2xx + koaLoad.non2xx,
    });
  } finally {
    if (!keep) rmSync(profileDir, { recursive: true, force: true });
    await db.destroy();
    await Promise.all([postgres.dispose(), redis.dispose()]);
  }
}
