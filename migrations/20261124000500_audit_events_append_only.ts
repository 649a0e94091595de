// audit_events is append-only, enforced by the database and not only by the code:
// - role `portcullis_audit_writer` (NOLOGIN): INSERT and SELECT on audit_events, no UPDATE,
//   DELETE or TRUNCATE; what the chain head needs. Services connect as a login role that is a
//   member of it (docs/architecture.md, "Audit log"). Roles are cluster-wide, so the role is
//   created once and kept by `down` (other databases on the server may use it).
// - triggers that raise on UPDATE, DELETE and TRUNCATE of audit_events, so even the owner cannot
//   edit the record silently: tampering needs a superuser who disables triggers, and the hash
//   chain (libs/audit verifyChain) then reports the first broken event.
// - an index for the actor filter of the audit query API.
// Outside a transaction for the CONCURRENTLY index; the rest runs in one transaction.
import type { Knex } from 'knex';

export const description =
  'audit_events append-only: writer role without UPDATE/DELETE, immutability triggers, actor index';
export const transaction = false;

export const AUDIT_WRITER_ROLE = 'portcullis_audit_writer';

export async function up(knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    // Two databases migrating at once on one server may both try to create the role.
    await trx.raw(`do $$ begin
      if not exists (select 1 from pg_roles where rolname = '${AUDIT_WRITER_ROLE}') then
        create role ${AUDIT_WRITER_ROLE} nologin;
      end if;
    exception when duplicate_object or unique_violation then null;
    end $$`);
    await trx.raw(`revoke all on audit_events from public, ${AUDIT_WRITER_ROLE}`);
    await trx.raw(`grant select, insert on audit_events to ${AUDIT_WRITER_ROLE}`);
    await trx.raw(`grant usage on sequence audit_events_id_seq to ${AUDIT_WRITER_ROLE}`);
    await trx.raw(`grant select, insert, update on audit_chain_heads to ${AUDIT_WRITER_ROLE}`);

    await trx.raw(`create or replace function portcullis_audit_events_immutable() returns trigger language plpgsql as $fn$
      begin
        raise exception 'audit_events is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
      end $fn$`);
    await trx.raw('drop trigger if exists audit_events_no_update_delete on audit_events');
    await trx.raw(
      'create trigger audit_events_no_update_delete before update or delete on audit_events for each row execute function portcullis_audit_events_immutable()',
    );
    await trx.raw('drop trigger if exists audit_events_no_truncate on audit_events');
    await trx.raw(
      'create trigger audit_events_no_truncate before truncate on audit_events for each statement execute function portcullis_audit_events_immutable()',
    );
    await trx.raw(
      `comment on function portcullis_audit_events_immutable() is 'Refuses UPDATE, DELETE and TRUNCATE of audit_events (append-only)'`,
    );
  });
  await knex.raw(
    'create index concurrently if not exists audit_events_actor_time on audit_events (actor_id, occurred_at)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index concurrently if exists audit_events_actor_time');
  await knex.transaction(async (trx) => {
    await trx.raw('drop trigger if exists audit_events_no_truncate on audit_events');
    await trx.raw('drop trigger if exists audit_events_no_update_delete on audit_events');
    await trx.raw('drop function if exists portcullis_audit_events_immutable()');
    await trx.raw(`revoke all on audit_events, audit_chain_heads from ${AUDIT_WRITER_ROLE}`);
    await trx.raw(`revoke all on sequence audit_events_id_seq from ${AUDIT_WRITER_ROLE}`);
  });
}
