// The only place that speaks knex for tenant admins, their second factor included.
import type { Knex } from 'knex';

/** A new account's columns: no factor yet, the temporary password to change, no failures. */
export const newAccount = (now: Date) => ({
  mfa_enabled: false,
  must_change_password: true,
  failed_attempts: 0,
  created_at: now,
  updated_at: now,
});

export interface TenantAdminRow {
  id: string;
  tenant_id: string;
  email: string;
  totp_secret: string | null;
  mfa_enabled: boolean;
  mfa_enrolled_at: Date | null;
  totp_last_used_step: string | null;
  recovery_code_hashes: string | null;
  must_change_password: boolean;
  disabled_at: Date | null;
  locked_until: Date | null;
  sessions_revoked_at: Date | null;
  created_at: Date;
}

/** The factor columns as they are restored by a rollback (text forms of the reset log). */
export interface FactorColumns {
  totp_secret: string | null;
  mfa_enabled: boolean;
  mfa_enrolled_at: string | null;
  totp_last_used_step: string | null;
  recovery_code_hashes: string | null;
}

const SUMMARY_COLUMNS = [
  'id',
  'tenant_id',
  'email',
  'mfa_enabled',
  'mfa_enrolled_at',
  'must_change_password',
  'disabled_at',
  'locked_until',
  'created_at',
] as const;
export type TenantAdminSummary = Pick<TenantAdminRow, (typeof SUMMARY_COLUMNS)[number]>;

export function createTenantAdminQueries(db: Knex) {
  return {
    async insert(
      row: { id: string; tenant_id: string; email: string; password_hash: string },
      now: Date,
      trx: Knex | Knex.Transaction = db,
    ): Promise<TenantAdminSummary> {
      const [created] = await trx('tenant_admins')
        .insert({ ...row, ...newAccount(now) })
        .returning([...SUMMARY_COLUMNS]);
      return created as TenantAdminSummary;
    },

    list(tenantId: string): Promise<TenantAdminSummary[]> {
      return db('tenant_admins')
        .where({ tenant_id: tenantId })
        .select([...SUMMARY_COLUMNS])
        .orderBy('email');
    },

    findSummary(tenantId: string, id: string): Promise<TenantAdminSummary | undefined> {
      return db('tenant_admins')
        .where({ tenant_id: tenantId, id })
        .first([...SUMMARY_COLUMNS]);
    },

    /** The full row, locked for the rest of the transaction (resets and rollbacks of one admin queue). */
    findForUpdate(trx: Knex.Transaction, id: string): Promise<TenantAdminRow | undefined> {
      return trx<TenantAdminRow>('tenant_admins').where({ id }).forUpdate().first();
    },

    idsOfTenant(trx: Knex.Transaction, tenantId: string): Promise<string[]> {
      return trx('tenant_admins').where({ tenant_id: tenantId }).pluck('id');
    },

    /** No factor any more: the next sign-in must enrol; every session before `now` is void. */
    async clearFactor(trx: Knex.Transaction, id: string, now: Date): Promise<void> {
      await trx('tenant_admins').where({ id }).update({
        totp_secret: null,
        mfa_enabled: false,
        mfa_enrolled_at: null,
        totp_last_used_step: null,
        recovery_code_hashes: null,
        sessions_revoked_at: now,
        updated_at: now,
      });
    },

    async restoreFactor(trx: Knex.Transaction, id: string, factor: FactorColumns, now: Date): Promise<void> {
      await trx('tenant_admins')
        .where({ id })
        .update({ ...factor, sessions_revoked_at: now, updated_at: now });
    },

    async disable(trx: Knex.Transaction, id: string, now: Date): Promise<void> {
      await trx('tenant_admins').where({ id }).update({ disabled_at: now, sessions_revoked_at: now, updated_at: now });
    },

    /** Signs in again; sessions from before the disable stay void (sessions_revoked_at is kept). */
    async enable(trx: Knex.Transaction, id: string, now: Date): Promise<void> {
      await trx('tenant_admins').where({ id }).update({ disabled_at: null, updated_at: now });
    },

    /** Lifts a sign-in lockout (the failure count starts again). */
    async unlock(trx: Knex.Transaction, id: string, now: Date): Promise<void> {
      await trx('tenant_admins').where({ id }).update({ failed_attempts: 0, locked_until: null, updated_at: now });
    },

    /** A temporary password to change at the next sign-in; every session before `now` is void, any lockout lifted. */
    async setTemporaryPassword(trx: Knex.Transaction, id: string, passwordHash: string, now: Date): Promise<void> {
      await trx('tenant_admins').where({ id }).update({
        password_hash: passwordHash,
        must_change_password: true,
        failed_attempts: 0,
        locked_until: null,
        sessions_revoked_at: now,
        updated_at: now,
      });
    },

    /** Every session of this admin before `now` is void; the account stays usable. */
    async revokeSessions(trx: Knex.Transaction, id: string, now: Date): Promise<void> {
      await trx('tenant_admins').where({ id }).update({ sessions_revoked_at: now, updated_at: now });
    },

    async revokeSessionsOfTenant(trx: Knex.Transaction, tenantId: string, now: Date): Promise<void> {
      await trx('tenant_admins').where({ tenant_id: tenantId }).update({ sessions_revoked_at: now });
    },
  };
}

export type TenantAdminQueries = ReturnType<typeof createTenantAdminQueries>;
