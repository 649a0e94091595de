// Rewrites the README's configuration table from the zod schema: `npm run docs:config`.
// A test fails when the two drift apart.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configReferenceMarkdown } from '@portcullis/config';

export const README = join(import.meta.dirname, '..', 'README.md');
export const START = '<!-- config-reference:start -->';
export const END = '<!-- config-reference:end -->';

export function readmeTable(text: string): string {
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the ${START} … ${END} markers`);
  return text.slice(start + START.length, end).trim();
}

if (process.argv[1] === import.meta.filename) {
  const text = readFileSync(README, 'utf8');
  readmeTable(text);
  const before = text.slice(0, text.indexOf(START) + START.length);
  const after = text.slice(text.indexOf(END));
  writeFileSync(README, `${before}\n${configReferenceMarkdown()}\n${after}`);
  console.log('README.md configuration table updated.');
}
