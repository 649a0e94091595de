// Session store drivers on real servers this benchmark starts (the test infrastructure's
// providers: local binaries on loopback, data thrown away), then `dual` for each pair the
// cutover checklist names, against its own two stores in the same run. One request at a time
// (latency, not server capacity), 300-byte sessions, every write an update of a preloaded
// session. Each variant writes its own lane of keys: variants sharing keys made whichever ran
// second update a row the first had just written, a different cost in PostgreSQL and Redis.
// DynamoDB figures measure the driver plus moto, not DynamoDB (docs/testing.md).
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import createKnex, { type Knex } from 'knex';
import {
  createDualBackend,
  createDynamoBackend,
  createDynamoClient,
  createDynamoSessionTable,
  createKnexBackend,
  createMemoryBackend,
  createRedisBackend,
  createSessionTable,
  type SessionBackend,
  type SessionRecord,
} from '@portcullis/session-store';
import { startMariadb, startMoto, startPostgres, startRedis } from '../test/support/index.js';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../test/infra/moto-account.js';
import { cleanRunDir, runDir } from '../test/infra/state.js';
import { percentile, printResult, printTable, round } from './harness.js';

const PRELOADED = 1000;
/** Sessions per lane in moto, whose writes take milliseconds: the pairs with it write fewer. */
const PRELOADED_MOTO = 200;
const LANES = 4;
const DRIVER_ROUNDS = 3;
const SECONDS = 1;
const READ_SECONDS = 8;
const WRITE_SECONDS = 14;
const MOTO_PAIR_SECONDS = 6;
const DATA = JSON.stringify({
  userId: 'admin-0001',
  tenantId: 'tenant-42',
  aal: 2,
  csrf: randomBytes(24).toString('base64url'),
  pad: 'x'.repeat(180),
});

interface Figures {
  opsPerSecond: number;
  p50: number;
  p99: number;
  samples: number;
}

/** Calls `fn` one at a time for `seconds` (after a short warm-up), timing every call. */
async function timeOps(fn: (i: number) => Promise<unknown>, seconds = SECONDS): Promise<Figures> {
  for (let i = 0, end = performance.now() + 200; performance.now() < end; i++) await fn(i);
  const samples: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  for (let i = 0; performance.now() < deadline && samples.length < 500_000; i++) {
    const before = performance.now();
    await fn(i);
    samples.push(performance.now() - before);
  }
  return {
    opsPerSecond: samples.length / ((performance.now() - started) / 1000),
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    samples: samples.length,
  };
}

/** Milliseconds to three significant digits: a memory get is a few microseconds, moto several ms. */
const ms = (value: number) => Number(value.toPrecision(3));
/**
 * The variants in turn, one call each per iteration, for `seconds`: all of them see the same
 * moments of a busy machine, which rounds of one variant at a time do not give. Sequential
 * calls, so ops/s is 1 / mean latency.
 */
async function interleaved(
  variants: Record<string, (i: number) => Promise<unknown>>,
  seconds: number,
): Promise<Record<string, Figures>> {
  const entries = Object.entries(variants);
  const samples = new Map(entries.map(([name]) => [name, [] as number[]]));
  for (let i = 0, end = performance.now() + 200; performance.now() < end; i++)
    for (const [, fn] of entries) await fn(i);
  for (let i = 0, end = performance.now() + seconds * 1000; performance.now() < end; i++) {
    for (const [name, fn] of i % 2 === 0 ? entries : [...entries].reverse()) {
      const before = performance.now();
      await fn(i);
      samples.get(name)!.push(performance.now() - before);
    }
  }
  const figures = (times: number[]): Figures => ({
    opsPerSecond: 1000 / (times.reduce((sum, t) => sum + t, 0) / times.length),
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    samples: times.length,
  });
  return Object.fromEntries(entries.map(([name]) => [name, figures(samples.get(name)!)]));
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
/** Each figure's median over rounds. */
const medianOf = (runs: Figures[]): Figures => ({
  opsPerSecond: median(runs.map((f) => f.opsPerSecond)),
  p50: median(runs.map((f) => f.p50)),
  p99: median(runs.map((f) => f.p99)),
  samples: median(runs.map((f) => f.samples)),
});

const hashes = Array.from({ length: LANES }, () =>
  Array.from({ length: PRELOADED }, () => randomBytes(32).toString('hex')),
);
/** Session `i` of a lane; `size` keys per lane (a multiple of 50, so a key keeps its owner). */
const record = (i: number, lane = 0, size = PRELOADED): SessionRecord => ({
  hash: hashes[lane]![i % size]!,
  userId: `admin-${i % 50}`,
  data: DATA,
  expiresAt: Date.now() + 30 * 60_000,
});
const getOf =
  (backend: SessionBackend, size = PRELOADED) =>
  (i: number) =>
    backend.get(hashes[0]![(i * 7919) % size]!);
const putOf =
  (backend: SessionBackend, lane = 0, size = PRELOADED) =>
  (i: number) =>
    backend.put(record(i, lane, size));

async function preload(backend: SessionBackend, size = PRELOADED): Promise<void> {
  for (let lane = 0; lane < LANES; lane++) {
    for (let i = 0; i < size; i += 50)
      await Promise.all(Array.from({ length: 50 }, (_, k) => backend.put(record(i + k, lane, size))));
  }
}

/** The driver as a dual store's half: closing the dual must leave the drivers open for the next measurement. */
const unowned = (backend: SessionBackend): SessionBackend => ({ ...backend, close: async () => undefined });

interface PairFigures {
  primary: Figures;
  secondary: Figures;
  bare: Figures;
  dual: Figures;
  slower: 'primary' | 'secondary';
}

/**
 * Writes of one dual pair, interleaved: each store alone, both in a bare Promise.all (no dual
 * code: the floor for a parallel write on this machine) and the dual backend.
 */
async function measurePair(
  primary: SessionBackend,
  secondary: SessionBackend,
  seconds: number,
  size: number,
): Promise<PairFigures> {
  const dual = createDualBackend({ primary: unowned(primary), secondary: unowned(secondary), fallbackOnMiss: false });
  try {
    const writes = await interleaved(
      {
        primary: putOf(primary, 0, size),
        secondary: putOf(secondary, 1, size),
        bare: (i) => Promise.all([primary.put(record(i, 2, size)), secondary.put(record(i, 2, size))]),
        dual: putOf(dual, 3, size),
      },
      seconds,
    );
    const [p, s] = [writes.primary!, writes.secondary!];
    return {
      primary: p,
      secondary: s,
      bare: writes.bare!,
      dual: writes.dual!,
      slower: p.p50 >= s.p50 ? 'primary' : 'secondary',
    };
  } finally {
    await dual.close();
  }
}

export default async function (): Promise<void> {
  const began = performance.now();
  const load = loadavg().map((value) => round(value));
  const [pg, redis, maria, moto] = await Promise.all([startPostgres(), startRedis(), startMariadb(), startMoto()]);
  const pools: Knex[] = [];
  const backends: SessionBackend[] = [];
  try {
    const pgKnex = createKnex({ client: 'pg', connection: pg.url, pool: { min: 1, max: 10 } });
    const adminMaria = createKnex({ client: 'mysql2', connection: maria.url, pool: { min: 0, max: 1 } });
    await adminMaria.raw('create database bench character set utf8mb4');
    await adminMaria.destroy();
    const mariaKnex = createKnex({
      client: 'mysql2',
      connection: `${maria.url.replace(/\/$/, '')}/bench`,
      pool: { min: 1, max: 10 },
    });
    pools.push(pgKnex, mariaKnex);
    await Promise.all([createSessionTable(pgKnex, 'sessions'), createSessionTable(mariaKnex, 'sessions')]);
    const dynamoClient = createDynamoClient({ endpoint: moto.url, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
    await createDynamoSessionTable(dynamoClient, { tableName: 'sessions', billingMode: 'PAY_PER_REQUEST' });

    const drivers: [string, SessionBackend, number][] = [
      ['memory', createMemoryBackend(), PRELOADED],
      ['redis', createRedisBackend({ url: redis.url, keyPrefix: 'bench:' }), PRELOADED],
      ['knex PostgreSQL', createKnexBackend({ knex: pgKnex, tableName: 'sessions' }), PRELOADED],
      ['knex MariaDB', createKnexBackend({ knex: mariaKnex, tableName: 'sessions' }), PRELOADED],
      ['dynamodb (moto)', createDynamoBackend({ client: dynamoClient, tableName: 'sessions' }), PRELOADED_MOTO],
    ];
    backends.push(...drivers.map(([, backend]) => backend));
    for (const [, backend, size] of drivers) await preload(backend, size);
    const driver = (name: string) => drivers.find(([candidate]) => candidate === name)![1];

    // Every driver, DRIVER_ROUNDS times round-robin: drift on the shared machine hits them all alike.
    const runs = new Map(drivers.map(([name]) => [name, { get: [] as Figures[], set: [] as Figures[] }]));
    for (let round = 0; round < DRIVER_ROUNDS; round++) {
      for (const [name, backend, size] of drivers) {
        runs.get(name)!.get.push(await timeOps(getOf(backend, size)));
        runs.get(name)!.set.push(await timeOps(putOf(backend, 0, size)));
      }
    }
    const perDriver = drivers.map(([name]) => ({
      name,
      get: medianOf(runs.get(name)!.get),
      set: medianOf(runs.get(name)!.set),
    }));
    printTable(
      `Drivers, one request at a time, median of ${DRIVER_ROUNDS} rounds (ms)`,
      perDriver.map(({ name, get, set }) => ({
        driver: name,
        'get ops/s': Math.round(get.opsPerSecond),
        'get p50': ms(get.p50),
        'get p99': ms(get.p99),
        'set ops/s': Math.round(set.opsPerSecond),
        'set p50': ms(set.p50),
        'set p99': ms(set.p99),
      })),
    );

    // Reads on the headline pair: redis primary (the fast store a read hits), knex PostgreSQL secondary.
    const [primary, secondary] = [driver('redis'), driver('knex PostgreSQL')];
    const dual = createDualBackend({ primary: unowned(primary), secondary: unowned(secondary), fallbackOnMiss: false });
    backends.push(dual);
    const reads = await interleaved({ alone: getOf(primary), dual: getOf(dual) }, READ_SECONDS);
    const [readAlone, readDual] = [reads.alone!, reads.dual!];

    // Writes on every pair the cutover checklist names. redis ↔ knex is the headline: both
    // stores answer in tenths of a millisecond, so any cost of writing two is most visible.
    const pairs: { name: string; primary: string; secondary: string; figures: PairFigures }[] = [];
    for (const [primaryName, secondaryName, seconds, size] of [
      ['redis', 'knex PostgreSQL', WRITE_SECONDS, PRELOADED],
      ['knex PostgreSQL', 'dynamodb (moto)', MOTO_PAIR_SECONDS, PRELOADED_MOTO],
      ['redis', 'dynamodb (moto)', MOTO_PAIR_SECONDS, PRELOADED_MOTO],
    ] as const) {
      const figures = await measurePair(driver(primaryName), driver(secondaryName), seconds, size);
      pairs.push({
        name: `${primaryName} → ${secondaryName}`,
        primary: primaryName,
        secondary: secondaryName,
        figures,
      });
    }
    const slowerOf = (pair: (typeof pairs)[number]) =>
      pair.figures.slower === 'primary'
        ? { name: pair.primary, ...pair.figures.primary }
        : { name: pair.secondary, ...pair.figures.secondary };
    const pairRatios = pairs.map((pair) => {
      const slower = slowerOf(pair);
      return { pair, slower, dual: pair.figures.dual.p50 / slower.p50, bare: pair.figures.bare.p50 / slower.p50 };
    });
    const headline = pairRatios[0]!;

    // What the dual code itself costs per call, on in-process stores (no network, little noise).
    // A few sessions only: the memory driver sweeps all of them whenever its size is a multiple of 1000.
    const [memoryA, memoryB] = [createMemoryBackend(), createMemoryBackend()];
    const memoryDual = createDualBackend({ primary: memoryA, secondary: memoryB, fallbackOnMiss: false });
    backends.push(memoryDual);
    for (let i = 0; i < 10; i++) await memoryDual.put(record(i, 0, 10));
    const local = await interleaved(
      {
        get: (i) => memoryA.get(hashes[0]![i % 10]!),
        dualGet: (i) => memoryDual.get(hashes[0]![i % 10]!),
        put: (i) => Promise.all([memoryA.put(record(i, 0, 10)), memoryB.put(record(i, 0, 10))]),
        dualPut: (i) => memoryDual.put(record(i, 0, 10)),
      },
      1,
    );
    const costUs = (withDual: Figures, without: Figures) =>
      round((1 / withDual.opsPerSecond - 1 / without.opsPerSecond) * 1e6, 2);
    const readCostUs = costUs(local.dualGet!, local.get!);
    const writeCostUs = costUs(local.dualPut!, local.put!);
    const readRatio = readDual.opsPerSecond / readAlone.opsPerSecond;
    const row = (what: string, f: Figures) => ({
      what,
      'ops/s': Math.round(f.opsPerSecond),
      p50: ms(f.p50),
      p99: ms(f.p99),
    });

    printTable('dual reads, redis primary + knex PostgreSQL secondary, calls interleaved one by one (ms)', [
      row('read, primary hit: redis alone', readAlone),
      row('read, primary hit: dual', readDual),
    ]);
    for (const { pair } of pairRatios) {
      printTable(`dual writes, ${pair.name}, calls interleaved one by one (ms)`, [
        row(`${pair.primary} alone`, pair.figures.primary),
        row(`${pair.secondary} alone`, pair.figures.secondary),
        row('both stores, bare Promise.all', pair.figures.bare),
        row('dual (both in parallel)', pair.figures.dual),
      ]);
    }
    printTable('Ratios', [
      {
        ratio: 'dual read ops/s ÷ redis alone (primary hit)',
        value: round(readRatio, 3),
        target: '≥ 0.90',
        met: readRatio >= 0.9 ? 'yes' : 'NO',
      },
      ...pairRatios.flatMap(({ pair, slower, dual: ratio, bare }) => [
        {
          ratio: `${pair.name}: dual write p50 ÷ slower store alone (${slower.name})`,
          value: round(ratio, 3),
          target: '≤ 1.15',
          met: ratio <= 1.15 ? 'yes' : 'NO',
        },
        {
          ratio: `${pair.name}: bare Promise.all write p50 ÷ slower alone (no dual code: the floor)`,
          value: round(bare, 3),
          target: '',
          met: '',
        },
      ]),
    ]);
    printTable('Cost of the dual code itself, on memory stores (µs per call)', [
      {
        call: 'get, primary hit',
        µs: readCostUs,
        'share of a redis get p50': `${round((readCostUs / 1000 / readAlone.p50) * 100, 1)}%`,
      },
      {
        call: 'put (both stores)',
        µs: writeCostUs,
        'share of a knex put p50': `${round((writeCostUs / 1000 / headline.pair.figures.secondary.p50) * 100, 1)}%`,
      },
    ]);

    printResult({
      benchmark: 'session-store',
      dual_pair: 'redis primary + knex PostgreSQL secondary',
      dual_read_hit_vs_primary: round(readRatio, 3),
      // The headline pair's figure; every checklist pair is in dual_write_pairs.
      dual_write_p50_vs_slower: round(headline.dual, 3),
      slower_store: headline.slower.name,
      targets: { dual_read_hit_vs_primary: 0.9, dual_write_p50_vs_slower: 1.15 },
      dual_code_cost_us: { get: readCostUs, put: writeCostUs },
      bare_parallel_write_p50_vs_slower: round(headline.bare, 3),
      dual_write_p50_vs_bare_parallel: round(headline.pair.figures.dual.p50 / headline.pair.figures.bare.p50, 3),
      dual_write_pairs: Object.fromEntries(
        pairRatios.map(({ pair, slower, dual: ratio, bare }) => [
          pair.name,
          {
            dual_write_p50_vs_slower: round(ratio, 3),
            bare_parallel_write_p50_vs_slower: round(bare, 3),
            slower_store: slower.name,
            dual_write_p50_ms: ms(pair.figures.dual.p50),
            slower_write_p50_ms: ms(slower.p50),
            samples: pair.figures.dual.samples,
          },
        ]),
      ),
      dual: {
        read_ops_s: Math.round(readDual.opsPerSecond),
        read_p99_ms: ms(readDual.p99),
        write_p50_ms: ms(headline.pair.figures.dual.p50),
        write_p99_ms: ms(headline.pair.figures.dual.p99),
      },
      primary_alone: {
        read_ops_s: Math.round(readAlone.opsPerSecond),
        write_p50_ms: ms(headline.pair.figures.primary.p50),
      },
      secondary_alone: { write_p50_ms: ms(headline.pair.figures.secondary.p50) },
      drivers: Object.fromEntries(
        perDriver.map(({ name, get, set }) => [
          name,
          {
            get_ops_s: Math.round(get.opsPerSecond),
            get_p50_ms: ms(get.p50),
            get_p99_ms: ms(get.p99),
            set_ops_s: Math.round(set.opsPerSecond),
            set_p50_ms: ms(set.p50),
            set_p99_ms: ms(set.p99),
          },
        ]),
      ),
      loadavg_before: load,
      loadavg_after: loadavg().map((value) => round(value)),
      seconds: round((performance.now() - began) / 1000, 1),
    });
  } finally {
    await Promise.allSettled(backends.map((backend) => backend.close()));
    await Promise.allSettled(pools.map((knex) => knex.destroy()));
    await Promise.allSettled([pg, redis, maria, moto].map((server) => server.dispose()));
    await cleanRunDir(runDir());
  }
}
