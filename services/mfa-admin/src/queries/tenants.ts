// The only place that speaks knex for tenants.
import type { Knex } from 'knex';

export interface TenantRow {
  id: string;
  slug: string;
  name: string;
  status: 'active' | 'suspended';
  created_at: Date;
  updated_at: Date;
}

export interface TenantSummary extends TenantRow {
  admin_count: number;
}

export function createTenantQueries(db: Knex) {
  return {
    async insert(
      row: Pick<TenantRow, 'id' | 'slug' | 'name'>,
      now: Date,
      trx: Knex | Knex.Transaction = db,
    ): Promise<TenantRow> {
      const [created] = await trx<TenantRow>('tenants')
        .insert({ ...row, status: 'active', created_at: now, updated_at: now })
        .returning('*');
      return created!;
    },

    async list(): Promise<TenantSummary[]> {
      const rows = await db('tenants as t')
        .select('t.*', db.raw('(select count(*) from tenant_admins a where a.tenant_id = t.id)::int as admin_count'))
        .orderBy('t.slug');
      return rows as TenantSummary[];
    },

    findById(id: string, trx: Knex | Knex.Transaction = db): Promise<TenantRow | undefined> {
      return trx<TenantRow>('tenants').where({ id }).first();
    },

    /** Locks the row for the rest of the transaction. */
    findForUpdate(trx: Knex.Transaction, id: string): Promise<TenantRow | undefined> {
      return trx<TenantRow>('tenants').where({ id }).forUpdate().first();
    },

    async rename(trx: Knex.Transaction, id: string, name: string, now: Date): Promise<void> {
      await trx('tenants').where({ id }).update({ name, updated_at: now });
    },

    async setStatus(trx: Knex.Transaction, id: string, status: TenantRow['status'], now: Date): Promise<void> {
      await trx('tenants').where({ id }).update({ status, updated_at: now });
    },
  };
}

export type TenantQueries = ReturnType<typeof createTenantQueries>;
