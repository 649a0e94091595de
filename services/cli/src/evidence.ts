// Evidence files of staging drills and measurements (`drill mfa-reset`, `migrate plan`): one
// JSON file per run in the directory the operator names, kept with the launch checklist.
// Callers put ids, timestamps, key ids and figures in them, never a secret.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Writes `<dir>/<name>-<started at>.json` (readable by owner and group only) and returns its path. */
export async function writeEvidence(
  dir: string,
  name: string,
  startedAt: string,
  evidence: Record<string, unknown>,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}-${startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(evidence, null, 2)}\n`, { mode: 0o640 });
  return file;
}
