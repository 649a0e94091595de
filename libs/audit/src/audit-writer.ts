import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { KeyRing } from '@portcullis/crypto';
import { sealDetails } from './sealed-details.js';

export type ActorType = 'platform_admin' | 'tenant_admin' | 'system' | 'anonymous';

export interface AuditEvent {
  action: string;
  tenantId?: string | null;
  actorType: ActorType;
  actorId?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  requestId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  /** Never secrets: callers pass identifiers and outcomes only. */
  details?: Record<string, unknown>;
  /**
   * Sensitive free text (a reset reason, a ticket reference, an invitee's email): each field is
   * encrypted with the audit details key ring into `details.sealed`, bound to the event.
   */
  sealed?: Record<string, string>;
}

export const GENESIS_HASH = '0'.repeat(64);

/** Stable JSON: keys sorted at every depth, so the hash does not depend on insertion order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, field]) => field !== undefined);
  return `{${entries
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`)
    .join(',')}}`;
}

export interface ChainedFields {
  chain_key: string;
  seq: number;
  tenant_id: string | null;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  occurred_at: string;
  details: Record<string, unknown>;
}

/** What an event's hash covers: its predecessor's hash and the event's canonical form. */
export const chainInput = (prevHash: string, fields: ChainedFields) => `${prevHash}\n${canonicalJson(fields)}`;

/** The hash of an unkeyed event (written before the chain was keyed): SHA-256 of its chain input. */
export function eventHash(prevHash: string, fields: ChainedFields): string {
  return createHash('sha256').update(chainInput(prevHash, fields)).digest('hex');
}

/** What the head's MAC covers: the chain, how long it is and its last hash. */
export const headInput = (chainKey: string, seq: number, hash: string) =>
  `portcullis audit head\n${chainKey}\n${seq}\n${hash}`;

/** Tenant ids are uuids, which PostgreSQL returns in lower case: hash them that way too. */
export const chainKeyOf = (tenantId: string | null | undefined) => tenantId?.toLowerCase() ?? 'platform';

/**
 * Appends audit events to the per-tenant hash chain. The chain head row is locked for the
 * length of one insert, so writers of one tenant queue briefly and other tenants never wait.
 *
 * `keys` is the audit key ring (AUDIT_DETAILS_ENCRYPTION_KEY): it seals sensitive details and
 * keys the chain. Each event's hash is then an HMAC under the primary key (its id stored with
 * the event) and the head carries an HMAC of (chain, seq, hash): someone with database access
 * alone can neither forge an event nor recompute the chain after deleting or editing one.
 */
export function createAuditWriter({
  db,
  clock = { now: () => Date.now() },
  keys,
}: {
  db: Knex;
  clock?: { now(): number };
  keys?: KeyRing | undefined;
}) {
  async function appendIn(trx: Knex.Transaction, event: AuditEvent): Promise<void> {
    const chainKey = chainKeyOf(event.tenantId);
    await trx('audit_chain_heads')
      .insert({ chain_key: chainKey, seq: 0, hash: GENESIS_HASH })
      .onConflict('chain_key')
      .ignore();
    const head = (await trx('audit_chain_heads').where({ chain_key: chainKey }).forUpdate().first()) as {
      seq: string | number;
      hash: string;
    };
    const seq = Number(head.seq) + 1;
    const fields: ChainedFields = {
      chain_key: chainKey,
      seq,
      tenant_id: event.tenantId?.toLowerCase() ?? null,
      actor_type: event.actorType,
      actor_id: event.actorId ?? null,
      action: event.action,
      target_type: event.targetType ?? null,
      target_id: event.targetId ?? null,
      request_id: event.requestId ?? null,
      ip: event.ip ?? null,
      user_agent: event.userAgent ?? null,
      occurred_at: new Date(clock.now()).toISOString(),
      details: sealDetails(keys, chainKey, seq, event.details ?? {}, event.sealed),
    };
    const keyed = keys?.mac(chainInput(head.hash, fields));
    const hash = keyed?.tag ?? eventHash(head.hash, fields);
    await trx('audit_events').insert({
      ...fields,
      details: JSON.stringify(fields.details),
      prev_hash: head.hash,
      hash,
      hash_key_id: keyed?.keyId ?? null,
    });
    const signed = keys?.mac(headInput(chainKey, seq, hash));
    await trx('audit_chain_heads')
      .where({ chain_key: chainKey })
      .update({ seq: fields.seq, hash, mac: signed?.tag ?? null, mac_key_id: signed?.keyId ?? null });
  }

  return {
    /** Writes one event; inside `trx` when given, so it commits or rolls back with the change it records. */
    async record(event: AuditEvent, trx?: Knex.Transaction): Promise<void> {
      if (trx) return appendIn(trx, event);
      await db.transaction((own) => appendIn(own, event));
    },
  };
}

export type AuditWriter = ReturnType<typeof createAuditWriter>;
