// The path a scheduled job's result takes to Prometheus, with the compiled entry points the
// chart runs: the CLI records a run in operational_job_runs, and auth-session's /metrics shows
// it under the names the alert rules use (docs/session-store.md, "Job results in Prometheus").
import { randomBytes } from 'node:crypto';
import createKnex from 'knex';
import {
  productionBackends,
  runEntryPoint,
  startCompiledService,
  type ProductionBackends,
} from '../support/compiled-service.js';

let backends: ProductionBackends;
beforeAll(async () => {
  backends = await productionBackends(); // migrated: the sessions table and operational_job_runs
});
afterAll(async () => backends?.close());

async function scrape(env: Record<string, string>): Promise<string> {
  const service = await startCompiledService('auth-session', env);
  try {
    return await (await fetch(`${service.adminUrl}/metrics`)).text();
  } finally {
    expect(await service.stop()).toBe(0);
  }
}
/** The value of the series with `name` whose labels include all of `labels`. */
const sample = (text: string, name: string, labels: Record<string, string>) =>
  text
    .split('\n')
    .filter(
      (line) =>
        line.startsWith(`${name}{`) &&
        Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)),
    )
    .map((line) => Number(line.split(' ').at(-1)));

it('a cleanup run of the compiled CLI shows on the compiled auth-session /metrics where the knex store is in use', async () => {
  const env = { ...backends.env, SESSION_STORE_DRIVER: 'knex' };
  const db = createKnex({ client: 'pg', connection: backends.env.DATABASE_URL });
  try {
    const now = Date.now();
    const row = (expiresAt: number) => ({
      hash: randomBytes(32).toString('hex'),
      user_id: null,
      data: '{}',
      expires_at: expiresAt,
      created_at: now,
      updated_at: now,
    });
    await db.batchInsert(
      'sessions',
      [...Array.from({ length: 120 }, (_, i) => row(now - 1000 - i)), row(now + 3_600_000)],
      200,
    );
  } finally {
    await db.destroy();
  }
  const before = Date.now() / 1000;
  const cleanup = await runEntryPoint('cli', ['sessions', 'cleanup', '--batch-size', '50', '--json'], env);
  expect(cleanup.code).toBe(0);
  expect(JSON.parse(cleanup.stdout)).toMatchObject({ outcome: 'success', rows_removed: 120, batches: 3 });

  const metrics = await scrape(env);
  expect(
    sample(metrics, 'portcullis_session_cleanup_rows_removed', { table: 'sessions', service: 'auth-session' }),
  ).toEqual([120]);
  const [finished] = sample(metrics, 'portcullis_job_last_run_timestamp_seconds', {
    job: 'sessions-cleanup',
    outcome: 'success',
  });
  expect(finished).toBeGreaterThanOrEqual(Math.floor(before));
  // Not dual: no verify verdict is exported, whatever the table holds.
  expect(metrics).not.toContain('portcullis_sessions_verify_ok{');
  // A deployment on Redis exports no cleanup series, so the staleness alert cannot fire there.
  expect(await scrape(backends.env)).not.toContain('sessions-cleanup');
}, 60_000);

it('a verify --record verdict of the compiled CLI shows on the compiled auth-session /metrics while dual', async () => {
  // The one live session of the first test is in knex only: the secondary lacks it, so no-go.
  const env = {
    ...backends.env,
    SESSION_STORE_DRIVER: 'dual',
    SESSION_STORE_PRIMARY: 'knex',
    SESSION_STORE_SECONDARY: 'redis',
    SESSION_DUAL_FALLBACK_ON_MISS: 'false',
  };
  const verify = await runEntryPoint('cli', ['sessions', 'verify', '--record'], env);
  expect(verify.code).toBe(3);
  const metrics = await scrape(env);
  expect(sample(metrics, 'portcullis_sessions_verify_ok', { primary: 'knex', secondary: 'redis' })).toEqual([0]);
  expect(sample(metrics, 'portcullis_sessions_verify_mismatches', { kind: 'missing_in_secondary' })).toEqual([1]);
  expect(
    sample(metrics, 'portcullis_job_last_run_timestamp_seconds', { job: 'sessions-verify', outcome: 'no_go' }),
  ).toHaveLength(1);
}, 60_000);
