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
  };
}

export type PlatformAdminQueries = ReturnType<typeof createPlatformAdminQueries>;
