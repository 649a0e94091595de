// `plan` (the dry run) measures and estimates without changing anything; `status` tells what is
// done, what is pending and what waits for --contract.
import { CONTRACT, CONVERSION, createTestDb, seedLegacyRows, snapshot, upThrough, type TestDb } from './support.js';

let db: TestDb;

beforeAll(async () => {
  db = await createTestDb();
  await upThrough(db.migrator(), '20261124000100_create_sessions_table');
  const { tenantId, adminId } = await seedLegacyRows(db.knex, 0);
  await db.knex.raw(
    `insert into tenant_admin_mfa_reset_logs (tenant_id, tenant_admin_id, reset_by, reason, created_at)
     select ?, ?, ?, 'seed', case when i = 7 then 'last tuesday' else (1704067200 + i)::text end from generate_series(1, 3000) i`,
    [tenantId, adminId, adminId],
  );
});

afterAll(() => db.close());

const schemas = async () =>
  (
    await db.knex.raw<{ rows: { nspname: string }[] }>(
      "select nspname from pg_namespace where nspname like 'portcullis_backup_%'",
    )
  ).rows;

test('plan estimates the conversion from row counts and a measured batch, and changes nothing', async () => {
  const before = await snapshot(db.knex);
  const statusBefore = await db.migrator().status();

  const planned = await db.migrator().plan();

  const conversion = planned.find((migration) => migration.name === CONVERSION);
  const backfill = conversion?.items.find(
    (item) => item.step === 'backfill' && item.detail.startsWith('tenant_admin_mfa_reset_logs'),
  );
  expect(backfill?.detail).toMatch(
    /^tenant_admin_mfa_reset_logs: 3,000 rows at [\d,]+ rows\/s \(measured on 3000 rows\)$/,
  );
  expect(backfill?.seconds).toBeGreaterThan(0);
  expect(conversion?.items[0]).toMatchObject({
    step: 'backup',
    detail: expect.stringMatching(/^copy to a backup schema of 3,\d{3} rows$/),
  });
  const validate = conversion?.items.find(
    (item) => item.step === 'validate' && item.detail.startsWith('tenant_admin_mfa_reset_logs'),
  );
  expect(validate?.detail).toMatch(/1 of 3000 sampled rows hold values that cannot be parsed: the run would stop here/);
  expect(planned.map((migration) => migration.name)).not.toContain(CONTRACT);

  expect(await snapshot(db.knex)).toEqual(before);
  expect(await db.migrator().status()).toEqual(statusBefore);
  expect(await schemas()).toEqual([]);
  expect((await db.knex.raw("select to_regproc('portcullis_parse_legacy_timestamp') as parser")).rows).toEqual([
    { parser: null },
  ]);
});

test('plan with contract includes the contract migration', async () => {
  const planned = await db.migrator().plan({ contract: true });
  expect(planned.at(-1)?.name).toBe(CONTRACT);
});

test('status lists every migration in order with its state, and the contract one as needing --contract', async () => {
  const status = await db.migrator().status();
  expect(status[0]).toMatchObject({ name: '20261124000000_legacy_baseline', state: 'done', ranAt: expect.any(Date) });
  expect(status.find((migration) => migration.name === CONVERSION)).toMatchObject({ state: 'pending', progress: [] });
  expect(status.find((migration) => migration.name === CONTRACT)?.state).toBe('needs --contract');
});
