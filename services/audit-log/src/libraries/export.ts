// Exports of the audit log as CSV or a JSON array, streamed batch by batch (no size limit in
// memory). CSV cells are quoted, and a cell that a spreadsheet would run as a formula
// (=, +, -, @, tab, CR at the start) is prefixed with a quote (OWASP "CSV injection").
import { Readable } from 'node:stream';
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
  'prevHash',
  'hash',
  'hashKeyId',
] as const;

export function csvCell(value: unknown): string {
  let text =
    value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

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
