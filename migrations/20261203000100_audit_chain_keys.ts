// The audit chain becomes keyed (libs/audit): each event's hash is an HMAC under the audit key
// ring, whose key id is stored with the event, and each chain head carries an HMAC of
// (chain, seq, hash). Columns only, nullable and without defaults: catalogue changes, no rewrite
// of audit_events and no long lock. Events written before stay verifiable as SHA-256 links.
import type { Knex } from 'knex';

export const description = 'audit chain keyed: audit_events.hash_key_id, audit_chain_heads.mac and mac_key_id';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_events', (table) => {
    table
      .text('hash_key_id')
      .nullable()
      .comment(
        'Id of the audit key whose HMAC is `hash`; null for events written before the chain was keyed (SHA-256)',
      );
  });
  await knex.schema.alterTable('audit_chain_heads', (table) => {
    table
      .text('mac')
      .nullable()
      .comment(
        'HMAC of (chain_key, seq, hash) under the audit key: a rewritten or truncated chain cannot carry a valid one',
      );
    table.text('mac_key_id').nullable().comment('Id of the audit key of `mac`');
  });
}

/** The way back keeps the history readable: refused once any event is keyed, since older code would call it broken. */
export async function down(knex: Knex): Promise<void> {
  const keyed = await knex('audit_events').whereNotNull('hash_key_id').first('id');
  if (keyed) {
    throw new Error(
      'audit chain keys: events are already keyed (audit_events.hash_key_id); older code cannot verify them, so this migration is not reverted. Keep it, or restore the database from before the upgrade.',
    );
  }
  await knex.schema.alterTable('audit_chain_heads', (table) => {
    table.dropColumn('mac_key_id');
    table.dropColumn('mac');
  });
  await knex.schema.alterTable('audit_events', (table) => {
    table.dropColumn('hash_key_id');
  });
}
