// The only place that speaks knex for platform admins as the console manages them.
import type { Knex } from 'knex';
import { newAccount } from './tenant-admins.js';

const COLUMNS = ['id', 'email', 'mfa_enabled', 'must_change_password', 'disabled_at', 'created_at'] as const;
export interface PlatformAdminSummary {
  id: string;
  email: string;
  mfa_enabled: boolean;
  must_change_password: boolean;
  disabled_at: Date | null;
  created_at: Date;
}

export function createPlatformAdminQueries(db: Knex) {
  return {
    list(): Promise<PlatformAdminSummary[]> {
      return db('platform_admins')
        .select([...COLUMNS])
        .orderBy('email');
    },

    async insert(
      row: { id: string; email: string; password_hash: string },
      now: Date,
      trx: Knex.Transaction,
    ): Promise<PlatformAdminSummary> {
      const [created] = await trx('platform_admins')
        .insert({ ...row, ...newAccount(now) })
        .returning([...COLUMNS]);
      return created as PlatformAdminSummary;
    },

    /** Every platform admin row, locked: disabling one checks that another stays active. */
    lockAll(trx: Knex.Transaction): Promise<PlatformAdminSummary[]> {
      return trx('platform_admins')
        .select([...COLUMNS])
        .forUpdate();
    },

    async disable(trx: Knex.Transaction, id: string, now: Date): Promise<void> {
      await trx('platform_admins').where({ id }).update({ disabled_at: now, updated_at: now });
    },

    /** One platform admin row, locked for the rest of the transaction. */
    findForUpdate(trx: Knex.Transaction, id: string): Promise<PlatformAdminSummary | undefined> {
      return trx('platform_admins')
        .where({ id })
        .forUpdate()
        .first([...COLUMNS]);
    },

    /**
     * Signs in again. Sessions from before the disable stay void: the revocation marker the
     * disable wrote in the session store (their cut-off) is left as it is.
     */
    async enable(trx: Knex.Transaction, id: string, now: Date): Promise<void> {
      await trx('platform_admins').where({ id }).update({ disabled_at: null, updated_at: now });
    },
  };
}

export type PlatformAdminQueries = ReturnType<typeof createPlatformAdminQueries>;
