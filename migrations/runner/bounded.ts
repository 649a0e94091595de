// Every lock the conversion takes is bounded. A lock request that waits in PostgreSQL's queue
// makes every later conflicting request (the application's writes) wait behind it, so each
// transaction here sets `lock_timeout`: a blocked attempt gives up after that long, the writers
// behind it proceed, and the attempt is retried after a pause, until a retry window runs out.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import { LockUnavailableError } from './errors.js';
import type { EventListener } from './types.js';

export interface LockBound {
  lockTimeoutMs: number;
  lockRetryForMs: number;
  report: EventListener;
}

/**
 * Steps that only take SHARE UPDATE EXCLUSIVE (VALIDATE CONSTRAINT, VACUUM) do not conflict
 * with writers, so their wait costs nobody else; a wait longer than deadlock_timeout (1 s)
 * also makes PostgreSQL cancel an ordinary autovacuum that holds the table.
 */
export const NON_BLOCKING_LOCK_TIMEOUT_MS = 5_000;

const RETRYABLE = new Set(['55P03', '40P01']); // lock_not_available, deadlock_detected

export function pgErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** Runs `work` in a transaction whose lock waits are bounded, retrying lock timeouts. */
export async function boundedTransaction<T>(
  knex: Knex,
  bound: LockBound,
  what: { step: string; table: string; lockTimeoutMs?: number },
  work: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  const lockTimeoutMs = Math.round(what.lockTimeoutMs ?? bound.lockTimeoutMs);
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await knex.transaction(async (trx) => {
        await trx.raw(`set local lock_timeout = ${lockTimeoutMs}`);
        return work(trx);
      });
    } catch (error) {
      if (!RETRYABLE.has(pgErrorCode(error) ?? '')) throw error;
      const blockers = await describeBlockers(knex, what.table);
      // Exponential pause with jitter, so retries do not march in step with the blocker.
      const pause = Math.min(2_000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      if (Date.now() - started + pause > bound.lockRetryForMs) {
        throw new LockUnavailableError(
          `Could not lock ${what.table} for ${what.step} in ${Math.round((Date.now() - started) / 1000)} s ` +
            `(${attempt} attempts, lock_timeout ${lockTimeoutMs} ms)${blockers ? `, held by ${blockers}` : ''}: ` +
            'let that work finish or end it, then run the migration again (it continues where it stopped)',
        );
      }
      await bound.report({ type: 'lock-retry', what: `${what.step} on ${what.table}`, attempt, blockers });
      await sleep(pause);
    }
  }
}

/** Sessions holding a lock on `table`: pid, application, state and transaction age (no query text: it may hold data). */
export async function describeBlockers(knex: Knex, table: string): Promise<string> {
  const result = await knex.raw<{
    rows: { pid: number; application_name: string; state: string | null; seconds: number | null }[];
  }>(
    `select distinct a.pid, a.application_name, a.state, extract(epoch from now() - a.xact_start)::int as seconds
       from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.relation = to_regclass(?) and l.granted and a.pid <> pg_backend_pid()
      order by seconds desc nulls last limit 5`,
    [table],
  );
  return result.rows
    .map((row) =>
      `pid ${row.pid}${row.application_name ? ` (${row.application_name})` : ''} ${row.state ?? ''} for ${row.seconds ?? 0} s`.replace(
        /\s+/g,
        ' ',
      ),
    )
    .join(', ');
}
