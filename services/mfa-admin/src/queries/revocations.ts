// The durable marker of session-store revokes still to do (table session_revocations).
import type { Knex } from 'knex';
import type { AdminKind } from '@portcullis/session-auth';

export type RevocationCause =
  'mfa_reset' | 'mfa_rollback' | 'admin_disabled' | 'tenant_suspended' | 'admin_signed_out' | 'password_reset';

export interface RevocationRow {
  id: string;
  admin_kind: AdminKind;
  admin_id: string;
  cause: RevocationCause;
  attempts: number;
  done_at: Date | null;
  /** When the change was made: the revocation cut-off of late retries. */
  requested_at: Date;
}

export function createRevocationQueries(db: Knex) {
  return {
    /** Written in the transaction of the change that needs it: committed together or not at all. */
    async insert(
      trx: Knex.Transaction,
      rows: { kind: AdminKind; adminId: string; cause: RevocationCause }[],
      now: Date,
    ): Promise<RevocationRow[]> {
      if (rows.length === 0) return [];
      return trx('session_revocations')
        .insert(
          rows.map((row) => ({
            admin_kind: row.kind,
            admin_id: row.adminId,
            cause: row.cause,
            requested_at: now,
            next_attempt_at: now,
          })),
        )
        .returning(['id', 'admin_kind', 'admin_id', 'cause', 'attempts', 'done_at', 'requested_at']);
    },

    async markDone(id: string, now: Date): Promise<void> {
      await db('session_revocations')
        .where({ id })
        .whereNull('done_at')
        .update({ done_at: now, attempts: db.raw('attempts + 1'), last_error: null });
    },

    async markFailed(id: string, nextAttemptAt: Date, error: string): Promise<void> {
      await db('session_revocations')
        .where({ id })
        .whereNull('done_at')
        .update({ attempts: db.raw('attempts + 1'), next_attempt_at: nextAttemptAt, last_error: error });
    },

    /**
     * Claims due rows for this replica: their next attempt moves `leaseMs` ahead in the same
     * statement, so replicas retrying at once take different rows (SKIP LOCKED).
     */
    async claimDue(now: Date, leaseMs: number, limit: number): Promise<RevocationRow[]> {
      const result = await db.raw<{ rows: RevocationRow[] }>(
        `update session_revocations set next_attempt_at = ?::timestamptz + make_interval(secs => ?)
          where id in (select id from session_revocations where done_at is null and next_attempt_at <= ? order by next_attempt_at limit ? for update skip locked)
          returning id::text, admin_kind, admin_id, cause, attempts, done_at, requested_at`,
        [now, leaseMs / 1000, now, limit],
      );
      return result.rows;
    },

    pending(): Promise<RevocationRow[]> {
      return db('session_revocations')
        .whereNull('done_at')
        .select('id', 'admin_kind', 'admin_id', 'cause', 'attempts', 'done_at', 'requested_at')
        .orderBy('id');
    },
  };
}

export type RevocationQueries = ReturnType<typeof createRevocationQueries>;
