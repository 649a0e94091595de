// 20261203000000_operational_job_runs: the table the scheduled jobs record into, with the index
// the /metrics read uses and the outcome check; `latest` runs it without --contract, and down
// removes it.
import { createTestDb, type TestDb } from './support.js';

const NAME = '20261203000000_operational_job_runs';
let db: TestDb;

beforeAll(async () => {
  db = await createTestDb();
});
afterAll(() => db.close());

const exists = async () =>
  (await db.knex.raw<{ rows: { t: string | null }[] }>("select to_regclass('operational_job_runs')::text as t"))
    .rows[0]!.t !== null;

test('latest creates the table before the contract gate, with comments, the outcome check and the newest-run index', async () => {
  await db.migrator().latest();
  expect((await db.migrator().status()).find((migration) => migration.name === NAME)?.state).toBe('done');
  expect(await exists()).toBe(true);
  const comment = await db.knex.raw<{ rows: { c: string }[] }>(
    "select obj_description('operational_job_runs'::regclass) as c",
  );
  expect(comment.rows[0]!.c).toMatch(/scheduled job/);
  const row = {
    job: 'sessions-cleanup',
    started_at: new Date(),
    finished_at: new Date(),
    figures: { rows_removed: 3 },
  };
  await db.knex('operational_job_runs').insert({ ...row, outcome: 'success' });
  await expect(db.knex('operational_job_runs').insert({ ...row, outcome: 'maybe' })).rejects.toMatchObject({
    constraint: 'operational_job_runs_outcome',
  });
  // On a table this small the planner would scan it; what matters is that the index fits the read.
  const plan = await db.knex.transaction(async (trx) => {
    await trx.raw('set local enable_seqscan = off');
    return trx.raw<{ rows: { 'QUERY PLAN': string }[] }>(
      'explain select distinct on (job, outcome) * from operational_job_runs order by job, outcome, finished_at desc',
    );
  });
  expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Index Scan using operational_job_runs_latest/);
});

test('down drops it and up creates it again', async () => {
  // Later migrations are reverted first, down to this one.
  const reverted: string[] = [];
  for (let step = 0; step < 10 && reverted.at(-1) !== NAME; step++)
    reverted.push((await db.migrator().down()) as string);
  expect(reverted.at(-1)).toBe(NAME);
  expect(await exists()).toBe(false);
  expect(await db.migrator().up()).toBe(NAME);
  expect(await exists()).toBe(true);
});
