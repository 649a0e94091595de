// `npm run bench -- <name>` runs bench/<name>.ts. Each benchmark measures its own baseline in
// the same run, prints a readable table, and prints one JSON object as its very last line.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && !['run.ts', 'harness.ts'].includes(file) && !file.endsWith('.test.ts'))
  .map((file) => file.slice(0, -3));

const name = process.argv[2];
if (!name || name === '--help' || !available.includes(name)) {
  const problem = name && name !== '--help' ? `Unknown benchmark "${name}". ` : '';
  console.error(`${problem}Usage: npm run bench -- <name>   (one of: ${available.join(', ')})`);
  process.exit(name === '--help' ? 0 : 2);
}

const benchmark = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { default: () => Promise<void> };
await benchmark.default();
