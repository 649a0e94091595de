// up → down → up on real PostgreSQL: the conversion gives the right instants, the way back
// gives back the original bytes, and the way back after the contract goes through the backup.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MigrationEvent } from '../index.js';
import {
  CONTRACT,
  CONVERSION,
  columnType,
  createTestDb,
  downThrough,
  instants,
  legacyForms,
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

/** Runs the restore instructions exactly as the runner printed them. */
const runPrinted = (script: string) =>
  promisify(execFile)('sh', ['-c', script], { env: { ...process.env, DATABASE_URL: db.url } });

const backupOf = (events: MigrationEvent[]) =>
  events.find((event): event is Extract<MigrationEvent, { type: 'backup' }> => event.type === 'backup');

test('latest turns every legacy text timestamp into timestamptz under its own name, keeping nullability and the text beside it', async () => {
  await seedLegacyRows(db.knex);
  await db.migrator().latest();

  for (const [table, column, nullable] of [
    ['tenants', 'created_at', false],
    ['tenant_admins', 'locked_until', true],
    ['platform_admins', 'updated_at', false],
    ['tenant_admin_mfa_reset_logs', 'rolled_back_at', true],
  ] as const) {
    expect(await columnType(db.knex, table, column)).toEqual({ type: 'timestamp with time zone', nullable });
    expect(await columnType(db.knex, table, `${column}_legacy`)).toEqual({ type: 'text', nullable: true });
  }
  const created = await instants(db.knex, 'tenant_admin_mfa_reset_logs', 'created_at');
  expect(created).toEqual(created.map((_, index) => legacyForms[index % legacyForms.length]!.instant));
  const rolledBack = await instants(db.knex, 'tenant_admin_mfa_reset_logs', 'rolled_back_at');
  const legacy = await db
    .knex('tenant_admin_mfa_reset_logs')
    .orderBy('id')
    .pluck<(string | null)[]>('rolled_back_at_legacy');
  legacy.forEach((raw, index) => {
    const form = legacyForms.find((candidate) => candidate.raw === raw);
    expect(rolledBack[index]).toBe(form ? form.instant : null); // '', '  ' and NULL mean no value
  });
});

test('up → down → up leaves identical data, and down gives back the original strings byte for byte', async () => {
  await seedLegacyRows(db.knex);
  const original = await snapshot(db.knex);

  await db.migrator().latest();
  const converted = await snapshot(db.knex);
  await downThrough(db.migrator(), CONVERSION);
  expect(await snapshot(db.knex)).toEqual(original);
  expect(await db.knex.raw("select to_regclass('portcullis_timestamp_conversion') as state")).toMatchObject({
    rows: [{ state: null }],
  });

  // Usually within the same second as the first backup, whose name must not block this one.
  await db.migrator().latest();
  expect(await snapshot(db.knex)).toEqual(converted);
  const backups = db.events.filter((event) => event.type === 'backup');
  expect(backups).toHaveLength(2);
  expect(new Set(backups.map((event) => event.location)).size).toBe(2);
});

test('down writes ISO 8601 UTC text for rows written or changed after the swap and original bytes for the rest', async () => {
  const { tenantId, adminId } = await seedLegacyRows(db.knex, 3);
  await db.migrator().latest();
  // What the application does after the swap: it sets only the timestamptz columns.
  const [{ id: newId }] = await db
    .knex('tenant_admin_mfa_reset_logs')
    .insert({
      tenant_id: tenantId,
      tenant_admin_id: adminId,
      reset_by: adminId,
      reason: 'new',
      created_at: new Date('2026-11-24T10:00:00.123Z'),
    })
    .returning('id');
  const oldRows = await db.knex('tenant_admin_mfa_reset_logs').orderBy('id').limit(2).pluck<string[]>('id');
  await db
    .knex('tenant_admin_mfa_reset_logs')
    .where({ id: oldRows[0] })
    .update({ rolled_back_at: new Date('2026-11-25T08:00:00Z') });

  await downThrough(db.migrator(), CONVERSION);
  const rows = await db.knex('tenant_admin_mfa_reset_logs').orderBy('id').select('id', 'created_at', 'rolled_back_at');
  expect(rows.find((row) => row.id === newId)).toMatchObject({
    created_at: '2026-11-24T10:00:00.123000Z',
    rolled_back_at: null,
  });
  expect(rows.find((row) => row.id === oldRows[0])).toMatchObject({
    created_at: legacyForms[0]!.raw,
    rolled_back_at: '2026-11-25T08:00:00.000000Z',
  });
  expect(rows.find((row) => row.id === oldRows[1])).toMatchObject({
    created_at: legacyForms[1]!.raw,
    rolled_back_at: legacyForms[1]!.raw,
  });
  expect(await columnType(db.knex, 'tenant_admin_mfa_reset_logs', 'created_at')).toEqual({
    type: 'text',
    nullable: false,
  });
});

test('latest stops before the contract migration; with contract the legacy columns go and the backup schema restores the original text', async () => {
  await seedLegacyRows(db.knex);
  const original = await snapshot(db.knex);
  const migrator = db.migrator();
  await migrator.latest();
  expect((await migrator.status()).find((migration) => migration.name === CONTRACT)?.state).toBe('needs --contract');
  expect(db.events).toContainEqual({ type: 'gated', name: CONTRACT });
  const backup = backupOf(db.events);
  expect(backup?.location).toMatch(/^portcullis_backup_\d{14}(_\d+)?$/);

  await migrator.latest({ contract: true });
  expect(await columnType(db.knex, 'tenants', 'created_at_legacy')).toBeUndefined();

  await downThrough(migrator, CONVERSION);
  expect(await snapshot(db.knex)).not.toEqual(original); // every value is ISO text now
  await runPrinted(backup!.restore);
  expect(await snapshot(db.knex)).toEqual(original);
});

test('a pg_dump backup restores the tables as they were before the conversion, after the contract', async () => {
  await seedLegacyRows(db.knex);
  const original = await snapshot(db.knex);
  const directory = await mkdtemp(join(tmpdir(), 'portcullis-backup-'));
  try {
    const migrator = db.migrator({ backup: 'pg_dump', backupDirectory: directory });
    await migrator.latest({ contract: true });
    await downThrough(migrator, CONVERSION);
    const backup = backupOf(db.events);
    expect(backup?.location).toMatch(/portcullis-backup-\d{14}(-\d+)?\.dump$/);
    await runPrinted(backup!.restore);
    expect(await snapshot(db.knex)).toEqual(original);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});
