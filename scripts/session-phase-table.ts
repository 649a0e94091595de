// Rewrites the phase table of docs/session-cutover.md from the code (sessionPhaseTable):
// `node --conditions=development --import tsx scripts/session-phase-table.ts`. test/docs keeps them equal.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sessionPhaseTable } from '@portcullis/config';

export const RUNBOOK = join(import.meta.dirname, '..', 'docs', 'session-cutover.md');
const START = '<!-- session-phases:start -->';
const END = '<!-- session-phases:end -->';

export function runbookTable(text: string): string {
  const [start, end] = [text.indexOf(START), text.indexOf(END)];
  if (start < 0 || end < start) throw new Error(`docs/session-cutover.md lacks the ${START} … ${END} markers`);
  return text.slice(start + START.length, end).trim();
}

if (process.argv[1] === import.meta.filename) {
  const text = readFileSync(RUNBOOK, 'utf8');
  runbookTable(text);
  writeFileSync(
    RUNBOOK,
    `${text.slice(0, text.indexOf(START) + START.length)}\n${sessionPhaseTable()}\n${text.slice(text.indexOf(END))}`,
  );
  console.log('docs/session-cutover.md phase table updated.');
}
