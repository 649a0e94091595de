// The only place that speaks knex for tenant_admin_mfa_reset_logs. previous_* columns are read
// only by the rollback (findForUpdate) and never by the history queries.
import type { Knex } from 'knex';
import { RESET_LOG_TABLE, type PreviousValues } from '@portcullis/mfa-reset-log';

export interface ResetLogRow extends PreviousValues {
  id: string;
  tenant_id: string;
  tenant_admin_id: string;
  reset_by: string;
  reason: string;
  ticket: string | null;
  created_at: Date;
  rolled_back_at: Date | null;
  rolled_back_by: string | null;
  rollback_reason: string | null;
  rollback_forced: boolean;
  rollback_force_reason: string | null;
}

/** What history pages and the API show: never a previous_* value. */
const HISTORY_COLUMNS = [
  'l.id',
  'l.tenant_id',
  'l.tenant_admin_id',
  'a.email as admin_email',
  'l.reset_by',
  'p.email as reset_by_email',
  'l.reason',
  'l.ticket',
  'l.created_at',
  'l.rolled_back_at',
  'l.rolled_back_by',
  'r.email as rolled_back_by_email',
  'l.rollback_reason',
  'l.rollback_forced',
  'l.rollback_force_reason',
];

export interface HistoryRow {
  id: string;
  tenant_id: string;
  tenant_admin_id: string;
  admin_email: string | null;
  reset_by: string;
  reset_by_email: string | null;
  reason: string;
  ticket: string | null;
  created_at: Date;
  rolled_back_at: Date | null;
  rolled_back_by: string | null;
  rolled_back_by_email: string | null;
  rollback_reason: string | null;
  rollback_forced: boolean;
  rollback_force_reason: string | null;
}

export function createResetLogQueries(db: Knex) {
  return {
    /** The id first, so previous_* can be bound to it (AAD) before the row is written. */
    async nextId(trx: Knex.Transaction): Promise<string> {
      const result = await trx.raw<{ rows: { id: string }[] }>(
        `select nextval(pg_get_serial_sequence('${RESET_LOG_TABLE}', 'id'))::text as id`,
      );
      return result.rows[0]!.id;
    },

    async insert(
      trx: Knex.Transaction,
      row: Omit<
        ResetLogRow,
        'rolled_back_at' | 'rolled_back_by' | 'rollback_reason' | 'rollback_forced' | 'rollback_force_reason'
      >,
    ): Promise<void> {
      await trx(RESET_LOG_TABLE).insert(row);
    },

    findForUpdate(trx: Knex.Transaction, id: string): Promise<ResetLogRow | undefined> {
      return trx<ResetLogRow>(RESET_LOG_TABLE).where({ id }).forUpdate().first();
    },

    async newerResetExists(trx: Knex.Transaction, adminId: string, id: string): Promise<boolean> {
      const newer = await trx(RESET_LOG_TABLE).where({ tenant_admin_id: adminId }).andWhere('id', '>', id).first('id');
      return !!newer;
    },

    /** Conditional: only a row not rolled back yet changes; returns whether it did. */
    async markRolledBack(
      trx: Knex.Transaction,
      id: string,
      fields: { at: Date; by: string; reason: string; forced: boolean; forceReason: string | null },
    ): Promise<boolean> {
      const updated = await trx(RESET_LOG_TABLE).where({ id }).whereNull('rolled_back_at').update({
        rolled_back_at: fields.at,
        rolled_back_by: fields.by,
        rollback_reason: fields.reason,
        rollback_forced: fields.forced,
        rollback_force_reason: fields.forceReason,
      });
      return updated === 1;
    },

    /** Newest first, keyset on id; one tenant, optionally one admin. */
    history(filter: { tenantId: string; adminId?: string; beforeId?: string; limit: number }): Promise<HistoryRow[]> {
      const query = db(`${RESET_LOG_TABLE} as l`)
        .leftJoin('tenant_admins as a', 'a.id', 'l.tenant_admin_id')
        .leftJoin('platform_admins as p', 'p.id', 'l.reset_by')
        .leftJoin('platform_admins as r', 'r.id', 'l.rolled_back_by')
        .where('l.tenant_id', filter.tenantId)
        .select(HISTORY_COLUMNS)
        .orderBy('l.id', 'desc')
        .limit(filter.limit);
      if (filter.adminId) query.andWhere('l.tenant_admin_id', filter.adminId);
      if (filter.beforeId) query.andWhere('l.id', '<', filter.beforeId);
      return query;
    },

    findHistoryRow(id: string): Promise<HistoryRow | undefined> {
      return db(`${RESET_LOG_TABLE} as l`)
        .leftJoin('tenant_admins as a', 'a.id', 'l.tenant_admin_id')
        .leftJoin('platform_admins as p', 'p.id', 'l.reset_by')
        .leftJoin('platform_admins as r', 'r.id', 'l.rolled_back_by')
        .where('l.id', id)
        .first(HISTORY_COLUMNS);
    },
  };
}

export type ResetLogQueries = ReturnType<typeof createResetLogQueries>;
