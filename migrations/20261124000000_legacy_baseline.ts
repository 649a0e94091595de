// The schema production has today, before Portcullis takes it over: timestamps stored as text
// and `previous_*` reset-log values that may be plaintext. Starting the history here means the
// conversions that follow run on every fresh database too, not only on old ones.
import type { Knex } from 'knex';

const adminColumns = (table: Knex.CreateTableBuilder) => {
  table.text('email').notNullable().comment('Sign-in email; unique case-insensitively');
  table.text('password_hash').notNullable().comment('argon2id PHC string');
  table.text('totp_secret').nullable().comment('TOTP secret; legacy rows may hold it in plaintext');
  table.boolean('mfa_enabled').notNullable().defaultTo(false);
  table.text('mfa_enrolled_at').nullable().comment('Legacy text timestamp');
  table.bigInteger('totp_last_used_step').nullable().comment('Last accepted TOTP time-step (replay guard)');
  table.text('recovery_code_hashes').nullable().comment('JSON array of hashed single-use recovery codes');
  table.integer('failed_attempts').notNullable().defaultTo(0);
  table.text('locked_until').nullable().comment('Legacy text timestamp');
  table.text('password_changed_at').nullable().comment('Legacy text timestamp');
  table.boolean('must_change_password').notNullable().defaultTo(false);
  table.text('disabled_at').nullable().comment('Legacy text timestamp');
  table.text('created_at').notNullable().comment('Legacy text timestamp');
  table.text('updated_at').notNullable().comment('Legacy text timestamp');
};

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tenants', (table) => {
    table.uuid('id').primary();
    table.text('slug').notNullable().unique();
    table.text('name').notNullable();
    table.text('status').notNullable().defaultTo('active').comment('active | suspended');
    table.text('created_at').notNullable().comment('Legacy text timestamp');
    table.text('updated_at').notNullable().comment('Legacy text timestamp');
  });

  await knex.schema.createTable('platform_admins', (table) => {
    table.uuid('id').primary();
    adminColumns(table);
  });
  await knex.raw('create unique index platform_admins_email_unique on platform_admins (lower(email))');

  await knex.schema.createTable('tenant_admins', (table) => {
    table.uuid('id').primary();
    table.uuid('tenant_id').notNullable().references('tenants.id');
    adminColumns(table);
  });
  await knex.raw('create unique index tenant_admins_tenant_email_unique on tenant_admins (tenant_id, lower(email))');

  await knex.schema.createTable('tenant_admin_mfa_reset_logs', (table) => {
    table.bigIncrements('id');
    table.uuid('tenant_id').notNullable().references('tenants.id');
    table.uuid('tenant_admin_id').notNullable().references('tenant_admins.id');
    table.uuid('reset_by').notNullable().comment('Platform admin who reset');
    table.text('reason').notNullable();
    table.text('ticket').nullable();
    table.text('created_at').notNullable().comment('Legacy text timestamp');
    table.text('rolled_back_at').nullable().comment('Legacy text timestamp');
    table.uuid('rolled_back_by').nullable();
    table.text('rollback_reason').nullable();
    table.text('previous_totp_secret').nullable().comment('May be legacy plaintext');
    table.text('previous_mfa_enabled').nullable();
    table.text('previous_mfa_enrolled_at').nullable();
    table.text('previous_totp_last_used_step').nullable();
    table.text('previous_recovery_code_hashes').nullable();
    table.index(['tenant_admin_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('tenant_admin_mfa_reset_logs');
  await knex.schema.dropTable('tenant_admins');
  await knex.schema.dropTable('platform_admins');
  await knex.schema.dropTable('tenants');
}
