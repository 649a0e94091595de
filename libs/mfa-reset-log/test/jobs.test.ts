// The rotation drill and the legacy drill of docs/key-rotation.md as tests, on a real PostgreSQL:
// every step the runbook takes, with what each step must show before the next one.
import { createResetLogJobs, PREVIOUS_COLUMNS, valueContext } from '@portcullis/mfa-reset-log';
import { createResetLogBatchQueries } from '../src/batches.js';
import { legacyValues, newKey, ringOf, seedDatabase, type Previous, type Seeded } from './reset-log-seed.js';
import type { KeyRing } from '@portcullis/crypto';

let s: Seeded;
beforeEach(async () => {
  s = await seedDatabase();
});
afterEach(() => s.close());

const storedRows = (): Promise<(Previous & { id: string })[]> =>
  s
    .db('tenant_admin_mfa_reset_logs')
    .orderBy('id')
    .select('id', ...PREVIOUS_COLUMNS);
const usage = (rows: { keyId: string; state: string; count: number }[], keyId: string) =>
  rows.filter((row) => row.keyId === keyId).reduce((sum, row) => sum + row.count, 0);

async function expectDecryptsTo(ring: KeyRing, expected: { id: string; plain: Previous }[]) {
  const stored = new Map((await storedRows()).map((row) => [String(row.id), row]));
  for (const { id, plain } of expected) {
    for (const column of PREVIOUS_COLUMNS) {
      const value = stored.get(id)![column];
      expect(value === null ? null : ring.decrypt(value, valueContext(column, id))).toBe(plain[column]);
    }
  }
}

describe('the rotation drill', () => {
  it('rewraps from key A to key B, shows zero values under A, and verifies with A removed', async () => {
    const [keyA, keyB] = [newKey(), newKey()];
    const ringA = ringOf(keyA);
    const seeded = await s.insertSealed(23, ringA);
    const valueCount = seeded.reduce(
      (sum, row) => sum + PREVIOUS_COLUMNS.filter((column) => row.plain[column] !== null).length,
      0,
    );

    // Deploy the new ring: B primary, A previous.
    const ringBA = ringOf(keyB, keyA);
    const before = await createResetLogJobs({ db: s.db, ring: ringBA }).keyUsage({ batchSize: 5 });
    expect(before).toMatchObject({ total: valueCount, remaining: valueCount });
    expect(before.rows).toContainEqual({ keyId: ringA.primaryKeyId, state: 'previous', count: valueCount });

    const progress: number[] = [];
    const rewrap = await createResetLogJobs({ db: s.db, ring: ringBA }).rewrap({
      batchSize: 5,
      onProgress: (p) => progress.push(p.rowsDone),
    });
    expect(rewrap).toMatchObject({
      rows: 23,
      rowsWritten: 23,
      rowsSkippedChanged: 0,
      counts: { rewrapped: valueCount },
    });
    expect(progress).toEqual([5, 10, 15, 20, 23]);

    const after = await createResetLogJobs({ db: s.db, ring: ringBA }).keyUsage();
    expect(after.remaining).toBe(0);
    expect(after.rows).toContainEqual({ keyId: ringA.primaryKeyId, state: 'previous', count: 0 });
    expect(usage(after.rows, ringBA.primaryKeyId)).toBe(valueCount);

    // A second run changes nothing: it is safe to re-run.
    expect(await createResetLogJobs({ db: s.db, ring: ringBA }).rewrap()).toMatchObject({
      rowsWritten: 0,
      counts: { already_primary: valueCount },
    });

    // Remove A: everything still decrypts.
    const ringB = ringOf(keyB);
    const verified = await createResetLogJobs({ db: s.db, ring: ringB }).verifyDecrypt({ batchSize: 7 });
    expect(verified).toMatchObject({ checked: 23, values: valueCount, failed: 0, failures: [] });
    await expectDecryptsTo(ringB, seeded);
  });

  it('fails verify-decrypt loudly when A is removed too early, and loses nothing', async () => {
    const [keyA, keyB] = [newKey(), newKey()];
    const seeded = await s.insertSealed(6, ringOf(keyA));
    const untouched = await storedRows();
    const ringB = ringOf(keyB);

    const verified = await createResetLogJobs({ db: s.db, ring: ringB }).verifyDecrypt();
    expect(verified.failed).toBe(verified.values);
    expect(verified.failures[0]).toEqual({
      id: seeded[0]!.id,
      column: 'previous_totp_secret',
      problem: 'unknown_key_id',
      keyId: ringOf(keyA).primaryKeyId,
    });
    expect(JSON.stringify(verified)).not.toContain(seeded[0]!.plain.previous_totp_secret!);

    // A rewrap without A cannot read the values, so it leaves every one of them as it was.
    const rewrap = await createResetLogJobs({ db: s.db, ring: ringB }).rewrap();
    expect(rewrap).toMatchObject({ rowsWritten: 0, counts: { undecryptable_unknown_key_id: verified.values } });
    expect(await storedRows()).toEqual(untouched);
    expect((await createResetLogJobs({ db: s.db, ring: ringB }).keyUsage()).rows).toContainEqual({
      keyId: ringOf(keyA).primaryKeyId,
      state: 'unknown',
      count: verified.values,
    });

    // Put A back as previous: the rotation goes on and nothing was lost.
    await createResetLogJobs({ db: s.db, ring: ringOf(keyB, keyA) }).rewrap();
    expect((await createResetLogJobs({ db: s.db, ring: ringB }).verifyDecrypt()).failed).toBe(0);
    await expectDecryptsTo(ringB, seeded);
  });

  it('splits the work between shards and checks a random sample', async () => {
    const [keyA, keyB] = [newKey(), newKey()];
    const seeded = await s.insertSealed(10, ringOf(keyA));
    const ring = ringOf(keyB, keyA);
    // Chunks of 3 ids: 0–2 → shard 0, 3–5 → shard 1, 6–8 → shard 2, 9–11 → shard 0 (ids start at 1).
    const shards = await Promise.all(
      [0, 1, 2].map((index) =>
        createResetLogJobs({ db: s.db, ring }).rewrap({ batchSize: 2, shard: { index, count: 3, chunk: 3 } }),
      ),
    );
    expect(shards.map((shard) => shard.rows)).toEqual([4, 3, 3]);
    expect((await createResetLogJobs({ db: s.db, ring }).keyUsage()).remaining).toBe(0);
    expect(await createResetLogJobs({ db: s.db, ring: ringOf(keyB) }).verifyDecrypt({ sample: 4 })).toMatchObject({
      checked: 4,
      failed: 0,
    });
    await expectDecryptsTo(ringOf(keyB), seeded);
  });

  it('walks, in a shard, the rows inserted after its walk began (the highest id is read again before it ends)', async () => {
    const ringA = ringOf(newKey());
    await s.insertSealed(4, ringA);
    const queries = createResetLogBatchQueries(s.db);
    // Chunks of 3 ids: 0–2 → shard 0, 3–5 → shard 1, 6–8 → shard 0 (ids start at 1).
    const shard = { index: 0, count: 2, chunk: 3 };
    const first = await queries.readBatch(null, 10, shard);
    expect(first.map((row) => row.id)).toEqual(['1', '2']);
    await s.insertSealed(4, ringA);
    const next = await queries.readBatch(first.at(-1)!.id, 10, shard);
    expect(next.map((row) => row.id)).toEqual(['6', '7', '8']);
    expect(await queries.readBatch(next.at(-1)!.id, 10, shard)).toEqual([]);
  });
});

describe('the legacy drill', () => {
  it('encrypts plaintext in place, base32 secrets that are valid base64 included, and each value decrypts to the original', async () => {
    const plain = await s.insertRows(12, (n) => legacyValues(n));
    const ring = ringOf(newKey());
    const jobs = createResetLogJobs({ db: s.db, ring });
    const valueCount = plain.reduce(
      (sum, row) => sum + PREVIOUS_COLUMNS.filter((column) => row.plain[column] !== null).length,
      0,
    );
    expect(await jobs.countPlaintext()).toBe(valueCount);
    expect((await jobs.verifyDecrypt()).counts).toEqual({ plaintext: valueCount });

    const result = await jobs.encryptLegacy({ batchSize: 5 });
    expect(result).toMatchObject({ rows: 12, rowsWritten: 12, counts: { encrypted_now: valueCount } });
    expect(await jobs.countPlaintext()).toBe(0);
    expect(await jobs.verifyDecrypt()).toMatchObject({ failed: 0, counts: { ok_primary: valueCount } });
    await expectDecryptsTo(ring, plain);
    // Encrypted values are never encrypted twice.
    expect(await jobs.encryptLegacy()).toMatchObject({ rowsWritten: 0, counts: { already_encrypted: valueCount } });
  });

  it('resumes from its saved cursor after being stopped, and skips rows changed while it ran', async () => {
    const plain = await s.insertRows(9, (n) => legacyValues(n));
    const ring = ringOf(newKey());
    const stop = new Error('stopped');
    const first = createResetLogJobs({ db: s.db, ring }).encryptLegacy({
      batchSize: 4,
      onProgress: (progress) => {
        if (progress.rowsDone === 4) throw stop;
      },
    });
    await expect(first).rejects.toBe(stop);
    expect(await s.db('maintenance_job_cursors').where({ job: 'encrypt-legacy' }).first()).toMatchObject({
      last_id: plain[3]!.id,
      rows_done: '4',
    });
    const resumed = await createResetLogJobs({ db: s.db, ring }).encryptLegacy({ batchSize: 4 });
    expect(resumed).toMatchObject({ resumedFrom: plain[3]!.id, rows: 9, rowsWritten: 5 });
    expect(await s.db('maintenance_job_cursors')).toEqual([]);
    await expectDecryptsTo(ring, plain);

    // Compare-and-set: a row rolled back between read and write keeps the rollback's write.
    const queries = createResetLogBatchQueries(s.db);
    const [row] = await queries.readBatch(null, 1);
    await s.db('tenant_admin_mfa_reset_logs').where({ id: row!.id }).update({ rolled_back_at: new Date() });
    expect(await queries.writeBatch([{ ...row!, values: row!.values.map(() => 'x') }])).toBe(0);
    expect((await s.db('tenant_admin_mfa_reset_logs').where({ id: row!.id }).first()).previous_mfa_enabled).not.toBe(
      'x',
    );
  });
});
