// Ends every session of an admin in the session store AFTER the change that requires it has
// committed (reset, rollback, disable, suspend). The database already refuses those sessions
// (sessions_revoked_at, checked by requireSession), so the store call removes data and frees
// concurrent-session slots; it must happen, but it may happen late:
//   1. in process: a few quick attempts with backoff, each bounded by a timeout (a store that
//      hangs must not hold the HTTP response);
//   2. durably: the session_revocations row written in the committed transaction stays pending
//      until a store call succeeds; every replica retries due rows on a timer.
// Never the other way round: nothing here runs before the commit.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@portcullis/observability';
import { userIdOf } from '@portcullis/session-auth';
import type { SessionStore } from '@portcullis/session-store';
import type { RevocationQueries, RevocationRow } from '../queries/revocations.js';

export interface RevokerOptions {
  queries: RevocationQueries;
  store: Pick<SessionStore, 'destroyByUser'>;
  clock: { now(): number };
  logger: Logger;
  /** Longest wait for one store call. */
  storeTimeoutMs?: number;
  /** Pauses before the in-process attempts (the first is immediate). */
  attemptDelaysMs?: readonly number[];
  /** Backoff of the durable retries: min(maxBackoffMs, baseBackoffMs * 2^attempts). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export type RevokeOutcome = 'done' | 'pending';

class StoreTimeoutError extends Error {
  constructor() {
    super('session store call timed out');
    this.name = 'StoreTimeoutError';
  }
}

/** A class name or error code only: store errors can carry connection strings. */
const errorLabel = (error: unknown) => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown';
};

export function createSessionRevoker(options: RevokerOptions) {
  const { queries, store, clock, logger, storeTimeoutMs = 2000, attemptDelaysMs = [0, 50, 250], baseBackoffMs = 1000, maxBackoffMs = 5 * 60_000 } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  async function callStore(row: RevocationRow): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timeout = setTimeout(() => reject(new StoreTimeoutError()), storeTimeoutMs);
    });
    try {
      await Promise.race([store.destroyByUser(userIdOf(row.admin_kind, row.admin_id)), expired]);
    } finally {
      clearTimeout(timeout);
    }
  }

  async function attempt(row: RevocationRow, attemptsSoFar: number): Promise<RevokeOutcome> {
    try {
      await callStore(row);
      await queries.markDone(row.id, new Date(clock.now()));
      return 'done';
    } catch (error) {
      const next = new Date(clock.now() + Math.min(maxBackoffMs, baseBackoffMs * 2 ** attemptsSoFar));
      await queries.markFailed(row.id, next, errorLabel(error));
      logger.warn({ revocationId: row.id, adminId: row.admin_id, cause: row.cause, errorCode: errorLabel(error) }, 'session store revoke failed; it stays pending and is retried');
      return 'pending';
    }
  }

  /** One pass over the due markers (the timer calls this; so can an operator or a test). */
  async function retryPending(limit = 100): Promise<{ done: number; pending: number }> {
    const due = await queries.claimDue(new Date(clock.now()), storeTimeoutMs * 2, limit);
    let done = 0;
    for (const row of due) if ((await attempt(row, row.attempts)) === 'done') done += 1;
    return { done, pending: due.length - done };
  }

  return {
    retryPending,

    /**
     * Right after the commit: a few quick attempts per marker; what still fails stays pending.
     * Once the store has failed, the remaining markers (a suspended tenant's admins) are left to
     * the timer at once, so a store outage costs the request one marker's attempts, not all.
     */
    async revokeCommitted(rows: RevocationRow[]): Promise<RevokeOutcome> {
      for (const row of rows) {
        let result: RevokeOutcome = 'pending';
        for (const [index, delay] of attemptDelaysMs.entries()) {
          if (delay > 0) await sleep(delay);
          result = await attempt(row, row.attempts + index);
          if (result === 'done') break;
        }
        if (result === 'pending') return 'pending';
      }
      return 'done';
    },

    /** Retries due markers every `intervalMs`; a pass still running is not started twice. */
    start(intervalMs: number): void {
      if (timer || intervalMs <= 0) return;
      let busy = false;
      timer = setInterval(() => {
        if (busy) return;
        busy = true;
        running = retryPending()
          .catch((error: unknown) => logger.warn({ errorCode: errorLabel(error) }, 'session revoke retry pass failed'))
          .finally(() => (busy = false));
      }, intervalMs);
      timer.unref();
    },

    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

export type SessionRevoker = ReturnType<typeof createSessionRevoker>;
