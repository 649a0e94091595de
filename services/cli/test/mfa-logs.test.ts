// `portcullis mfa-logs …` as an operator (or a Kubernetes Job) runs it: the environment, the
// output, the exit code. The drills of docs/key-rotation.md through the command line.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { runCli } from '../src/program.js';
import {
  legacyValues,
  newKey,
  ringOf,
  seedDatabase,
  type Seeded,
} from '../../../libs/mfa-reset-log/test/reset-log-seed.js';

const root = join(import.meta.dirname, '..', '..', '..');

let s: Seeded;
beforeEach(async () => {
  s = await seedDatabase();
});
afterEach(() => s.close());

async function cli(argv: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env: { DATABASE_URL: s.database.url, ...env },
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return { code, stdout, stderr, result: (last.startsWith('{') ? JSON.parse(last) : null) as Record<string, unknown> };
}

const keys = (primary: string, ...previous: string[]) => ({
  MFA_RESET_LOG_ENCRYPTION_KEY: primary,
  MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS: previous.join(','),
});

describe('portcullis mfa-logs', () => {
  it('encrypt-legacy encrypts every plaintext value and reports the counts before and after', async () => {
    await s.insertRows(7, (n) => legacyValues(n));
    const key = newKey();
    const run = await cli(['mfa-logs', 'encrypt-legacy', '--batch-size', '3'], keys(key));
    expect(run.code).toBe(0);
    expect(run.result).toMatchObject({ job: 'encrypt-legacy', rows: 7, rows_written: 7, plaintext_values_after: 0 });
    expect(run.result.plaintext_values_before).toBe((run.result.counts as Record<string, number>).encrypted_now);
    expect(run.stdout).toContain('values in plaintext:');
    expect(run.stderr).toMatch(/encrypt-legacy: 7\/7 rows/);
    expect((await cli(['mfa-logs', 'verify-decrypt'], keys(key))).code).toBe(0);
  });

  it('runs the rotation drill: rewrap to B, key-usage shows 0 under A, verify-decrypt passes without A', async () => {
    const [keyA, keyB] = [newKey(), newKey()];
    const idA = ringOf(keyA).primaryKeyId;
    await s.insertSealed(9, ringOf(keyA));
    const before = await cli(['mfa-logs', 'key-usage', '--prometheus'], keys(keyB, keyA));
    expect(before.stdout).toContain('# TYPE mfa_reset_log_values gauge');
    expect(before.stdout).toMatch(new RegExp(`mfa_reset_log_values\\{key_id="${idA}",state="previous"\\} [1-9]\\d*`));

    expect((await cli(['mfa-logs', 'rewrap', '--batch-size', '4'], keys(keyB, keyA))).result).toMatchObject({
      rows: 9,
      rows_written: 9,
    });
    const after = await cli(['mfa-logs', 'key-usage'], keys(keyB, keyA));
    expect(after.result).toMatchObject({ remaining: 0 });
    expect(after.stdout).toMatch(new RegExp(`${idA}\\s+previous\\s+0\\n`));

    const verified = await cli(['mfa-logs', 'verify-decrypt', '--sample', '5'], keys(keyB));
    expect([verified.code, verified.result.failed]).toEqual([0, 0]);
  });

  it('fails verify-decrypt with exit 1 and one sentence when the old key was removed too early', async () => {
    const [keyA, keyB] = [newKey(), newKey()];
    await s.insertSealed(3, ringOf(keyA));
    const run = await cli(['mfa-logs', 'verify-decrypt'], keys(keyB));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^portcullis: \d+ of \d+ values cannot be decrypted with the configured keys \(first: row \d+ previous_totp_secret, unknown_key_id, key id [0-9a-f]{12}\): put a missing key back/m,
    );
    // The rewrap with the same (incomplete) ring writes nothing.
    expect((await cli(['mfa-logs', 'rewrap'], keys(keyB))).result).toMatchObject({ rows_written: 0 });
  });

  it('refuses to start without a usable key, naming the variable and never the value', async () => {
    const missing = await cli(['mfa-logs', 'rewrap'], {});
    expect([missing.code, missing.stderr]).toEqual([
      2,
      expect.stringContaining('MFA_RESET_LOG_ENCRYPTION_KEY is not set'),
    ]);
    const weak = await cli(['mfa-logs', 'rewrap'], keys(newKey(), 'c2hvcnQta2V5'));
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS (entry 1)');
    expect(weak.stderr).not.toContain('c2hvcnQta2V5');
    expect((await cli(['mfa-logs', 'rewrap', '--shard', '2/2'], keys(newKey()))).code).toBe(2);
  });

  it('splits a rewrap over processes with --parallel, each a shard', async () => {
    const [keyA, keyB] = [newKey(), newKey()];
    await s.insertSealed(8, ringOf(keyA));
    const child = spawn(
      process.execPath,
      [
        '--conditions=development',
        '--import',
        'tsx',
        join(root, 'services/cli/src/main.ts'),
        'mfa-logs',
        'rewrap',
        '--parallel',
        '2',
        '--batch-size',
        '3',
        '--chunk',
        '4',
      ],
      {
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: s.database.url, ...keys(keyB, keyA) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    // Chunks of 4 ids: 1–3 and 8 → shard 0, 4–7 → shard 1; a shard prints progress only for rows it wrote.
    expect([
      code,
      stderr.includes('[shard 0] rewrap: 3/8 rows'),
      stderr.includes('[shard 1] rewrap: 3/8 rows'),
    ]).toEqual([0, true, true]);
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({
      job: 'rewrap',
      rows: 8,
      rows_written: 8,
      shards: 2,
    });
    expect((await cli(['mfa-logs', 'key-usage'], keys(keyB))).result).toMatchObject({ remaining: 0 });
    // Three processes (the command and its two shards) loading the sources through tsx: 61 s at load average 13.
  }, 120_000);
});
