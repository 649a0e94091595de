// Walks one hash chain of audit_events in seq order and reports the first break: a missing
// event (deleted row), an event whose content no longer matches its hash (edited row), an event
// that does not link to its predecessor, or a chain head that does not match the last event
// (deleted tail). Keyset batches keep memory flat on long chains.
import type { Knex } from 'knex';
import { eventHash, GENESIS_HASH, type ChainedFields } from './audit-writer.js';

export type ChainBreakReason = 'missing_event' | 'hash_mismatch' | 'prev_hash_mismatch' | 'head_mismatch';

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
  firstBreak?: ChainBreak;
}

interface EventRow extends Omit<ChainedFields, 'seq' | 'occurred_at'> {
  id: string;
  seq: string;
  occurred_at: Date;
  prev_hash: string;
  hash: string;
}

const fieldsOf = (row: EventRow): ChainedFields => ({
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

/** Every chain that has events or a head: 'platform' and one per tenant. */
export async function listChainKeys(db: Knex): Promise<string[]> {
  const rows = await db('audit_chain_heads').select('chain_key').union((union) => union.distinct('chain_key').from('audit_events')).orderBy('chain_key');
  return (rows as { chain_key: string }[]).map((row) => row.chain_key);
}

export async function verifyChain(db: Knex, chainKey: string, options: { batchSize?: number; onProgress?: (checked: number) => void } = {}): Promise<ChainReport> {
  const batchSize = options.batchSize ?? 2000;
  const head = (await db('audit_chain_heads').where({ chain_key: chainKey }).first()) as { seq: string; hash: string } | undefined;
  const headSeq = Number(head?.seq ?? 0);
  let expectedSeq = 1;
  let expectedPrev = GENESIS_HASH;
  let checked = 0;
  const broken = (firstBreak: ChainBreak): ChainReport => ({ chainKey, ok: false, checked, headSeq, firstBreak });

  for (;;) {
    const rows = (await db('audit_events').where({ chain_key: chainKey }).andWhere('seq', '>=', expectedSeq).orderBy('seq').limit(batchSize)) as EventRow[];
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) return broken({ seq: expectedSeq, eventId: null, reason: 'missing_event', message: `Event ${expectedSeq} of chain ${chainKey} is missing (deleted).` });
      if (row.prev_hash !== expectedPrev) return broken({ seq, eventId: row.id, reason: 'prev_hash_mismatch', message: `Event ${seq} does not link to event ${seq - 1} (an earlier event was replaced).` });
      if (eventHash(row.prev_hash, fieldsOf(row)) !== row.hash) return broken({ seq, eventId: row.id, reason: 'hash_mismatch', message: `Event ${seq} no longer matches its hash (edited).` });
      checked += 1;
      expectedSeq = seq + 1;
      expectedPrev = row.hash;
    }
    options.onProgress?.(checked);
    if (rows.length < batchSize) break;
  }
  const lastSeq = expectedSeq - 1;
  if (lastSeq < headSeq) {
    return broken({ seq: lastSeq + 1, eventId: null, reason: 'missing_event', message: `Chain ${chainKey} ends at event ${lastSeq} but its head says ${headSeq}: the last events were deleted.` });
  }
  if (lastSeq !== headSeq || (head && head.hash !== expectedPrev)) {
    return broken({ seq: lastSeq, eventId: null, reason: 'head_mismatch', message: `The head of chain ${chainKey} does not match its last event ${lastSeq} (the head was altered).` });
  }
  return { chainKey, ok: true, checked, headSeq };
}
