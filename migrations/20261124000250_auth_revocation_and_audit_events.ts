// What the auth services need beyond the legacy shape:
// - `sessions_revoked_at` on both admin tables: every session created before it is refused by
//   the auth guard. Revoking in the store alone is not enough where the per-user index is
//   eventually consistent (DynamoDB GSIs), so the database holds the authoritative cut-off.
// - `audit_events`, append-only, with a per-tenant hash chain (`audit_chain_heads` serialises
//   writers of one chain with a row lock, so events of different tenants never wait on each other).
// - `rate_limits` for login throttling when Redis is not used.
import type { Knex } from 'knex';

export const description = 'sessions_revoked_at on admins, audit_events with its hash chain, rate_limits';

export async function up(knex: Knex): Promise<void> {
  for (const table of ['platform_admins', 'tenant_admins']) {
    await knex.schema.alterTable(table, (builder) => {
      builder
        .specificType('sessions_revoked_at', 'timestamptz')
        .nullable()
        .comment('Sessions created before this instant are refused');
    });
  }

  // rate-limiter-flexible's PostgreSQL layout, created here so the service needs no DDL rights.
  await knex.schema.createTable('rate_limits', (table) => {
    table.string('key', 255).primary();
    table.integer('points').notNullable().defaultTo(0);
    table.bigInteger('expire').nullable().comment('Epoch ms; rate-limiter-flexible sweeps expired keys');
  });

  await knex.schema.createTable('audit_chain_heads', (table) => {
    table.text('chain_key').primary().comment("'platform' or the tenant id");
    table.bigInteger('seq').notNullable();
    table.text('hash').notNullable();
  });

  await knex.schema.createTable('audit_events', (table) => {
    table.bigIncrements('id');
    table.text('chain_key').notNullable().comment("Hash chain this event belongs to: 'platform' or the tenant id");
    table.bigInteger('seq').notNullable().comment('Position in its chain, from 1');
    table.uuid('tenant_id').nullable();
    table.text('actor_type').notNullable().comment('platform_admin | tenant_admin | system | anonymous');
    table.text('actor_id').nullable();
    table.text('action').notNullable();
    table.text('target_type').nullable();
    table.text('target_id').nullable();
    table.text('request_id').nullable();
    table.text('ip').nullable();
    table.text('user_agent').nullable();
    table.specificType('occurred_at', 'timestamptz').notNullable();
    table.jsonb('details').notNullable().defaultTo('{}');
    table.text('prev_hash').notNullable();
    table.text('hash').notNullable().comment('SHA-256 over prev_hash and the canonical event');
    table.unique(['chain_key', 'seq']);
    table.index(['tenant_id', 'occurred_at']);
    table.index(['action', 'occurred_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_events');
  await knex.schema.dropTable('audit_chain_heads');
  await knex.schema.dropTable('rate_limits');
  for (const table of ['platform_admins', 'tenant_admins']) {
    await knex.schema.alterTable(table, (builder) => builder.dropColumn('sessions_revoked_at'));
  }
}
