// Ends every session of an admin for a change that requires it (reset, rollback, disable,
// suspend, sign-out), in two steps:
//   1. inside the change's transaction, before it commits (record): the admin's revocation
//      marker goes into the session store, which every replica reads with each session
//      (docs/auth-session.md, "Revocation"). A store that cannot take it fails the change: no
//      change ever stands with its sessions still usable.
//   2. after the commit (revokeCommitted): the marker again with the commit time (closing the
//      gap of a sign-in during the transaction), then the sessions themselves are deleted,
//      which frees concurrent-session slots. It must happen but may happen late: a few quick
//      attempts bounded by a timeout, then the session_revocations row written in the
//      transaction stays pending and every replica retries due rows on a timer.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import type { Logger } from '@portcullis/observability';
import { createSessionRevocation, userIdOf, type AdminKind } from '@portcullis/session-auth';
import { SessionStoreError, type SessionStore } from '@portcullis/session-store';
import type { RevocationCause, RevocationQueries, RevocationRow } from '../queries/revocations.js';

export interface RevokerOptions {
  queries: RevocationQueries;
  store: Pick<SessionStore, 'destroyByUser' | 'revoke'>;
  clock: { now(): number };
  /** SESSION_ABSOLUTE_TIMEOUT_SECONDS in ms: how long a revocation marker must last. */
  absoluteTimeoutMs: number;
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
  const {
    queries,
    store,
    clock,
    logger,
    storeTimeoutMs = 2000,
    attemptDelaysMs = [0, 50, 250],
    baseBackoffMs = 1000,
    maxBackoffMs = 5 * 60_000,
  } = options;
  const revocation = createSessionRevocation({ store, absoluteTimeoutMs: options.absoluteTimeoutMs, clock });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  async function bounded(call: Promise<unknown>): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timeout = setTimeout(() => reject(new StoreTimeoutError()), storeTimeoutMs);
    });
    try {
      await Promise.race([call, expired]);
    } finally {
      clearTimeout(timeout);
    }
  }

  /** The marker (cut-off as given), then the sessions themselves. */
  const callStore = (row: RevocationRow, cutOff: number) =>
    bounded(
      revocation
        .revokeAll(row.admin_kind, row.admin_id, cutOff)
        .then(() => store.destroyByUser(userIdOf(row.admin_kind, row.admin_id))),
    );

  async function attempt(row: RevocationRow, attemptsSoFar: number, cutOff: number): Promise<RevokeOutcome> {
    try {
      await callStore(row, cutOff);
      await queries.markDone(row.id, new Date(clock.now()));
      return 'done';
    } catch (error) {
      const next = new Date(clock.now() + Math.min(maxBackoffMs, baseBackoffMs * 2 ** attemptsSoFar));
      await queries.markFailed(row.id, next, errorLabel(error));
      logger.warn(
        { revocationId: row.id, adminId: row.admin_id, cause: row.cause, errorCode: errorLabel(error) },
        'session store revoke failed; it stays pending and is retried',
      );
      return 'pending';
    }
  }

  /** One pass over the due markers (the timer calls this; so can an operator or a test). */
  async function retryPending(limit = 100): Promise<{ done: number; pending: number }> {
    const due = await queries.claimDue(new Date(clock.now()), storeTimeoutMs * 2, limit);
    let done = 0;
    // The change's own time, never the retry's: a session signed in since then is legitimate.
    for (const row of due) if ((await attempt(row, row.attempts, row.requested_at.getTime())) === 'done') done += 1;
    return { done, pending: due.length - done };
  }

  return {
    retryPending,

    /**
     * Inside the change's transaction: each admin's revocation marker (cut-off `now`), then the
     * durable rows. Throws (503) when the store cannot take a marker, which rolls the change back.
     */
    async record(
      trx: Knex.Transaction,
      rows: { kind: AdminKind; adminId: string; cause: RevocationCause }[],
      now: Date,
    ): Promise<RevocationRow[]> {
      for (const row of rows) {
        try {
          await bounded(revocation.revokeAll(row.kind, row.adminId, now.getTime()));
        } catch (error) {
          logger.warn(
            { adminId: row.adminId, cause: row.cause, errorCode: errorLabel(error) },
            'session revocation marker could not be written; the change is refused',
          );
          throw new SessionStoreError(
            'session.store_unavailable',
            'The session store did not take the revocation; nothing was changed. Try again shortly.',
          );
        }
      }
      return queries.insert(trx, rows, now);
    },

    /**
     * Right after the commit: a few quick attempts per marker; what still fails stays pending.
     * Once the store has failed, the remaining markers (a suspended tenant's admins) are left to
     * the timer at once, so a store outage costs the request one marker's attempts, not all.
     */
    async revokeCommitted(rows: RevocationRow[]): Promise<RevokeOutcome> {
      const committedAt = clock.now();
      for (const row of rows) {
        let result: RevokeOutcome = 'pending';
        for (const [index, delay] of attemptDelaysMs.entries()) {
          if (delay > 0) await sleep(delay);
          result = await attempt(row, row.attempts + index, committedAt);
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
