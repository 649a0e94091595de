// Legacy data the size of staging for the timestamp conversion: tenants, admins and N reset-log
// rows (default 1,000,000) whose text timestamps mix the formats production holds, generated
// server-side (generate_series) in 1M-row statements, so 10M rows take minutes, not hours.
//
//   DATABASE_URL=postgres://… npm run bench -- generate-legacy-data --rows 10000000
//
// The database must hold the legacy shape (an empty one is migrated up to it first).
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import knexFactory, { type Knex } from 'knex';
import { createMigrator } from '@portcullis/migrations';

export interface GenerateOptions {
  rows: number;
  tenants?: number;
  adminsPerTenant?: number;
}

const CHUNK = 1_000_000;

/**
 * One instant rendered as text the way legacy writers did, chosen by `i % 20`: 40 % ISO with
 * `Z` and milliseconds, 15 % ISO with a +02:00 offset, 20 % `YYYY-MM-DD HH:MM:SS` (UTC), 10 %
 * epoch seconds, 10 % epoch milliseconds, 5 % ISO without offset.
 */
const legacyText = (instant: string, i: string) => `case
    when ${i} % 20 < 8 then to_char(${instant} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    when ${i} % 20 < 11 then to_char((${instant} + interval '2 hours') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+02:00'
    when ${i} % 20 < 15 then to_char(${instant} at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS')
    when ${i} % 20 < 17 then floor(extract(epoch from ${instant}))::bigint::text
    when ${i} % 20 < 19 then floor(extract(epoch from ${instant}) * 1000)::bigint::text
    else to_char(${instant} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
  end`;

/** Spread over six years from 2019, whatever the row count. */
const instantOf = (i: string, count: number) =>
  `(timestamptz '2019-01-01 00:00:00+00' + (${i}::float8 / ${count}) * interval '6 years')`;

export async function generateLegacyData(
  knex: Knex,
  { rows, tenants = 100, adminsPerTenant = 20 }: GenerateOptions,
): Promise<void> {
  await knex.raw(
    `insert into tenants (id, slug, name, created_at, updated_at)
     select gen_random_uuid(), 'tenant-' || i, 'Tenant ' || i, ${legacyText(instantOf('i', tenants), 'i')}, ${legacyText(instantOf('i', tenants), '(i + 3)')}
       from generate_series(1, ?) i`,
    [tenants],
  );
  const adminColumns = (count: number) => `'$argon2id$v=19$m=19456,t=2,p=1$' || md5(i::text), false, false,
      case when i % 3 = 0 then ${legacyText(instantOf('i', count), 'i')} end,
      case when i % 50 = 0 then ${legacyText(instantOf('i', count), '(i + 1)')} when i % 50 = 1 then '' end,
      ${legacyText(instantOf('i', count), '(i + 2)')},
      case when i % 40 = 0 then ${legacyText(instantOf('i', count), '(i + 5)')} end,
      ${legacyText(instantOf('i', count), '(i + 7)')}, ${legacyText(instantOf('i', count), '(i + 9)')}`;
  const columns =
    'email, password_hash, mfa_enabled, must_change_password, mfa_enrolled_at, locked_until, password_changed_at, disabled_at, created_at, updated_at';
  await knex.raw(
    `insert into platform_admins (id, ${columns}) select gen_random_uuid(), 'platform' || i || '@example.com', ${adminColumns(10)} from generate_series(1, 10) i`,
  );
  const admins = tenants * adminsPerTenant;
  await knex.raw(
    `insert into tenant_admins (id, tenant_id, ${columns})
     select gen_random_uuid(), t.ids[1 + i % cardinality(t.ids)], 'admin' || i || '@example.com', ${adminColumns(admins)}
       from generate_series(1, ?) i, (select array_agg(id) as ids from tenants) t`,
    [admins],
  );
  for (let from = 1; from <= rows; from += CHUNK) {
    const to = Math.min(rows, from + CHUNK - 1);
    await knex.raw(
      `insert into tenant_admin_mfa_reset_logs (tenant_id, tenant_admin_id, reset_by, reason, ticket, created_at, rolled_back_at,
         previous_totp_secret, previous_mfa_enabled, previous_mfa_enrolled_at, previous_totp_last_used_step, previous_recovery_code_hashes)
       select a.tenant_ids[1 + i % cardinality(a.ids)], a.ids[1 + i % cardinality(a.ids)], a.ids[1 + (i * 7) % cardinality(a.ids)],
              'Lost phone; identity checked by support', 'SUP-' || i, ${legacyText(instantOf('i', rows), 'i')},
              case when i % 20 = 0 then ${legacyText(instantOf('i', rows), '(i / 20)')} when i % 20 = 1 then '' end,
              upper(substr(md5(i::text), 1, 32)), 'true', ${legacyText(instantOf('i', rows), '(i + 11)')}, (i * 7)::text,
              '["' || md5(i::text) || '","' || md5((i + 1)::text) || '"]'
         from generate_series(?::bigint, ?::bigint) i,
              (select array_agg(id order by id) as ids, array_agg(tenant_id order by id) as tenant_ids from tenant_admins) a`,
      [from, to],
    );
  }
  await knex.raw('analyze tenants, platform_admins, tenant_admins, tenant_admin_mfa_reset_logs');
}

/** Brings an empty database to the legacy shape (baseline and sessions table). */
export async function prepareLegacySchema(knex: Knex): Promise<void> {
  const migrator = createMigrator(knex, { backup: 'none' });
  const status = await migrator.status();
  for (const name of ['20261124000000_legacy_baseline', '20261124000100_create_sessions_table']) {
    if (status.find((migration) => migration.name === name)?.state !== 'done') await migrator.up();
  }
  const type = await knex.raw<{ rows: { data_type: string }[] }>(
    "select data_type from information_schema.columns where table_name = 'tenant_admin_mfa_reset_logs' and column_name = 'created_at'",
  );
  if (type.rows[0]?.data_type !== 'text') {
    throw new Error(
      'tenant_admin_mfa_reset_logs.created_at is not text here: the conversion already ran on this database, use a fresh one',
    );
  }
}

export default async function (): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(3),
    options: { rows: { type: 'string', default: '1000000' } },
  });
  const rows = Number(values.rows);
  const url = process.env.DATABASE_URL ?? process.env.PORTCULLIS_BENCH_PG_URL;
  if (!url || !Number.isInteger(rows) || rows < 1) {
    console.error('Usage: DATABASE_URL=postgres://… npm run bench -- generate-legacy-data [--rows 1000000]');
    process.exit(2);
  }
  const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 2 } });
  try {
    await prepareLegacySchema(knex);
    const started = performance.now();
    await generateLegacyData(knex, { rows });
    console.log(
      `Generated ${rows.toLocaleString('en-US')} reset-log rows (plus tenants and admins) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  } finally {
    await knex.destroy();
  }
}
