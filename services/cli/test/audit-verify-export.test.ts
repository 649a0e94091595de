// `portcullis audit verify-export` in-process: its help, and what it says about files that are not
// exports. The checks on real exports (edits, deletions, keys) run against audit-log's own
// export in services/audit-log/test/verify-export.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './sessions-support.js';

const dir = mkdtempSync(join(tmpdir(), 'verify-export-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

it('is listed under audit, with its help naming the exit codes and the flags', async () => {
  const audit = await cli({}, 'audit', '--help');
  expect(audit.stdout).toMatch(/verify-export \[options\] <file>/);
  const help = await cli({}, 'audit', 'verify-export', '--help');
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('--allow-gaps');
  expect(help.stdout).toContain('--json');
  expect(help.stdout).toContain('Exit 0 = intact, 1 = broken');
});

it.each([
  ['not JSON', 'x.json', '[{"id":', 'it is not valid JSON'],
  ['an event without its hash', 'y.json', '[{"id":"1","chain":"platform","seq":1}]', 'element 0 has no valid tenantId'],
  [
    'a CSV of something else',
    'z.csv',
    'name,email\r\nA,a@example.com\r\n',
    "its first line is not the export's header",
  ],
])('refuses %s with exit 2 and one sentence', async (_name, name, text, problem) => {
  const run = await cli({}, 'audit', 'verify-export', file(name, text));
  expect(run).toMatchObject({ code: 2, stdout: '' });
  expect(run.stderr).toMatch(new RegExp(`^portcullis: .*${name} is not an audit export: ${problem}.*\\n$`));
});

it('passes an empty export, saying there was nothing to check', async () => {
  const run = await cli({}, 'audit', 'verify-export', file('empty.json', '[\n]\n'), '--json');
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ format: 'json', events: 0, chains: 0, broken: 0 });
});
