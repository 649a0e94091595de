// `portcullis audit verify-chain` and the mfa_reset_log_values gauge on audit-log's registry.
// The CLI runs as operators run it, a process of its own: this service's tests import no other
// service's files.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createAuditWriter } from '@portcullis/audit';
import { createLogger, createMetrics } from '@portcullis/observability';
import { createResetLogJobs } from '@portcullis/mfa-reset-log';
import { createKeyUsageGauge } from '../src/key-usage-gauge.js';
import { newKey, ringOf, seedDatabase, type Seeded } from '../../../libs/mfa-reset-log/test/reset-log-seed.js';

let s: Seeded;
beforeAll(async () => {
  s = await seedDatabase();
});
afterAll(() => s.close());

const root = join(import.meta.dirname, '..', '..', '..');
// Each test starts the CLI (node + tsx) up to three times: seconds each on a loaded machine.
const CLI_TEST_MS = 180_000;

/** `portcullis <argv>` with only DATABASE_URL and `env` set (no key leaks in from this process). */
function cli(
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--conditions=development', '--import', 'tsx', 'services/cli/src/main.ts', ...argv],
      {
        cwd: root,
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: s.database.url, ...env },
      },
      (error, stdout, stderr) => {
        const code = error ? (error as { code?: unknown }).code : 0;
        if (typeof code !== 'number') return reject(error ?? new Error('the CLI did not exit'));
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('portcullis audit verify-chain', () => {
  it(
    'passes on intact chains and exits 1 naming the first break of an edited event',
    async () => {
      const audit = createAuditWriter({ db: s.db });
      const [intact, tampered] = [randomUUID(), randomUUID()];
      for (const tenantId of [intact, tampered, intact, tampered, tampered])
        await audit.record({ tenantId, actorType: 'system', action: 'test.event' });
      const ok = await cli(['audit', 'verify-chain', '--tenant', intact]);
      expect([ok.code, ok.stdout.split('\n')[0]]).toEqual([0, `${intact}: ok, 2 events`]);

      await s.db.transaction(async (trx) => {
        await trx.raw('set local session_replication_role = replica');
        await trx('audit_events').where({ chain_key: tampered, seq: 2 }).update({ action: 'test.other' });
      });
      const all = await cli(['audit', 'verify-chain']);
      expect(all.code).toBe(1);
      expect(all.stdout).toContain(`${tampered}: BROKEN at event 2 (hash_mismatch)`);
      expect(all.stdout).toContain(`${intact}: ok, 2 events`);
      expect(all.stderr).toBe(
        `portcullis: 1 of 2 audit chains are broken (first: ${tampered} at event 2): treat it as an incident and compare with a backup (docs/mfa-reset-runbook.md)\n`,
      );
    },
    CLI_TEST_MS,
  );
});

describe('portcullis audit verify-chain on keyed chains', () => {
  it(
    'checks keyed events and the signed head with the audit key from the environment, and names the key it lacks',
    async () => {
      const key = newKey();
      const tenantId = randomUUID();
      const audit = createAuditWriter({ db: s.db, keys: ringOf(key) });
      for (let i = 0; i < 3; i++) await audit.record({ tenantId, actorType: 'system', action: 'test.keyed' });
      const keyed = await cli(['audit', 'verify-chain', '--tenant', tenantId, '--require-signed-head'], {
        AUDIT_DETAILS_ENCRYPTION_KEY: key,
      });
      expect([keyed.code, keyed.stdout.split('\n')[0]]).toEqual([0, `${tenantId}: ok, 3 events`]);
      const keyless = await cli(['audit', 'verify-chain', '--tenant', tenantId]);
      expect(keyless.code).toBe(1);
      expect(keyless.stdout).toContain(`${tenantId}: BROKEN at event 1 (unknown_key)`);
      expect(keyless.stdout + keyless.stderr).not.toContain(key);
    },
    CLI_TEST_MS,
  );

  it(
    'with --require-signed-head, counts a chain never written to since keying as broken',
    async () => {
      const tenantId = randomUUID();
      await createAuditWriter({ db: s.db }).record({ tenantId, actorType: 'system', action: 'test.legacy' });
      expect(
        (await cli(['audit', 'verify-chain', '--tenant', tenantId], { AUDIT_DETAILS_ENCRYPTION_KEY: newKey() })).code,
      ).toBe(0);
      const strict = await cli(['audit', 'verify-chain', '--tenant', tenantId, '--require-signed-head'], {
        AUDIT_DETAILS_ENCRYPTION_KEY: newKey(),
      });
      expect(strict.code).toBe(1);
      expect(strict.stdout).toContain('(head_unsigned)');
    },
    CLI_TEST_MS,
  );
});

describe('the mfa_reset_log_values gauge', () => {
  it('exports the authenticated key usage with an explicit 0 for a previous key', async () => {
    const [keyA, keyB] = [newKey(), newKey()];
    const seeded = await s.insertSealed(3, ringOf(keyB));
    const values = seeded.flatMap((row) => Object.values(row.plain)).filter((value) => value !== null).length;
    const ring = ringOf(keyB, keyA);
    const metrics = createMetrics('audit-log');
    const gauge = createKeyUsageGauge({
      registry: metrics.registry,
      count: () => createResetLogJobs({ db: s.db, ring }).keyUsage(),
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    await gauge.refresh();
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      `mfa_reset_log_values{key_id="${ring.primaryKeyId}",state="primary",service="audit-log"} ${values}`,
    );
    expect(text).toContain(
      `mfa_reset_log_values{key_id="${ringOf(keyA).primaryKeyId}",state="previous",service="audit-log"} 0`,
    );
    await gauge.stop();
  });
});
