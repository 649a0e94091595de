// The re-encryption jobs of the MFA reset log (portcullis mfa-logs …). Each walks the table in
// keyset batches (id order), is safe beside live traffic (one short UPDATE per batch, applied
// only to rows unchanged since read) and can be stopped at any time: the writers save their
// cursor after every batch and continue from it; a finished run deletes it. `shard` splits the
// rows by id modulo n between processes (a Kubernetes Indexed Job, or --parallel).
import { createKeyUsageReport, isEnvelope, type KeyRing, type KeyUsageRow } from '@portcullis/crypto';
import type { Knex } from 'knex';
import { createResetLogBatchQueries, type Shard, type ValueRow } from './batches.js';
import { openValue, PREVIOUS_COLUMNS, unopened, valueContext } from './format.js';

export interface JobOptions {
  batchSize?: number;
  shard?: Shard;
  /** Ignore a saved cursor and walk from the first row. */
  restart?: boolean;
  onProgress?: (progress: Progress) => void;
  clock?: { now(): number };
}

export interface Progress {
  job: string;
  rowsDone: number;
  rowsTotal: number;
  counts: Record<string, number>;
}

export interface WriteSummary {
  job: 'encrypt-legacy' | 'rewrap';
  rows: number;
  rowsWritten: number;
  /** Rows changed by someone else between read and write: left for the next run. */
  rowsSkippedChanged: number;
  counts: Record<string, number>;
  resumedFrom: string | null;
}

export interface VerifySummary {
  checked: number;
  values: number;
  failed: number;
  counts: Record<string, number>;
  /** The first failures, by row and column; never a value. */
  failures: { id: string; column: string; problem: string; keyId: string }[];
}

type Decide = (value: string, context: ReturnType<typeof valueContext>) => { state: string; replacement?: string };

const jobKey = (job: string, shard: Shard | undefined) =>
  shard && shard.count > 1 ? `${job}:${shard.index}/${shard.count}` : job;

export function createResetLogJobs({ db, ring }: { db: Knex; ring: KeyRing }) {
  const queries = createResetLogBatchQueries(db);

  function decideRow(row: ValueRow, decide: Decide, counts: Record<string, number>): ValueRow | undefined {
    let changed = false;
    const values = row.values.map((value, index) => {
      if (value === null) return null;
      const context = valueContext(PREVIOUS_COLUMNS[index]!, row.id);
      const { state, replacement } = decide(value, context);
      counts[state] = (counts[state] ?? 0) + 1;
      if (replacement === undefined) return value;
      changed = true;
      return replacement;
    });
    return changed ? { ...row, values } : undefined;
  }

  async function writePass(job: WriteSummary['job'], decide: Decide, options: JobOptions): Promise<WriteSummary> {
    const { batchSize = 5000, shard, clock = { now: () => Date.now() } } = options;
    const key = jobKey(job, shard);
    const saved = options.restart ? undefined : await queries.loadCursor(key);
    // A cursor saved under another primary key belongs to another rotation: start over.
    const resume = saved && saved.key_id === ring.primaryKeyId ? saved : undefined;
    const counts: Record<string, number> = {};
    const rowsTotal = await queries.count();
    let cursor = resume?.last_id ?? null;
    let rows = Number(resume?.rows_done ?? 0);
    let rowsWritten = 0;
    let rowsSkippedChanged = 0;
    // Pipelined: batch k+1 is read and encrypted here while PostgreSQL writes batch k (the
    // pool has two connections), so node's CPU and the database's overlap.
    let inflight: Promise<void> | undefined;
    for (;;) {
      const batch = await queries.readBatch(cursor, batchSize, shard);
      if (batch.length === 0) break;
      const updates = batch.map((row) => decideRow(row, decide, counts)).filter((row): row is ValueRow => !!row);
      await inflight;
      cursor = batch.at(-1)!.id;
      const done = rows + batch.length;
      const snapshot = { ...counts };
      inflight = queries
        .writeBatch(updates, {
          job: key,
          lastId: cursor,
          keyId: ring.primaryKeyId,
          rowsDone: done,
          now: new Date(clock.now()),
        })
        .then((written) => {
          rowsWritten += written;
          rowsSkippedChanged += updates.length - written;
          options.onProgress?.({ job, rowsDone: done, rowsTotal, counts: snapshot });
        });
      // Handled here, thrown at the next `await inflight`: no unhandled rejection meanwhile.
      inflight.catch(() => undefined);
      rows = done;
    }
    await inflight;
    await queries.deleteCursor(key);
    return { job, rows, rowsWritten, rowsSkippedChanged, counts, resumedFrom: resume?.last_id ?? null };
  }

  /** Walks every row (or a sample) and hands each non-null value to `visit`. */
  async function readPass(
    options: JobOptions & { sample?: number },
    visit: (row: ValueRow, index: number, value: string) => void,
  ): Promise<number> {
    const { batchSize = 5000, shard } = options;
    if (options.sample) {
      const rows = await queries.sample(options.sample);
      rows.forEach((row) => row.values.forEach((value, index) => value !== null && visit(row, index, value)));
      return rows.length;
    }
    const rowsTotal = await queries.count();
    let cursor: string | null = null;
    let rows = 0;
    for (;;) {
      const batch = await queries.readBatch(cursor, batchSize, shard);
      batch.forEach((row) => row.values.forEach((value, index) => value !== null && visit(row, index, value)));
      rows += batch.length;
      if (batch.length === 0) break;
      cursor = batch.at(-1)!.id;
      options.onProgress?.({ job: 'read', rowsDone: rows, rowsTotal, counts: {} });
    }
    return rows;
  }

  return {
    /** Values still in plaintext, by a header check (before/after figures). */
    countPlaintext: () => queries.countWithoutHeader(),

    /** Encrypts legacy plaintext in place; leaves encrypted values (after authenticating them) alone. */
    encryptLegacy: (options: JobOptions = {}) =>
      writePass(
        'encrypt-legacy',
        (value, context) => {
          const opened = openValue(ring, value, context);
          if (opened.kind === 'plaintext') return { state: 'encrypted_now', replacement: ring.encrypt(value, context) };
          return { state: opened.kind === 'encrypted' ? 'already_encrypted' : `undecryptable_${opened.reason}` };
        },
        options,
      ),

    /**
     * Re-encrypts values under a previous key with the primary key; plaintext and unreadable values
     * are counted, never touched. One ring.rewrap per value (one authenticated open, one seal): it
     * hands back the value itself when the primary key already holds it.
     */
    rewrap: (options: JobOptions = {}) =>
      writePass(
        'rewrap',
        (value, context) => {
          if (!isEnvelope(value)) return { state: 'plaintext' };
          let sealed: string;
          try {
            sealed = ring.rewrap(value, context);
          } catch (error) {
            const opened = unopened(error);
            return { state: opened.kind === 'plaintext' ? 'plaintext' : `undecryptable_${opened.reason}` };
          }
          return sealed === value ? { state: 'already_primary' } : { state: 'rewrapped', replacement: sealed };
        },
        options,
      ),

    /** Values per key id and state (every ring key listed, 0 included): an old key goes only at 0. */
    async keyUsage(options: JobOptions = {}): Promise<{ rows: KeyUsageRow[]; total: number; remaining: number }> {
      const report = createKeyUsageReport(ring);
      await readPass(
        options,
        (row, index, value) => void report.add(value, valueContext(PREVIOUS_COLUMNS[index]!, row.id)),
      );
      return { rows: report.rows(), total: report.total, remaining: report.remaining };
    },

    /** Decrypts every value (or those of `sample` random rows); any plaintext or failure counts as failed. */
    async verifyDecrypt(options: JobOptions & { sample?: number } = {}): Promise<VerifySummary> {
      const summary: VerifySummary = { checked: 0, values: 0, failed: 0, counts: {}, failures: [] };
      summary.checked = await readPass(options, (row, index, value) => {
        const column = PREVIOUS_COLUMNS[index]!;
        const opened = openValue(ring, value, valueContext(column, row.id));
        const state =
          opened.kind === 'encrypted' ? `ok_${opened.role}` : opened.kind === 'plaintext' ? 'plaintext' : opened.reason;
        summary.values += 1;
        summary.counts[state] = (summary.counts[state] ?? 0) + 1;
        if (opened.kind === 'encrypted') return;
        summary.failed += 1;
        if (summary.failures.length < 20)
          summary.failures.push({
            id: row.id,
            column,
            problem: state,
            keyId: opened.kind === 'undecryptable' ? opened.keyId : 'none',
          });
      });
      return summary;
    },
  };
}

export type ResetLogJobs = ReturnType<typeof createResetLogJobs>;

/** The key usage in Prometheus text format: the `mfa_reset_log_values{key_id,state}` gauge. */
export function keyUsageMetricText(rows: KeyUsageRow[]): string {
  const lines = rows.map((row) => `mfa_reset_log_values{key_id="${row.keyId}",state="${row.state}"} ${row.count}`);
  return [
    '# HELP mfa_reset_log_values previous_* values of tenant_admin_mfa_reset_logs by key id and state',
    '# TYPE mfa_reset_log_values gauge',
    ...lines,
    '',
  ].join('\n');
}
