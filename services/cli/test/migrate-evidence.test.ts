// `portcullis migrate plan --evidence DIR`: the staging timing estimate and the batch rates the
// plan measured, on record as JSON, with the database named but never its credentials.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { testPostgres, type TestDatabase } from '../../../test/support/index.js';
import { cli } from './sessions-support.js';

let database: TestDatabase;
let work: string;
beforeAll(async () => {
  database = await testPostgres();
  work = mkdtempSync(join(tmpdir(), 'portcullis-plan-'));
});
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await database.drop();
});

it('records each step, the measured rows/s and the total estimate, without the password', async () => {
  const env = { DATABASE_URL: database.url };
  // The legacy baseline with rows whose text timestamps the next migration converts.
  expect((await cli(env, 'migrate', 'up')).code).toBe(0);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(
      "insert into tenants (id, slug, name, created_at, updated_at) select gen_random_uuid(), 't' || g, 'T', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z' from generate_series(1, 500) g",
    );
  } finally {
    await client.end();
  }

  const dir = join(work, 'evidence');
  const run = await cli(env, 'migrate', 'plan', '--evidence', dir);
  expect(run.code).toBe(0);
  const [file] = readdirSync(dir);
  expect(run.stdout).toContain(`Evidence: ${join(dir, file!)}`);
  const text = readFileSync(join(dir, file!), 'utf8');
  const evidence = JSON.parse(text) as {
    database: string;
    steps: { migration: string; step: string; seconds: number }[];
    measured_batch_rates: {
      migration: string;
      step: string;
      rows: number;
      rows_per_second: number;
      sample_rows: number;
    }[];
    estimated_total_seconds: number;
    migrations: string[];
  };
  expect(evidence.database).toBe(`${new URL(database.url).host}/${database.database}`);
  expect(text).not.toContain(new URL(database.url).password || 'no-password-in-url');
  expect(evidence.migrations).toContain('20261124000200_timestamps_to_timestamptz');
  expect(evidence.steps.map((step) => step.step)).toEqual(
    expect.arrayContaining(['expand', 'backfill', 'validate', 'swap']),
  );
  const tenants = evidence.measured_batch_rates.find((rate) => rate.step === 'backfill' && rate.rows === 500);
  expect(tenants).toMatchObject({ migration: '20261124000200_timestamps_to_timestamptz' });
  expect(tenants!.rows_per_second).toBeGreaterThan(0);
  expect(tenants!.sample_rows).toBeGreaterThan(0);
  expect(evidence.estimated_total_seconds).toBe(
    Math.round(evidence.steps.reduce((total, step) => total + step.seconds, 0)),
  );
}, 60_000);
