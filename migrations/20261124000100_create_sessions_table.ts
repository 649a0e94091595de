// The table of the knex session store (SESSION_STORE=knex): sessions keyed by the HMAC of
// their id, indexed by admin and by expiry. It exists so deployments without Redis or DynamoDB
// can keep sessions in their own PostgreSQL or MySQL. The shape lives in
// libs/session-store/src/knex-schema.ts, shared with the store's tests.
import type { Knex } from 'knex';
import { createSessionTable } from '@portcullis/session-store';

/** SESSION_TABLE_NAME, default `sessions`: the name the knex store is configured with. */
export function sessionTableName(env: NodeJS.ProcessEnv = process.env): string {
  return env.SESSION_TABLE_NAME || 'sessions';
}

export async function up(knex: Knex, tableName = sessionTableName()): Promise<void> {
  await createSessionTable(knex, tableName);
}

export async function down(knex: Knex, tableName = sessionTableName()): Promise<void> {
  await knex.schema.dropTableIfExists(tableName);
}
