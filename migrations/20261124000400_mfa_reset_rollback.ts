// What MFA reset and rollback (mfa-admin) and the reset-log jobs (portcullis mfa-logs) need:
// - `rollback_forced` / `rollback_force_reason` on the reset log: a rollback over a factor the
//   admin enrolled since the reset must be explicit, and the history shows it.
// - an index (tenant_id, id) so the per-tenant history reads newest first without a scan.
// - `session_revocations`: the durable marker of a session-store revoke that runs after the
//   reset's transaction commits. The service retries pending rows on a timer, so a store outage
//   delays the revoke but never loses it (sessions_revoked_at already refuses the sessions).
// - `maintenance_job_cursors`: where the batched re-encryption jobs resume after a stop.
// Outside a transaction: the index is built CONCURRENTLY (the reset log can be large); every
// step is idempotent, so a run that stopped half way is simply run again.
import type { Knex } from 'knex';

export const description =
  'MFA reset rollback: forced-rollback columns, tenant history index, session_revocations, maintenance_job_cursors';
export const transaction = false;

export async function up(knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx.raw(`alter table tenant_admin_mfa_reset_logs
      add column if not exists rollback_forced boolean not null default false,
      add column if not exists rollback_force_reason text`);
    await trx.raw(
      `comment on column tenant_admin_mfa_reset_logs.rollback_forced is 'The rollback replaced a factor the admin had enrolled after the reset'`,
    );
    await trx.raw(
      `comment on column tenant_admin_mfa_reset_logs.rollback_force_reason is 'Why the platform admin forced the rollback'`,
    );

    if (!(await trx.schema.hasTable('session_revocations'))) {
      await trx.schema.createTable('session_revocations', (table) => {
        table.comment(
          'Session-store revokes still to do after a committed reset, rollback or disable; retried until done',
        );
        table.bigIncrements('id');
        table.text('admin_kind').notNullable().comment('platform | tenant');
        table.uuid('admin_id').notNullable();
        table.text('cause').notNullable().comment('mfa_reset | mfa_rollback | admin_disabled | tenant_suspended');
        table.specificType('requested_at', 'timestamptz').notNullable();
        table.integer('attempts').notNullable().defaultTo(0).comment('Store calls tried so far');
        table
          .specificType('next_attempt_at', 'timestamptz')
          .notNullable()
          .comment('Not retried before this instant (backoff)');
        table
          .text('last_error')
          .nullable()
          .comment('Error class or code of the last failure; never a message with data');
        table.specificType('done_at', 'timestamptz').nullable().comment('When the store confirmed the revoke');
      });
      await trx.raw(
        'create index session_revocations_pending on session_revocations (next_attempt_at) where done_at is null',
      );
    }

    if (!(await trx.schema.hasTable('maintenance_job_cursors'))) {
      await trx.schema.createTable('maintenance_job_cursors', (table) => {
        table.comment(
          'Progress of resumable batch jobs (portcullis mfa-logs encrypt-legacy | rewrap); a finished job deletes its row',
        );
        table.text('job').primary();
        table.bigInteger('last_id').notNullable().comment('Highest row id done');
        table.text('key_id').nullable().comment('Primary key id the run wrote with; another key restarts the walk');
        table.bigInteger('rows_done').notNullable().defaultTo(0);
        table.specificType('started_at', 'timestamptz').notNullable();
        table.specificType('updated_at', 'timestamptz').notNullable();
      });
    }
  });
  await knex.raw(
    'create index concurrently if not exists tenant_admin_mfa_reset_logs_tenant_id_id on tenant_admin_mfa_reset_logs (tenant_id, id)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index concurrently if exists tenant_admin_mfa_reset_logs_tenant_id_id');
  await knex.transaction(async (trx) => {
    await trx.schema.dropTableIfExists('maintenance_job_cursors');
    await trx.schema.dropTableIfExists('session_revocations');
    await trx.raw(
      `alter table tenant_admin_mfa_reset_logs drop column if exists rollback_force_reason, drop column if exists rollback_forced`,
    );
  });
}
