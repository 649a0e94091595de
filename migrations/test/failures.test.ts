// What goes wrong in real runs: values nobody can parse, a runner that dies half way, a lock
// that never comes free, two runners at once. Each time the next run must be able to finish.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  LockUnavailableError,
  RunnerLockTimeoutError,
  UnparseableTimestampsError,
  type MigrationEvent,
} from '../index.js';
import {
  CONVERSION,
  columnType,
  createTestDb,
  instants,
  seedLegacyRows,
  snapshot,
  upThrough,
  type TestDb,
} from './support.js';

let db: TestDb;

beforeEach(async () => {
  db = await createTestDb();
  await upThrough(db.migrator(), '20261124000100_create_sessions_table');
});

afterEach(() => db.close());

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(10);
}

const statusOf = async (name: string) => (await db.migrator().status()).find((migration) => migration.name === name);

test('unparseable values stop the swap with a report of each row id and raw value; once corrected, a re-run finishes', async () => {
  const { adminId } = await seedLegacyRows(db.knex, 5);
  const logIds = await db.knex('tenant_admin_mfa_reset_logs').orderBy('id').pluck<string[]>('id');
  await db.knex('tenant_admin_mfa_reset_logs').where({ id: logIds[1] }).update({ created_at: '' });
  await db.knex('tenant_admin_mfa_reset_logs').where({ id: logIds[3] }).update({ rolled_back_at: '31/12/2024' });
  await db.knex('tenant_admins').where({ id: adminId }).update({ locked_until: '2023-02-29 10:00:00' });

  const failure = await db
    .migrator()
    .latest()
    .catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(UnparseableTimestampsError);
  const report = failure as UnparseableTimestampsError;
  expect(report.total).toBe(3);
  expect(report.values).toEqual(
    expect.arrayContaining([
      { table: 'tenant_admin_mfa_reset_logs', id: logIds[1], column: 'created_at', raw: '' },
      { table: 'tenant_admin_mfa_reset_logs', id: logIds[3], column: 'rolled_back_at', raw: '31/12/2024' },
      { table: 'tenant_admins', id: adminId, column: 'locked_until', raw: '2023-02-29 10:00:00' },
    ]),
  );
  expect(report.message).toMatch(/3 legacy timestamp values in .* cannot be parsed, so no column was swapped/);
  for (const table of ['tenants', 'tenant_admins', 'tenant_admin_mfa_reset_logs']) {
    expect(await columnType(db.knex, table, 'created_at')).toEqual({ type: 'text', nullable: false });
  }
  expect((await statusOf(CONVERSION))?.state).toBe('in progress');

  // Corrections made by hand while the conversion waits: the sync trigger keeps up with them.
  await db.knex('tenant_admin_mfa_reset_logs').where({ id: logIds[1] }).update({ created_at: '2024-12-31T00:00:00Z' });
  await db
    .knex('tenant_admin_mfa_reset_logs')
    .where({ id: logIds[3] })
    .update({ rolled_back_at: '2024-12-31 00:00:00' });
  await db.knex('tenant_admins').where({ id: adminId }).update({ locked_until: '2023-02-28 10:00:00' });
  await db.migrator().latest();
  expect((await statusOf(CONVERSION))?.state).toBe('done');
  expect((await instants(db.knex, 'tenant_admin_mfa_reset_logs', 'created_at'))[1]).toBe('2024-12-31T00:00:00.000000Z');
});

test('down after a stopped conversion removes what it added and leaves the legacy columns as they were', async () => {
  await seedLegacyRows(db.knex, 5);
  await db.knex('tenants').update({ updated_at: 'soon' });
  const before = await snapshot(db.knex);
  await expect(db.migrator().latest()).rejects.toBeInstanceOf(UnparseableTimestampsError);

  expect(await db.migrator().down()).toBe(CONVERSION);
  expect(await snapshot(db.knex)).toEqual(before);
  expect(await columnType(db.knex, 'tenants', 'updated_at_tz')).toBeUndefined();
  expect((await statusOf(CONVERSION))?.state).toBe('pending');
});

test('a runner that dies in the middle of the backfill leaves a state the next run finishes from where it stopped', async () => {
  const { tenantId, adminId } = await seedLegacyRows(db.knex, 0);
  await db.knex.raw(
    `insert into tenant_admin_mfa_reset_logs (tenant_id, tenant_admin_id, reset_by, reason, created_at)
     select ?, ?, ?, 'seed', (1704067200 + i)::text from generate_series(1, 5000) i`,
    [tenantId, adminId, adminId],
  );
  let batches = 0;
  const crashing = db.migrator({
    batchTargetMs: 1,
    onEvent: (event) => {
      if (event.type === 'batch' && event.table === 'tenant_admin_mfa_reset_logs' && ++batches === 3)
        throw new Error('killed');
    },
  });
  await expect(crashing.latest()).rejects.toThrow('killed');
  // What a killed process would also leave behind: knex's own lock row set.
  await db.knex('knex_migrations_lock').update({ is_locked: 1 });
  const status = await statusOf(CONVERSION);
  expect(status?.state).toBe('in progress');
  expect(status?.progress.join('\n')).toMatch(/tenant_admin_mfa_reset_logs: expanded \([\d,]+ rows done\)/);

  const resumed: MigrationEvent[] = [];
  await db.migrator({ onEvent: (event) => void resumed.push(event) }).latest();
  const firstBatch = resumed.find(
    (event): event is Extract<MigrationEvent, { type: 'batch' }> =>
      event.type === 'batch' && event.table === 'tenant_admin_mfa_reset_logs',
  );
  expect(firstBatch!.rowsDone).toBeGreaterThan(firstBatch!.batchRows); // continued from the saved cursor
  const created = await instants(db.knex, 'tenant_admin_mfa_reset_logs', 'created_at');
  expect(created).toEqual(
    created.map((_, index) => new Date((1704067200 + index + 1) * 1000).toISOString().replace('Z', '000Z')),
  );
});

test('a swap whose lock stays taken fails after the retry window naming the blocker, and a re-run finishes', async () => {
  await seedLegacyRows(db.knex, 5);
  const blocker = new pg.Client({ connectionString: db.url, application_name: 'long report' });
  await blocker.connect();
  let holding = false;
  const migrator = db.migrator({
    lockTimeoutMs: 50,
    lockRetryForMs: 600,
    onEvent: async (event) => {
      if (event.type === 'step' && event.step === 'swap' && event.table === 'tenants' && !holding) {
        holding = true;
        await blocker.query('begin');
        await blocker.query('select count(*) from tenants'); // ACCESS SHARE, held until commit
      }
    },
  });
  const failure = await migrator.latest().catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(LockUnavailableError);
  expect((failure as Error).message).toMatch(
    /Could not lock tenants for swap .*held by pid \d+ \(long report\) idle in transaction/,
  );
  await blocker.query('commit');
  await blocker.end();

  await db.migrator().latest();
  expect(await columnType(db.knex, 'tenants', 'created_at')).toEqual({
    type: 'timestamp with time zone',
    nullable: false,
  });
});

test('two runners at once: the second waits for the first and then finds nothing left to do', async () => {
  await seedLegacyRows(db.knex, 5);
  let release!: () => void;
  const paused = new Promise<void>((resolve) => (release = resolve));
  let firstPaused = false;
  const first = db.migrator({
    onEvent: async (event) => {
      if (event.type === 'step' && event.step === 'backfill' && event.table === 'tenants') {
        firstPaused = true;
        await paused;
      }
    },
  });
  const firstRun = first.latest();
  await until(() => firstPaused);

  const waits: MigrationEvent[] = [];
  let secondDone = false;
  const secondRun = db
    .migrator({ onEvent: (event) => void (event.type === 'runner-lock-wait' && waits.push(event)) })
    .latest()
    .finally(() => (secondDone = true));
  await until(() => waits.length > 0);
  expect(waits[0]).toMatchObject({
    type: 'runner-lock-wait',
    holder: expect.stringMatching(/^pid \d+ "portcullis migrate \(runner lock\)"/),
  });
  await sleep(200);
  expect(secondDone).toBe(false);

  release();
  expect(await firstRun).toContain(CONVERSION);
  expect(await secondRun).toEqual([]);
});

test('a runner that cannot get the runner lock within its wait gives up with a clear error', async () => {
  let release!: () => void;
  const paused = new Promise<void>((resolve) => (release = resolve));
  let firstPaused = false;
  const firstRun = db
    .migrator({
      onEvent: async (event) => {
        if (event.type === 'migration-start') {
          firstPaused = true;
          await paused;
        }
      },
    })
    .latest();
  await until(() => firstPaused);

  const failure = await db
    .migrator({ runnerLockWaitMs: 200 })
    .latest()
    .catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(RunnerLockTimeoutError);
  expect((failure as Error).message).toMatch(
    /^Another migration runner \(pid \d+ .*\) kept the migration lock for more than 0 s: let it finish, then run again$/,
  );
  release();
  await firstRun;
});
