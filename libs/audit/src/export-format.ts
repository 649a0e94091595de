// An audit event as the exports carry it (audit-log writes them as JSON or CSV, `portcullis audit
// verify-export` reads them back): the chained fields under their exported names, the links
// (prevHash, hash, hashKeyId) and, where sealed fields were opened for the reader, the details as
// stored, so that every event's hash can be recomputed offline. One file for both directions, so
// writer and reader cannot drift apart.
import type { KeyRing } from '@portcullis/crypto';
import type { ChainedFields } from './audit-writer.js';
import { openDetails, SEALED_KEY } from './sealed-details.js';
import type { AuditEventRow } from './verify-chain.js';

export interface ExportedChainEvent {
  id: string;
  chain: string;
  seq: number;
  tenantId: string | null;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
  occurredAt: string;
  /** As readers see them: sealed fields opened, or '[sealed]' without the key. */
  details: Record<string, unknown>;
  /** The details as stored and hashed (sealed fields as ciphertext) when they differ from `details`; null otherwise. */
  storedDetails: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
  hashKeyId: string | null;
}

/** An audit_events row as an export carries it; `detailsKeys` opens sealed fields for the reader. */
export function exportedChainEvent(row: AuditEventRow, detailsKeys: KeyRing | undefined): ExportedChainEvent {
  return {
    id: String(row.id),
    chain: row.chain_key,
    seq: Number(row.seq),
    tenantId: row.tenant_id,
    actorType: row.actor_type,
    actorId: row.actor_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    requestId: row.request_id,
    ip: row.ip,
    userAgent: row.user_agent,
    occurredAt: row.occurred_at.toISOString(),
    details: openDetails(detailsKeys, row.chain_key, row.seq, row.details),
    storedDetails: Object.hasOwn(row.details, SEALED_KEY) ? row.details : null,
    prevHash: row.prev_hash,
    hash: row.hash,
    hashKeyId: row.hash_key_id,
  };
}

/** What an exported event's hash covers, back under the chain's own names. */
export const chainedFieldsOfExport = (event: ExportedChainEvent): ChainedFields => ({
  chain_key: event.chain,
  seq: event.seq,
  tenant_id: event.tenantId,
  actor_type: event.actorType,
  actor_id: event.actorId,
  action: event.action,
  target_type: event.targetType,
  target_id: event.targetId,
  request_id: event.requestId,
  ip: event.ip,
  user_agent: event.userAgent,
  occurred_at: event.occurredAt,
  details: event.storedDetails ?? event.details,
});

/**
 * One CSV cell. Quoted when needed; a cell a spreadsheet would run as a formula (=, +, -, @, tab,
 * CR at the start) is prefixed with a quote (OWASP "CSV injection"), and so is one that starts
 * with a quote, so a reader removes exactly one. null is an empty cell, '' a quoted empty one:
 * the hash tells them apart, so the file must too.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r']/.test(text)) text = `'${text}`;
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A CSV text (RFC 4180, as csvCell writes it) as rows of values: an empty unquoted cell is null; the formula guard is removed. */
export function readCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let at = 0;
  const cell = (value: string, quoted: boolean) =>
    row.push(!quoted && value === '' ? null : value.startsWith("'") ? value.slice(1) : value);
  while (at < text.length) {
    let value = '';
    let quoted = false;
    if (text[at] === '"') {
      quoted = true;
      at += 1;
      for (;;) {
        const end = text.indexOf('"', at);
        if (end < 0) throw new Error('a quoted cell is not closed');
        value += text.slice(at, end);
        at = end + 1;
        if (text[at] !== '"') break;
        value += '"';
        at += 1;
      }
    } else {
      const end = text.slice(at).search(/[,\r\n]/);
      value = end < 0 ? text.slice(at) : text.slice(at, at + end);
      at += value.length;
    }
    cell(value, quoted);
    if (text[at] === ',') {
      at += 1;
      if (at === text.length) cell('', false);
      continue;
    }
    if (text.startsWith('\r\n', at)) at += 2;
    else if (text[at] === '\n' || text[at] === '\r') at += 1;
    else if (at < text.length)
      throw new Error('a quoted cell is followed by something other than a comma or a line end');
    rows.push(row);
    row = [];
  }
  if (row.length > 0) rows.push(row);
  return rows;
}
