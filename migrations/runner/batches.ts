// The batched part of a conversion: walk the table in primary-key order, one short transaction
// per batch, the cursor saved in the same transaction. A writer touching a row of the current
// batch waits for that batch only, so batches are sized to take about `batchTargetMs`.
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { boundedTransaction, type LockBound } from './bounded.js';
import { ident } from './sql-functions.js';
import { saveCursor, type TableState } from './state.js';
import type { Direction } from './types.js';

export interface BatchSpec {
  table: string;
  direction: Direction;
  /** `set` list of the UPDATE, with the table aliased `t`. */
  set: string;
  /** Optional condition on `t`: rows that need no change are not rewritten. */
  where?: string;
}

const FIRST_BATCH = 1_000;
const MIN_BATCH = 100;
const MAX_BATCH = 100_000;

/** Next batch size: scaled toward the target duration, at most halved or doubled per step. */
export function nextBatchSize(size: number, elapsedMs: number, targetMs: number): number {
  const scaled = Math.round((size * targetMs) / Math.max(elapsedMs, 1));
  return Math.max(MIN_BATCH, Math.min(MAX_BATCH, size * 2, Math.max(Math.floor(size / 2), scaled)));
}

/**
 * The batch's key range first (an index-only scan), then an UPDATE over that range: a join
 * with the batch's ids would make the planner walk the index from its start every time.
 * The key is cast to text after ordering: `order by id` over an `id::text` output sorts text.
 */
const boundsSql = (table: string, fromCursor: boolean) =>
  `with batch as (select id from ${table} ${fromCursor ? 'where id > ?' : ''} order by id limit ?)
   select count(*)::int as rows, (select id from batch order by id desc limit 1)::text as last from batch`;

function updateSql(spec: BatchSpec, fromCursor: boolean): string {
  const range = fromCursor ? 't.id > ? and t.id <= ?' : 't.id <= ?';
  return `update ${ident(spec.table)} as t set ${spec.set} where ${range}${spec.where ? ` and (${spec.where})` : ''}`;
}

export async function countRows(knex: Knex, table: string): Promise<number> {
  const result = await knex.raw<{ rows: { count: string }[] }>(`select count(*) from ${ident(table)}`);
  return Number(result.rows[0]?.count ?? 0);
}

export async function runBatches(
  knex: Knex,
  bound: LockBound & { batchTargetMs: number },
  spec: BatchSpec,
  state: TableState,
): Promise<void> {
  const rowsTotal = await countRows(knex, spec.table);
  let cursor = state.cursor;
  let rowsDone = Number(state.rows_done);
  let size = FIRST_BATCH;
  for (;;) {
    const started = performance.now();
    const batch = await boundedTransaction(
      knex,
      bound,
      { step: 'a backfill batch', table: spec.table },
      async (trx) => {
        const from = cursor === null ? [] : [cursor];
        const bounds = await trx.raw<{ rows: { rows: number; last: string | null }[] }>(
          boundsSql(ident(spec.table), cursor !== null),
          [...from, size],
        );
        const row = bounds.rows[0] ?? { rows: 0, last: null };
        if (row.last === null) return row;
        await trx.raw(updateSql(spec, cursor !== null), [...from, row.last]);
        await saveCursor(trx, spec.table, row.last, row.rows);
        return row;
      },
    );
    const batchMs = performance.now() - started;
    if (batch.last === null) return;
    cursor = batch.last;
    rowsDone += batch.rows;
    await bound.report({
      type: 'batch',
      table: spec.table,
      direction: spec.direction,
      rowsDone,
      rowsTotal,
      batchRows: batch.rows,
      batchMs,
    });
    if (batch.rows < size) return;
    size = nextBatchSize(size, batchMs, bound.batchTargetMs);
  }
}
