// Exports of the audit log as CSV or a JSON array, streamed batch by batch (no size limit in
// memory). Cells are written by libs/audit's csvCell (quoted, spreadsheet formulas guarded, null
// apart from ''), which `portcullis audit verify-export` reads back to recompute each hash.
import { Readable } from 'node:stream';
import { csvCell } from '@portcullis/audit';
import type { EventView } from './events.js';

export const CSV_COLUMNS = [
  'id',
  'occurredAt',
  'tenantId',
  'tenantSlug',
  'chain',
  'seq',
  'actorType',
  'actorId',
  'actorEmail',
  'action',
  'targetType',
  'targetId',
  'targetLabel',
  'requestId',
  'ip',
  'userAgent',
  'details',
  'storedDetails',
  'prevHash',
  'hash',
  'hashKeyId',
] as const;

const csvLine = (event: EventView) => `${CSV_COLUMNS.map((column) => csvCell(event[column])).join(',')}\r\n`;

export function exportStream(batches: AsyncGenerator<EventView[]>, format: 'csv' | 'json'): Readable {
  async function* lines(): AsyncGenerator<string> {
    if (format === 'csv') {
      yield `${CSV_COLUMNS.join(',')}\r\n`;
      for await (const batch of batches) yield batch.map(csvLine).join('');
      return;
    }
    let first = true;
    yield '[';
    for await (const batch of batches) {
      for (const event of batch) {
        yield `${first ? '\n' : ',\n'}${JSON.stringify(event)}`;
        first = false;
      }
    }
    yield '\n]\n';
  }
  return Readable.from(lines());
}
