import type { Knex } from 'knex';

export interface TenantRow {
  id: string;
  slug: string;
  name: string;
  status: 'active' | 'suspended';
}

export function createTenantQueries(db: Knex) {
  return {
    findBySlug(slug: string): Promise<TenantRow | undefined> {
      return db<TenantRow>('tenants').whereRaw('lower(slug) = lower(?)', [slug]).first();
    },
    findById(id: string): Promise<TenantRow | undefined> {
      return db<TenantRow>('tenants').where({ id }).first();
    },
  };
}

export type TenantQueries = ReturnType<typeof createTenantQueries>;
