// The runbook's phase table is what the code derives: a changed setting changes the docs too.
import { readFileSync } from 'node:fs';
import { sessionPhaseTable } from '@portcullis/config';
import { RUNBOOK, runbookTable } from '../../scripts/session-phase-table.js';

it('docs/session-cutover.md holds the phase table the code generates', () => {
  expect(runbookTable(readFileSync(RUNBOOK, 'utf8'))).toBe(sessionPhaseTable());
});
