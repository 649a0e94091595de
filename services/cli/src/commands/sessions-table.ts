// `portcullis sessions create-table`: the knex session table where the migration runner does
// not reach: a separate SESSION_DATABASE_URL, or MySQL/MariaDB (the runner is PostgreSQL on
// DATABASE_URL only). The same DDL as the migration (libs/session-store/src/knex-schema.ts).
import type { Command } from 'commander';
import { createDatabase } from '@portcullis/db';
import { createSessionTable, sessionTableDdl } from '@portcullis/session-store';
import { CliError, EXIT, messageOf } from '../cli-error.js';
import { readVariable } from '../env.js';
import type { CliContext } from '../program.js';

interface TableTarget {
  url: string;
  client: 'pg' | 'mysql2';
  table: string;
  where: string;
}

/** SESSION_DATABASE_URL (or DATABASE_URL), SESSION_KNEX_CLIENT and SESSION_TABLE_NAME, checked against each other. */
function readTarget(env: CliContext['env']): TableTarget {
  const client = readVariable(env, 'SESSION_KNEX_CLIENT');
  const table = readVariable(env, 'SESSION_TABLE_NAME');
  const url = env.SESSION_DATABASE_URL
    ? readVariable(env, 'SESSION_DATABASE_URL')
    : client === 'pg'
      ? readVariable(env, 'DATABASE_URL', 'docs/choosing-a-session-store.md')
      : undefined;
  if (!url)
    throw new CliError(
      'SESSION_DATABASE_URL is required with SESSION_KNEX_CLIENT=mysql2 (DATABASE_URL is PostgreSQL): set it to the mysql:// URL of the session database.',
      EXIT.usage,
    );
  const protocol = new URL(url).protocol;
  if ((client === 'pg') !== protocol.startsWith('postgres')) {
    throw new CliError(
      `SESSION_KNEX_CLIENT is ${client} but the session database URL is ${protocol}//…: set SESSION_KNEX_CLIENT to ${client === 'pg' ? 'mysql2' : 'pg'} or fix the URL.`,
      EXIT.usage,
    );
  }
  const parsed = new URL(url);
  return { url, client, table, where: `${parsed.host}${parsed.pathname}` };
}

async function createTable(context: CliContext, flags: { print?: boolean }): Promise<void> {
  if (flags.print) {
    // No connection: the dialect alone decides the DDL, so a DBA can review or apply it.
    const ddl = await sessionTableDdl(
      readVariable(context.env, 'SESSION_KNEX_CLIENT'),
      readVariable(context.env, 'SESSION_TABLE_NAME'),
    );
    context.stdout.write(`${ddl.join('\n')}\n`);
    return;
  }
  const target = readTarget(context.env);
  const db = createDatabase({ url: target.url, client: target.client, poolMax: 1 });
  try {
    if (await db.schema.hasTable(target.table)) {
      context.stdout.write(
        `Table "${target.table}" already exists in ${target.where}; nothing changed. \`portcullis sessions preflight\` checks its columns and indexes.\n`,
      );
      return;
    }
    await createSessionTable(db, target.table);
    context.stdout.write(`Created table "${target.table}" with its indexes in ${target.where} (${target.client}).\n`);
  } catch (error) {
    throw new CliError(
      `Could not create table "${target.table}" in ${target.where}: ${messageOf(error)}; check the URL and that the user may create tables.`,
      EXIT.failure,
    );
  } finally {
    await db.destroy();
  }
}

export function registerSessionTableCommand(sessions: Command, context: CliContext): void {
  sessions
    .command('create-table')
    .description(
      'Create the knex session table (SESSION_TABLE_NAME) in SESSION_DATABASE_URL, or DATABASE_URL, on PostgreSQL or MySQL/MariaDB (SESSION_KNEX_CLIENT); idempotent',
    )
    .option('--print', 'print the DDL for SESSION_KNEX_CLIENT instead of running it (no connection)')
    .action((flags: { print?: boolean }) => createTable(context, flags));
}
