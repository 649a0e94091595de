import { readFileSync } from 'node:fs';
import { configReferenceMarkdown } from '@portcullis/config';
import { README, readmeTable } from '../../scripts/config-reference.js';

describe('README', () => {
  it('documents exactly the variables the config schema reads (run `npm run docs:config` to update)', () => {
    expect(readmeTable(readFileSync(README, 'utf8'))).toBe(configReferenceMarkdown());
  });

  it('has a quick start of exactly two commands: run everything, run all tests', () => {
    const quickStart = readFileSync(README, 'utf8').split('## Quick start')[1]!.split('\n## ')[0]!;
    const commands = [...quickStart.matchAll(/```sh\n([^`]+)```/g)].slice(0, 2).map((match) => match[1]!.trim());
    expect(commands).toEqual(['npm run dev', 'npm test']);
  });
});
