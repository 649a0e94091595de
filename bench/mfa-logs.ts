// `npm run bench -- mfa-logs`: the reset-log jobs on 1,000,000 rows of a local PostgreSQL, run
// as an operator runs them (the real `portcullis mfa-logs` command, --parallel = CPU count):
//   generate  1M legacy rows server-side (generate_series; 5 plaintext previous_* values each)
//   encrypt-legacy   plaintext → key A (5 AES-256-GCM encryptions per row)
//   rewrap           ring (B primary, A previous): A → B (5 decryptions + 5 encryptions per row)
//   verify-decrypt   a 10,000-row sample with B only
// and, in the same run, the floor of each job (bench/mfa-logs/floor.ts: keyset reads, raw
// node:crypto AES-256-GCM of the same values, one batched UPDATE per batch, the same process
// count) on a copy of the same rows: `encrypt_legacy_vs_floor` and `rewrap_vs_floor` say how close
// the jobs come to the least work per row, whatever the machine (acceptance: ≥ 0.6).
// Target: ≥ 20,000 rows/s for each job. PORTCULLIS_BENCH_PG_URL uses a server you run (admin URL
// to its `postgres` database); otherwise a throwaway one is started. PORTCULLIS_BENCH_ROWS and
// PORTCULLIS_BENCH_PARALLEL change the size and the process count.
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import knex, { type Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { createKeyRing, generateKey, isEnvelope } from '@portcullis/crypto';
import { PREVIOUS_COLUMNS, RESET_LOG_TABLE } from '@portcullis/mfa-reset-log';
import { migrateLatest } from '@portcullis/migrations';
import { printResult, printTable, round } from './harness.js';
import { parentPid, processTreeCpuSeconds, reapedChildrenCpuSeconds } from './mfa-logs/cpu.js';

const ROWS = Number(process.env.PORTCULLIS_BENCH_ROWS ?? 1_000_000);
const PARALLEL = Number(process.env.PORTCULLIS_BENCH_PARALLEL ?? availableParallelism());
const BATCH = 5000;
const TARGET = 20_000;
const root = join(import.meta.dirname, '..');

async function database(): Promise<{ url: string; local: boolean; dispose(): Promise<void> }> {
  const given = process.env.PORTCULLIS_BENCH_PG_URL;
  const server = given ? undefined : await (await import('../test/infra/postgres.js')).startPostgres();
  const admin = new URL(given ?? server!.url);
  const name = `bench_mfa_logs_${Date.now().toString(36)}`;
  const adminDb = knex({ client: 'pg', connection: admin.toString(), pool: { min: 0, max: 1 } });
  await adminDb.raw(`create database ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    local: !given,
    async dispose() {
      await adminDb.raw(`drop database if exists ${name} with (force)`);
      await adminDb.destroy();
      await server?.dispose();
    },
  };
}

/** 1M rows in one INSERT … SELECT: no row crosses the wire. Values have production's legacy shapes (10 recovery-code hashes of 64 hex). */
async function generate(db: Knex): Promise<void> {
  const tenant = '00000000-0000-4000-8000-0000000000b1';
  await db.raw(
    `insert into tenants (id, slug, name, status, created_at, updated_at) values (?, 'bench', 'Bench', 'active', now(), now())`,
    [tenant],
  );
  await db.raw(
    `insert into tenant_admins (id, tenant_id, email, password_hash, mfa_enabled, failed_attempts, must_change_password, created_at, updated_at)
     select gen_random_uuid(), ?, 'admin' || g || '@bench.example', 'x', false, 0, false, now(), now() from generate_series(1, 1000) g`,
    [tenant],
  );
  await db.raw(
    `with admins as (select array_agg(id) as ids from tenant_admins)
     insert into ${RESET_LOG_TABLE} (tenant_id, tenant_admin_id, reset_by, reason, created_at, ${PREVIOUS_COLUMNS.join(', ')})
     select ?, admins.ids[1 + g % 1000], gen_random_uuid(), 'bench', now(),
       translate(upper(md5(g::text)), '0189', 'WXYZ'), 'true', (timestamptz '2025-01-01' + g * interval '1 second')::text, (57000000 + g)::text,
       '["' || repeat(md5(g::text) || md5(g::text || 'r') || '","', 9) || md5(g::text) || md5(g::text || 'r') || '"]'
     from admins, generate_series(1, ?) g`,
    [tenant, ROWS],
  );
  await db.raw(`vacuum analyze ${RESET_LOG_TABLE}`);
}

const FLOOR_TABLE = 'bench_floor_rows';

/** The same rows' previous_* values, still plaintext, in a table of their own for the floor to rewrite. */
async function copyForFloor(db: Knex): Promise<void> {
  await db.raw(`create table ${FLOOR_TABLE} as select id, ${PREVIOUS_COLUMNS.join(', ')} from ${RESET_LOG_TABLE}`);
  await db.raw(`alter table ${FLOOR_TABLE} add primary key (id)`);
  await db.raw(`vacuum analyze ${FLOOR_TABLE}`);
}

/** The floor of one job over the copy, in PARALLEL processes of contiguous id ranges; wall seconds. */
async function floor(db: Knex, url: string, mode: 'encrypt' | 'rewrap', keys: Record<string, string>): Promise<number> {
  const { min, max } = (await db(FLOOR_TABLE).first(db.raw('min(id)::bigint as min, max(id)::bigint as max'))) as {
    min: string;
    max: string;
  };
  const [low, high] = [BigInt(min), BigInt(max)];
  const span = (high - low + 1n + BigInt(PARALLEL) - 1n) / BigInt(PARALLEL);
  const started = performance.now();
  const counts = await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) => {
      const first = low + span * BigInt(i);
      const last = i === PARALLEL - 1 ? high : first + span - 1n;
      return new Promise<number>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            '--conditions=development',
            '--import',
            'tsx',
            join(import.meta.dirname, 'mfa-logs', 'floor.ts'),
            mode,
            String(first),
            String(last),
          ],
          {
            env: {
              PATH: process.env.PATH ?? '',
              FLOOR_DATABASE_URL: url,
              FLOOR_TABLE,
              FLOOR_BATCH: String(BATCH),
              ...keys,
            },
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        let out = '';
        child.stdout.on('data', (chunk) => (out += chunk));
        child.on('exit', (code) =>
          code === 0
            ? resolve((JSON.parse(out) as { rows: number }).rows)
            : reject(new Error(`floor ${mode} shard ${i} exited with ${code}`)),
        );
      });
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  if (counts.reduce((a, b) => a + b, 0) !== ROWS)
    throw new Error(
      `the ${mode} floor rewrote ${counts.reduce((a, b) => a + b, 0)} rows, not ${ROWS} (per process: ${counts.join(', ')}; ids ${min}..${max})`,
    );
  return seconds;
}

/** The real command in its own processes; returns its final JSON line and the wall time. */
function portcullis(
  args: string[],
  env: Record<string, string>,
): Promise<{ result: Record<string, unknown>; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=development', '--import', 'tsx', join(root, 'services/cli/src/main.ts'), ...args],
      {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) return reject(new Error(`portcullis ${args.join(' ')} exited with ${code}`));
      resolve({ result: JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>, seconds });
    });
  });
}

const byCpu = (floorStep: StepCost, job: StepCost): number | null =>
  floorStep.cpuMicrosPerRow && job.cpuMicrosPerRow ? round(floorStep.cpuMicrosPerRow / job.cpuMicrosPerRow, 2) : null;

interface StepCost {
  seconds: number;
  /** Node (the step's processes) + PostgreSQL CPU per row, µs; null where /proc cannot tell. */
  cpuMicrosPerRow: number | null;
  /** 1-minute load average when the step ended. */
  load: number;
}

/**
 * Wall time and CPU of one step. PostgreSQL's share is counted only for the server the bench
 * started itself (its postmaster is a local process); its background work (autovacuum, writer)
 * during the step counts, as the step caused it.
 */
async function measured<T>(postmaster: number | null, step: () => Promise<T>): Promise<StepCost & { value: T }> {
  const cpu = () => {
    const node = reapedChildrenCpuSeconds();
    const database = postmaster === null ? null : processTreeCpuSeconds(postmaster);
    return node === null || database === null ? null : node + database;
  };
  const cpuBefore = cpu();
  const started = performance.now();
  const value = await step();
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = cpu();
  const cpuMicrosPerRow =
    cpuBefore === null || cpuAfter === null ? null : round(((cpuAfter - cpuBefore) * 1e6) / ROWS, 1);
  return { value, seconds, cpuMicrosPerRow, load: round(loadavg()[0] ?? 0) };
}

export default async function (): Promise<void> {
  const server = await database();
  const db = knex({ client: 'pg', connection: server.url, pool: { min: 0, max: 2 } });
  try {
    const backend = (await db.raw<{ rows: { pid: number }[] }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    const postmaster = server.local ? parentPid(backend) : null;
    const loadBefore = loadavg().map((value) => round(value));
    await migrateLatest(db);
    let started = performance.now();
    await generate(db);
    const generateSeconds = (performance.now() - started) / 1000;
    await copyForFloor(db);
    const floorKeys = { FLOOR_KEY_A: randomBytes(32).toString('hex'), FLOOR_KEY_B: randomBytes(32).toString('hex') };
    const [keyA, keyB] = [generateKey(), generateKey()];
    const base = { DATABASE_URL: server.url };
    const jobArgs = ['--batch-size', String(BATCH), ...(PARALLEL > 1 ? ['--parallel', String(PARALLEL)] : [])];

    const legacyStep = await measured(postmaster, () =>
      portcullis(['mfa-logs', 'encrypt-legacy', ...jobArgs], { ...base, MFA_RESET_LOG_ENCRYPTION_KEY: keyA }),
    );
    const legacy = legacyStep.value;
    if (legacy.result.rows_written !== ROWS || legacy.result.plaintext_values_after !== 0)
      throw new Error(`encrypt-legacy did not encrypt every row: ${JSON.stringify(legacy.result)}`);
    // Each floor runs right after its job, so both see the same machine load.
    const floorEncrypt = await measured(postmaster, () => floor(db, server.url, 'encrypt', floorKeys));
    const floorEncryptSeconds = floorEncrypt.seconds;
    started = performance.now();
    await db.raw(`vacuum analyze ${RESET_LOG_TABLE}`);
    const vacuumSeconds = (performance.now() - started) / 1000;
    await db.raw(`vacuum analyze ${FLOOR_TABLE}`);

    const rewrapStep = await measured(postmaster, () =>
      portcullis(['mfa-logs', 'rewrap', ...jobArgs], {
        ...base,
        MFA_RESET_LOG_ENCRYPTION_KEY: keyB,
        MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS: keyA,
      }),
    );
    const rewrap = rewrapStep.value;
    if (rewrap.result.rows_written !== ROWS)
      throw new Error(`rewrap did not rewrap every row: ${JSON.stringify(rewrap.result)}`);
    const floorRewrap = await measured(postmaster, () => floor(db, server.url, 'rewrap', floorKeys));
    const floorRewrapSeconds = floorRewrap.seconds;
    const verify = await portcullis(['mfa-logs', 'verify-decrypt', '--sample', '10000'], {
      ...base,
      MFA_RESET_LOG_ENCRYPTION_KEY: keyB,
    });
    const idB = createKeyRing({ primary: { name: 'B', value: keyB } }).primaryKeyId;
    const sample = await db(RESET_LOG_TABLE).first('previous_recovery_code_hashes');
    if (!isEnvelope(String(sample?.previous_recovery_code_hashes)) || verify.result.failed !== 0)
      throw new Error('verify-decrypt failed after the rewrap');

    const rate = (seconds: number) => ROWS / seconds;
    printTable(
      `portcullis mfa-logs on ${ROWS.toLocaleString('en-US')} rows (5 previous_* values each), ${PARALLEL} process(es), batches of ${BATCH}`,
      [
        {
          step: 'generate (server-side SQL)',
          seconds: round(generateSeconds, 1),
          'rows/s': Math.round(rate(generateSeconds)),
          'CPU µs/row': '',
          'load (1 min)': '',
          target: '',
        },
        {
          step: 'encrypt-legacy (plaintext → A)',
          seconds: round(legacy.seconds, 1),
          'rows/s': Math.round(rate(legacy.seconds)),
          'CPU µs/row': legacyStep.cpuMicrosPerRow ?? '',
          'load (1 min)': legacyStep.load,
          target: `≥ ${TARGET}`,
        },
        {
          step: '  floor: raw AES-GCM + batched UPDATE',
          seconds: round(floorEncryptSeconds, 1),
          'rows/s': Math.round(rate(floorEncryptSeconds)),
          'CPU µs/row': floorEncrypt.cpuMicrosPerRow ?? '',
          'load (1 min)': floorEncrypt.load,
          target: `job ≥ 0.6 × floor (${round(floorEncryptSeconds / legacy.seconds, 2)})`,
        },
        {
          step: 'vacuum (not timed in the jobs)',
          seconds: round(vacuumSeconds, 1),
          'rows/s': '',
          'CPU µs/row': '',
          'load (1 min)': '',
          target: '',
        },
        {
          step: `rewrap (A → B, key ${idB})`,
          seconds: round(rewrap.seconds, 1),
          'rows/s': Math.round(rate(rewrap.seconds)),
          'CPU µs/row': rewrapStep.cpuMicrosPerRow ?? '',
          'load (1 min)': rewrapStep.load,
          target: `≥ ${TARGET}`,
        },
        {
          step: '  floor: raw decrypt + encrypt + batched UPDATE',
          seconds: round(floorRewrapSeconds, 1),
          'rows/s': Math.round(rate(floorRewrapSeconds)),
          'CPU µs/row': floorRewrap.cpuMicrosPerRow ?? '',
          'load (1 min)': floorRewrap.load,
          target: `job ≥ 0.6 × floor (${round(floorRewrapSeconds / rewrap.seconds, 2)})`,
        },
        {
          step: 'verify-decrypt (10,000-row sample, B only)',
          seconds: round(verify.seconds, 1),
          'rows/s': '',
          'CPU µs/row': '',
          'load (1 min)': '',
          target: 'failed = 0',
        },
      ],
    );
    printResult({
      benchmark: 'mfa-logs',
      rows: ROWS,
      processes: PARALLEL,
      batch_size: BATCH,
      encrypt_legacy_rows_s: Math.round(rate(legacy.seconds)),
      rewrap_rows_s: Math.round(rate(rewrap.seconds)),
      floor_encrypt_rows_s: Math.round(rate(floorEncryptSeconds)),
      floor_rewrap_rows_s: Math.round(rate(floorRewrapSeconds)),
      // Job rate over floor rate: 1 means the job costs no more per row than the floor.
      encrypt_legacy_vs_floor: round(floorEncryptSeconds / legacy.seconds, 2),
      rewrap_vs_floor: round(floorRewrapSeconds / rewrap.seconds, 2),
      // The same ratios by CPU per row (node processes + the bench's PostgreSQL): what the load of
      // the minutes each step ran in moves much less. null with PORTCULLIS_BENCH_PG_URL.
      encrypt_legacy_vs_floor_by_cpu: byCpu(floorEncrypt, legacyStep),
      rewrap_vs_floor_by_cpu: byCpu(floorRewrap, rewrapStep),
      cpu_us_row: {
        encrypt_legacy: legacyStep.cpuMicrosPerRow,
        floor_encrypt: floorEncrypt.cpuMicrosPerRow,
        rewrap: rewrapStep.cpuMicrosPerRow,
        floor_rewrap: floorRewrap.cpuMicrosPerRow,
      },
      loadavg_before: loadBefore,
      load_1m_after: {
        encrypt_legacy: legacyStep.load,
        floor_encrypt: floorEncrypt.load,
        rewrap: rewrapStep.load,
        floor_rewrap: floorRewrap.load,
      },
      target_rows_s: TARGET,
      generate_s: round(generateSeconds, 1),
      verify_sample_failed: verify.result.failed,
    });
  } finally {
    await db.destroy();
    await server.dispose();
  }
}
