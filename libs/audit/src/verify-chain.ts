// Walks one hash chain of audit_events in seq order and reports the first break: a missing
// event (deleted row), an event whose content no longer matches its hash (edited row), an event
// that does not link to its predecessor, or a chain head that does not match the last event
// (deleted tail). With the audit key ring, keyed events and the signed head are checked too:
// an event without a key after keyed ones, or a head whose MAC fails, is a rewrite by someone
// without the key. Keyset batches keep memory flat on long chains.
import type { Knex } from 'knex';
import type { KeyRing } from '@portcullis/crypto';
import { chainInput, eventHash, GENESIS_HASH, headInput, type ChainedFields } from './audit-writer.js';

export const CHAIN_BREAK_REASONS = [
  'missing_event',
  'hash_mismatch',
  'prev_hash_mismatch',
  'head_mismatch',
  'unkeyed_after_keyed',
  'head_signature_invalid',
  'head_unsigned',
  'unknown_key',
] as const;
export type ChainBreakReason = (typeof CHAIN_BREAK_REASONS)[number];

export interface ChainBreak {
  seq: number;
  /** The audit_events id of the event at fault; null when it is missing. */
  eventId: string | null;
  reason: ChainBreakReason;
  message: string;
}

export interface ChainReport {
  chainKey: string;
  ok: boolean;
  /** Events whose hash was checked before the first break (or all of them). */
  checked: number;
  headSeq: number;
  /** The head carries a valid signature: true for every chain written to since the chain was keyed. */
  signedHead: boolean;
  firstBreak?: ChainBreak;
}

/** An audit_events row as PostgreSQL returns it (bigint seq as text, timestamptz as Date): readers extend it. */
export interface AuditEventRow extends Omit<ChainedFields, 'seq' | 'occurred_at'> {
  id: string;
  seq: string;
  occurred_at: Date;
  prev_hash: string;
  hash: string;
  hash_key_id: string | null;
}

interface HeadRow {
  seq: string;
  hash: string;
  mac: string | null;
  mac_key_id: string | null;
}

const unknownKey = (what: string, keyId: string) =>
  `${what} is keyed with audit key ${keyId}, which neither AUDIT_DETAILS_ENCRYPTION_KEY nor AUDIT_DETAILS_ENCRYPTION_KEYS_PREVIOUS holds: list that key to check it.`;

const fieldsOf = (row: AuditEventRow): ChainedFields => ({
  chain_key: row.chain_key,
  seq: Number(row.seq),
  tenant_id: row.tenant_id,
  actor_type: row.actor_type,
  actor_id: row.actor_id,
  action: row.action,
  target_type: row.target_type,
  target_id: row.target_id,
  request_id: row.request_id,
  ip: row.ip,
  user_agent: row.user_agent,
  occurred_at: row.occurred_at.toISOString(),
  details: row.details,
});

/**
 * Every chain that has events or a head: 'platform' and one per tenant, in key order. `after` and
 * `limit` page through them (a caller with a time budget goes on from the last key it checked).
 */
export async function listChainKeys(db: Knex, page: { after?: string; limit?: number } = {}): Promise<string[]> {
  const keys = db
    .select('chain_key')
    .from('audit_chain_heads')
    .union((union) => union.distinct('chain_key').from('audit_events'))
    .as('chains');
  const query = db.select('chain_key').from(keys).orderBy('chain_key');
  if (page.after !== undefined) query.where('chain_key', '>', page.after);
  if (page.limit !== undefined) query.limit(page.limit);
  return ((await query) as { chain_key: string }[]).map((row) => row.chain_key);
}

/** One event as the chain check sees it: the fields its hash covers, and its links. */
export interface ChainedEvent {
  eventId: string | null;
  fields: ChainedFields;
  prevHash: string;
  hash: string;
  hashKeyId: string | null;
}

/**
 * Recomputes one event's hash from its fields and `prevHash` (keyed: the HMAC under the key it
 * names; unkeyed: SHA-256) and reports the break, if any. `keyedSeen`: an earlier event of the
 * chain was keyed, so an unkeyed one can only come from someone without the key. Shared by the
 * database walk below and `portcullis audit verify-export`, which checks an exported file.
 */
export function checkEventHash(
  event: ChainedEvent,
  keyedSeen: boolean,
  keys: KeyRing | undefined,
): ChainBreak | undefined {
  const { seq } = event.fields;
  const at = { seq, eventId: event.eventId };
  if (event.hashKeyId) {
    const expected = keys?.macWith(event.hashKeyId, chainInput(event.prevHash, event.fields));
    if (expected === undefined || expected === null)
      return { ...at, reason: 'unknown_key', message: unknownKey(`Event ${seq}`, event.hashKeyId) };
    if (expected !== event.hash)
      return {
        ...at,
        reason: 'hash_mismatch',
        message: `Event ${seq} no longer matches its keyed hash (edited, or written without the audit key).`,
      };
    return undefined;
  }
  if (keyedSeen)
    return {
      ...at,
      reason: 'unkeyed_after_keyed',
      message: `Event ${seq} carries no audit key after keyed events (inserted by someone without the key).`,
    };
  if (eventHash(event.prevHash, event.fields) !== event.hash)
    return { ...at, reason: 'hash_mismatch', message: `Event ${seq} no longer matches its hash (edited).` };
  return undefined;
}

/**
 * `keys` is the audit key ring; without it keyed events cannot be checked and are reported as
 * `unknown_key`, so every production check passes it.
 */
export async function verifyChain(
  db: Knex,
  chainKey: string,
  options: { batchSize?: number; onProgress?: (checked: number) => void; keys?: KeyRing | undefined } = {},
): Promise<ChainReport> {
  const batchSize = options.batchSize ?? 2000;
  const head = (await db('audit_chain_heads').where({ chain_key: chainKey }).first()) as HeadRow | undefined;
  const headSeq = Number(head?.seq ?? 0);
  let expectedSeq = 1;
  let expectedPrev = GENESIS_HASH;
  let checked = 0;
  let keyedSeen = false;
  const broken = (firstBreak: ChainBreak): ChainReport => ({
    chainKey,
    ok: false,
    checked,
    headSeq,
    signedHead: false,
    firstBreak,
  });

  for (;;) {
    const rows = (await db('audit_events')
      .where({ chain_key: chainKey })
      .andWhere('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(batchSize)) as AuditEventRow[];
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq)
        return broken({
          seq: expectedSeq,
          eventId: null,
          reason: 'missing_event',
          message: `Event ${expectedSeq} of chain ${chainKey} is missing (deleted).`,
        });
      if (row.prev_hash !== expectedPrev)
        return broken({
          seq,
          eventId: row.id,
          reason: 'prev_hash_mismatch',
          message: `Event ${seq} does not link to event ${seq - 1} (an earlier event was replaced).`,
        });
      const hashBreak = checkEventHash(
        { eventId: row.id, fields: fieldsOf(row), prevHash: row.prev_hash, hash: row.hash, hashKeyId: row.hash_key_id },
        keyedSeen,
        options.keys,
      );
      if (hashBreak) return broken(hashBreak);
      keyedSeen ||= !!row.hash_key_id;
      checked += 1;
      expectedSeq = seq + 1;
      expectedPrev = row.hash;
    }
    options.onProgress?.(checked);
    if (rows.length < batchSize) break;
  }
  const lastSeq = expectedSeq - 1;
  if (lastSeq < headSeq) {
    return broken({
      seq: lastSeq + 1,
      eventId: null,
      reason: 'missing_event',
      message: `Chain ${chainKey} ends at event ${lastSeq} but its head says ${headSeq}: the last events were deleted.`,
    });
  }
  if (lastSeq !== headSeq || (head && head.hash !== expectedPrev)) {
    return broken({
      seq: lastSeq,
      eventId: null,
      reason: 'head_mismatch',
      message: `The head of chain ${chainKey} does not match its last event ${lastSeq} (the head was altered).`,
    });
  }
  const headProblem = head && checkHeadSignature(chainKey, head, keyedSeen, options.keys);
  if (headProblem) return broken({ seq: lastSeq, eventId: null, ...headProblem });
  return { chainKey, ok: true, checked, headSeq, signedHead: !!head?.mac };
}

/** The head's MAC binds the chain's length and last hash: a truncated or rewritten chain cannot carry a valid one. */
function checkHeadSignature(
  chainKey: string,
  head: HeadRow,
  keyedSeen: boolean,
  keys: KeyRing | undefined,
): Pick<ChainBreak, 'reason' | 'message'> | undefined {
  if (!head.mac_key_id || !head.mac) {
    return keyedSeen
      ? {
          reason: 'head_unsigned',
          message: `The head of chain ${chainKey} carries no signature although its events are keyed (the head was rewritten).`,
        }
      : undefined;
  }
  const expected = keys?.macWith(head.mac_key_id, headInput(chainKey, Number(head.seq), head.hash));
  if (expected === undefined || expected === null)
    return { reason: 'unknown_key', message: unknownKey(`The head of chain ${chainKey}`, head.mac_key_id) };
  if (expected !== head.mac)
    return {
      reason: 'head_signature_invalid',
      message: `The head of chain ${chainKey} does not carry a valid signature (the head, or the events it covers, were rewritten).`,
    };
  return undefined;
}
