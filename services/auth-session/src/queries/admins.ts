// The only place that speaks knex for admins. Both admin tables share one shape.
import type { Knex } from 'knex';
import type { AdminKind } from '@portcullis/session-auth';

export interface AdminRow {
  id: string;
  tenant_id: string | null;
  email: string;
  password_hash: string;
  totp_secret: string | null;
  mfa_enabled: boolean;
  mfa_enrolled_at: Date | null;
  totp_last_used_step: string | null;
  recovery_code_hashes: string | null;
  failed_attempts: number;
  locked_until: Date | null;
  password_changed_at: Date | null;
  must_change_password: boolean;
  disabled_at: Date | null;
  sessions_revoked_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export const tableOf = (kind: AdminKind) => (kind === 'platform' ? 'platform_admins' : 'tenant_admins');
/** The encryption context of an admin's live TOTP secret: bound to its table, column and row. */
export const totpSecretContext = (kind: AdminKind, id: string) => ({
  table: tableOf(kind),
  column: 'totp_secret',
  rowId: id,
});

export function createAdminQueries(db: Knex) {
  const table = (kind: AdminKind, trx: Knex | Knex.Transaction = db) => trx<AdminRow>(tableOf(kind));

  return {
    async findByEmail(kind: AdminKind, tenantId: string | null, email: string): Promise<AdminRow | undefined> {
      const query = table(kind).whereRaw('lower(email) = lower(?)', [email]);
      if (kind === 'tenant') query.andWhere({ tenant_id: tenantId });
      return query.first();
    },

    findById(kind: AdminKind, id: string): Promise<AdminRow | undefined> {
      return table(kind).where({ id }).first();
    },

    /** Adds one failure atomically and returns the new count, so replicas never lose one. */
    async addFailedAttempt(kind: AdminKind, id: string): Promise<number> {
      const [row] = await table(kind).where({ id }).increment('failed_attempts', 1).returning(['failed_attempts']);
      return row?.failed_attempts ?? 0;
    },

    async lockUntil(kind: AdminKind, id: string, until: Date): Promise<void> {
      await table(kind).where({ id }).update({ locked_until: until });
    },

    async clearFailures(kind: AdminKind, id: string): Promise<void> {
      await table(kind).where({ id }).update({ failed_attempts: 0, locked_until: null });
    },

    /** Accepts a TOTP time-step once: the update matches only if no later or equal step was used. */
    async claimTotpStep(kind: AdminKind, id: string, step: number): Promise<boolean> {
      const updated = await table(kind)
        .where({ id })
        .andWhere((where) => where.whereNull('totp_last_used_step').orWhere('totp_last_used_step', '<', step))
        .update({ totp_last_used_step: String(step) });
      return updated === 1;
    },

    /** Compare-and-set, so one recovery code cannot be spent twice by two parallel requests. */
    async replaceRecoveryCodes(kind: AdminKind, id: string, expected: string | null, next: string): Promise<boolean> {
      const updated = await table(kind)
        .where({ id, recovery_code_hashes: expected })
        .update({ recovery_code_hashes: next });
      return updated === 1;
    },

    async activateTotp(
      kind: AdminKind,
      id: string,
      fields: { secret: string; recoveryCodeHashes: string; now: Date; step: number },
    ): Promise<void> {
      await table(kind)
        .where({ id })
        .update({
          totp_secret: fields.secret,
          mfa_enabled: true,
          mfa_enrolled_at: fields.now,
          totp_last_used_step: String(fields.step),
          recovery_code_hashes: fields.recoveryCodeHashes,
          updated_at: fields.now,
        });
    },

    /**
     * Swaps an enrolled admin's TOTP secret for a confirmed new one: compare-and-set against the
     * secret the caller checked, so a reset, rollback or other replacement meanwhile wins and
     * this one changes nothing. Recovery codes are not touched.
     */
    async replaceTotp(
      kind: AdminKind,
      id: string,
      fields: { expectedSecret: string; secret: string; now: Date; step: number },
    ): Promise<boolean> {
      const updated = await table(kind)
        .where({ id, mfa_enabled: true, totp_secret: fields.expectedSecret })
        .update({
          totp_secret: fields.secret,
          mfa_enrolled_at: fields.now,
          totp_last_used_step: String(fields.step),
          updated_at: fields.now,
        });
      return updated === 1;
    },

    /** New password; every session created before `now` becomes void (the caller gets a fresh one). */
    async changePassword(kind: AdminKind, id: string, passwordHash: string, now: Date): Promise<void> {
      await table(kind).where({ id }).update({
        password_hash: passwordHash,
        password_changed_at: now,
        must_change_password: false,
        sessions_revoked_at: now,
        updated_at: now,
      });
    },

    async revokeSessionsBefore(kind: AdminKind, id: string, now: Date): Promise<void> {
      await table(kind).where({ id }).update({ sessions_revoked_at: now });
    },
  };
}

export type AdminQueries = ReturnType<typeof createAdminQueries>;
