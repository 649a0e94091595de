// The backup the runner takes before a conversion starts: a logical copy of the affected tables
// in a schema of their own (default), or a pg_dump file. Either way it prints how to restore.
// In production the RDS snapshot comes first (docs/db-migration.md); this copy is the quick
// way back to the original text after the contract migration has dropped the legacy columns.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Knex } from 'knex';
import { boundedTransaction } from './bounded.js';
import { MigrationError } from './errors.js';
import type { TimestampTable } from './naming.js';
import { ident } from './sql-functions.js';
import type { MigrationContext } from './types.js';

export async function takeBackup(
  knex: Knex,
  tables: TimestampTable[],
  context: MigrationContext,
): Promise<string | null> {
  if (context.backup === 'none') {
    await context.report({ type: 'backup-skipped', reason: 'backup mode none' });
    return null;
  }
  // A fresh database (development, tests, a new install) has nothing to lose: no backup schema to clutter it.
  if (!(await anyRows(knex, tables))) {
    await context.report({ type: 'backup-skipped', reason: 'the tables are empty' });
    return null;
  }
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const names = tables.map((spec) => spec.table);
  let location: string;
  let restore: string;
  if (context.backup === 'schema') {
    location = await freeName(`portcullis_backup_${stamp}`, '_', (name) => schemaExists(knex, name));
    await copyToSchema(knex, location, names, context);
    restore = `psql "$DATABASE_URL" --single-transaction -v ON_ERROR_STOP=1 <<'SQL'\n${restoreSql(location, tables)}\nSQL`;
  } else {
    const base = resolve(join(context.backupDirectory, `portcullis-backup-${stamp}`));
    location = `${await freeName(base, '-', (name) => Promise.resolve(existsSync(`${name}.dump`)))}.dump`;
    await pgDump(context, location, names);
    // Table by table, parents first, in one transaction: a data-only restore of the whole file
    // would load children before their parents and trip the foreign keys.
    restore = [
      `{ echo 'truncate ${names.join(', ')};'`,
      `  for table in ${names.join(' ')}; do pg_restore --data-only --table="$table" --file=- ${shellQuote(location)}; done`,
      `} | psql "$DATABASE_URL" --single-transaction -v ON_ERROR_STOP=1`,
    ].join('\n');
  }
  await context.report({ type: 'backup', location, restore });
  return location;
}

/**
 * `base`, or `base` + separator + 2, 3…: an earlier backup of the same second (a down and an up
 * in quick succession) must not be overwritten or block the run.
 */
async function freeName(base: string, separator: string, taken: (name: string) => Promise<boolean>): Promise<string> {
  let name = base;
  for (let n = 2; await taken(name); n++) name = `${base}${separator}${n}`;
  return name;
}

async function schemaExists(knex: Knex, name: string): Promise<boolean> {
  const result = await knex.raw<{ rows: unknown[] }>('select 1 from pg_namespace where nspname = ?', [name]);
  return result.rows.length > 0;
}

async function anyRows(knex: Knex, tables: TimestampTable[]): Promise<boolean> {
  const exists = tables.map((spec) => `exists (select 1 from ${ident(spec.table)})`).join(' or ');
  const result = await knex.raw<{ rows: { any: boolean }[] }>(`select ${exists} as any`);
  return result.rows[0]?.any === true;
}

const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/** One REPEATABLE READ transaction, so the copies are one consistent snapshot; writers are not blocked. */
async function copyToSchema(knex: Knex, schema: string, tables: string[], context: MigrationContext): Promise<void> {
  await boundedTransaction(knex, context, { step: 'backup', table: tables[0] ?? '' }, async (trx) => {
    await trx.raw('set transaction isolation level repeatable read');
    await trx.raw(`create schema ${ident(schema)}`);
    await trx.raw(
      `comment on schema ${ident(schema)} is 'Copy of the tables taken before the timestamp conversion (migration 20261124000200); drop it once the contract migration is verified'`,
    );
    for (const table of tables) {
      await trx.raw(`create table ${ident(schema)}.${ident(table)} as table ${ident(table)}`);
    }
  });
}

/**
 * Puts the original text back from a backup schema, once the schema is back in its legacy
 * shape (every migration from 20261124000200 on rolled back). Only the converted columns of
 * rows that existed at backup time change; rows written since keep what the rollback wrote.
 */
export function restoreSql(schema: string, tables: TimestampTable[]): string {
  return tables
    .map((spec) => {
      const set = spec.columns.map(({ name }) => `${ident(name)} = b.${ident(name)}`).join(', ');
      return `update ${ident(spec.table)} as t set ${set} from ${ident(schema)}.${ident(spec.table)} as b where t.id = b.id;`;
    })
    .join('\n');
}

/** pg_dump in custom format; the password goes through PGPASSWORD, never the command line. */
async function pgDump(context: MigrationContext, file: string, tables: string[]): Promise<void> {
  if (!context.url)
    throw new MigrationError(
      'A pg_dump backup needs the database URL: give the migrator `url`, or use --backup schema',
    );
  const url = new URL(context.url);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const args = [
    '--format=custom',
    `--file=${file}`,
    ...tables.map((table) => `--table=public.${table}`),
    `--dbname=${url.toString()}`,
  ];
  const child = spawn(context.pgDumpPath, args, {
    env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('close', done);
  }).catch((error: unknown) => {
    throw new MigrationError(
      `Could not run ${context.pgDumpPath} (${error instanceof Error ? error.message : String(error)}): install the PostgreSQL client or use --backup schema`,
    );
  });
  if (code !== 0) {
    throw new MigrationError(
      `pg_dump exited with ${code} (${stderr.trim().split('\n').pop() ?? ''}): fix that or use --backup schema; nothing was converted`,
    );
  }
}
