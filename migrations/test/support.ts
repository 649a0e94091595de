// Shared by the migration tests: a migrated-to-baseline database, legacy rows in every format
// the parser accepts, and whole-table snapshots to compare before and after.
import { randomUUID } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { createMigrator, type MigrationEvent, type Migrator, type MigratorOptions } from '../index.js';
import { testPostgres } from '../../test/support/index.js';

export const CONVERSION = '20261124000200_timestamps_to_timestamptz';
export const CONTRACT = '20261203000200_drop_legacy_timestamps';
export const TABLES = ['tenants', 'platform_admins', 'tenant_admins', 'tenant_admin_mfa_reset_logs'] as const;

export interface TestDb {
  url: string;
  knex: Knex;
  /** A migrator on this database; events are collected into `events` too. */
  migrator(options?: Omit<MigratorOptions, 'url'>): Migrator;
  events: MigrationEvent[];
  close(): Promise<void>;
}

export async function createTestDb(): Promise<TestDb> {
  const database = await testPostgres();
  // knex's own warnings would repeat the failures these tests cause on purpose.
  const knex = knexFactory({
    client: 'pg',
    connection: database.url,
    pool: { min: 0, max: 4 },
    log: { warn: () => undefined },
  });
  const events: MigrationEvent[] = [];
  return {
    url: database.url,
    knex,
    events,
    migrator: (options = {}) =>
      createMigrator(knex, {
        url: database.url,
        ...options,
        onEvent: async (event) => {
          events.push(event);
          await options.onEvent?.(event);
        },
      }),
    close: async () => {
      await knex.destroy();
      await database.drop();
    },
  };
}

/** Runs migrations up to and including `name`. */
export async function upThrough(migrator: Migrator, name: string): Promise<void> {
  for (;;) {
    const status = await migrator.status();
    if (status.find((migration) => migration.name === name)?.state === 'done') return;
    if (!(await migrator.up({ contract: true }))) throw new Error(`${name} never ran`);
  }
}

/** Rolls back until `name` is no longer applied. */
export async function downThrough(migrator: Migrator, name: string): Promise<void> {
  for (;;) {
    const status = await migrator.status();
    if (status.find((migration) => migration.name === name)?.state !== 'done') return;
    await migrator.down();
  }
}

const iso = (epochMs: number) => new Date(epochMs).toISOString().replace('Z', '000Z');

/** Legacy text and the instant it denotes (ISO 8601 UTC with microseconds), zone UTC. */
export const legacyForms: { raw: string; instant: string }[] = [
  { raw: '2024-03-01T12:34:56Z', instant: '2024-03-01T12:34:56.000000Z' },
  { raw: '2024-03-01T12:34:56.789Z', instant: '2024-03-01T12:34:56.789000Z' },
  { raw: '2024-03-01T12:34:56.123456+02:00', instant: '2024-03-01T10:34:56.123456Z' },
  { raw: '2024-03-01T12:34:56-0800', instant: '2024-03-01T20:34:56.000000Z' },
  { raw: '2024-03-01T12:34:56+05', instant: '2024-03-01T07:34:56.000000Z' },
  { raw: '2024-03-01T12:34:56', instant: '2024-03-01T12:34:56.000000Z' },
  { raw: '2024-03-01 12:34:56', instant: '2024-03-01T12:34:56.000000Z' },
  { raw: '2024-03-01 12:34:56.5', instant: '2024-03-01T12:34:56.500000Z' },
  { raw: '1709296496', instant: iso(1709296496_000) },
  { raw: '1709296496.25', instant: iso(1709296496_250) },
  { raw: '1709296496789', instant: iso(1709296496_789) },
  { raw: ' 2024-03-01T12:34:56z\n', instant: '2024-03-01T12:34:56.000000Z' },
];

/** What a nullable legacy column may also hold: both mean "no value". */
export const emptyForms = ['', '  ', null];

const pick = <T>(list: readonly T[], index: number): T => list[index % list.length]!;

export interface Seeded {
  tenantId: string;
  adminId: string;
}

/** Rows in every legacy form in all four tables; `logs` reset-log rows. */
export async function seedLegacyRows(knex: Knex, logs = 40): Promise<Seeded> {
  const tenantId = randomUUID();
  const adminId = randomUUID();
  const nullableValues = [...legacyForms.map((form) => form.raw), ...emptyForms];
  await knex('tenants').insert([
    {
      id: tenantId,
      slug: 'acme',
      name: 'Acme',
      created_at: pick(legacyForms, 0).raw,
      updated_at: pick(legacyForms, 9).raw,
    },
    {
      id: randomUUID(),
      slug: 'globex',
      name: 'Globex',
      created_at: pick(legacyForms, 8).raw,
      updated_at: pick(legacyForms, 11).raw,
    },
  ]);
  const admin = (index: number) => ({
    email: `admin${index}@example.com`,
    password_hash: '$argon2id$stub',
    mfa_enrolled_at: pick(nullableValues, index),
    locked_until: pick(nullableValues, index + 3),
    password_changed_at: pick(nullableValues, index + 6),
    disabled_at: pick(nullableValues, index + 9),
    created_at: pick(legacyForms, index).raw,
    updated_at: pick(legacyForms, index + 5).raw,
  });
  await knex('platform_admins').insert(
    Array.from({ length: 15 }, (_, index) => ({ id: randomUUID(), ...admin(index) })),
  );
  await knex('tenant_admins').insert(
    Array.from({ length: 15 }, (_, index) => ({
      id: index === 0 ? adminId : randomUUID(),
      tenant_id: tenantId,
      ...admin(index + 1),
    })),
  );
  if (logs === 0) return { tenantId, adminId };
  await knex('tenant_admin_mfa_reset_logs').insert(
    Array.from({ length: logs }, (_, index) => ({
      tenant_id: tenantId,
      tenant_admin_id: adminId,
      reset_by: adminId,
      reason: `lost phone ${index}`,
      created_at: pick(legacyForms, index).raw,
      rolled_back_at: pick(nullableValues, index),
    })),
  );
  return { tenantId, adminId };
}

/** Every row of the four tables as JSON, keyed by column name (column order does not matter). */
export async function snapshot(knex: Knex): Promise<Record<string, unknown[]>> {
  const entries = await Promise.all(
    TABLES.map(async (table) => {
      const result = await knex.raw<{ rows: { row: unknown }[] }>(
        `select to_jsonb(t) as row from ${table} t order by id`,
      );
      return [table, result.rows.map((row) => row.row)] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** `column` of every row rendered as ISO 8601 UTC with microseconds (NULL stays null). */
export async function instants(knex: Knex, table: string, column: string): Promise<(string | null)[]> {
  const result = await knex.raw<{ rows: { value: string | null }[] }>(
    `select to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as value from ${table} order by id`,
  );
  return result.rows.map((row) => row.value);
}

export async function columnType(
  knex: Knex,
  table: string,
  column: string,
): Promise<{ type: string; nullable: boolean } | undefined> {
  const result = await knex.raw<{ rows: { data_type: string; is_nullable: string }[] }>(
    'select data_type, is_nullable from information_schema.columns where table_schema = current_schema() and table_name = ? and column_name = ?',
    [table, column],
  );
  const row = result.rows[0];
  return row && { type: row.data_type, nullable: row.is_nullable === 'YES' };
}
