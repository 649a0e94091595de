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

export type TenantSort = 'slug' | 'name' | 'created';

/** Where a page starts: the sort column's value (as text, `created` to the microsecond) and the id. */
export interface TenantKey {
  value: string;
  id: string;
}

export interface TenantPageQuery {
  /** Case-insensitive substring of the slug or the name; LIKE's wildcards in it match themselves. */
  search?: string;
  sort: TenantSort;
  order: 'asc' | 'desc';
  /** 'forward': the rows after `from` in the chosen order; 'backward': the rows before it. */
  direction: 'forward' | 'backward';
  from?: TenantKey;
  limit: number;
}

const SORT_COLUMNS: Record<TenantSort, string> = { slug: 't.slug', name: 't.name', created: 't.created_at' };
/**
 * The sort value as the cursor carries it. created_at as UTC text to the microsecond: a JS Date
 * keeps milliseconds only, and a cursor that rounded would repeat or skip rows at the boundary.
 */
const KEY_TEXT: Record<TenantSort, string> = {
  slug: 't.slug',
  name: 't.name',
  created: `to_char(t.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
};
const KEY_CAST: Record<TenantSort, string> = { slug: '?', name: '?', created: '?::timestamptz' };

/** Backslash-escapes LIKE's wildcards (and the escape itself), so `50%_off` finds those characters. */
export const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`);

/** The (sort column, id) row comparison of keyset pagination. */
function afterKey(builder: Knex.QueryBuilder, sort: TenantSort, operator: '<' | '>', key: TenantKey): void {
  builder.whereRaw(`(${SORT_COLUMNS[sort]}, t.id) ${operator} (${KEY_CAST[sort]}, ?::uuid)`, [key.value, key.id]);
}

export function createTenantQueries(db: Knex) {
  /** The tenants matching a search (ILIKE: the admin database is PostgreSQL; backslash is the LIKE escape). */
  const filtered = (search: string | undefined) =>
    db('tenants as t').modify((builder) => {
      if (!search) return;
      const pattern = `%${likeLiteral(search)}%`;
      builder.where((where) =>
        where.whereRaw(`t.slug ilike ? escape '\\'`, [pattern]).orWhereRaw(`t.name ilike ? escape '\\'`, [pattern]),
      );
    });

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

    /**
     * One page of tenants in keyset order: the sort column, then the id (unique, so no two rows
     * tie and no row is skipped or repeated at a page boundary). `from` is the key of the row the
     * page starts after ('forward') or before ('backward'); a backward page is read in reverse
     * and turned round. Reads `limit + 1` rows: the extra one tells whether more lie that way.
     */
    async page(query: TenantPageQuery): Promise<{ rows: (TenantSummary & { sort_key: string })[]; more: boolean }> {
      const column = SORT_COLUMNS[query.sort];
      const reverse = (query.order === 'desc') !== (query.direction === 'backward');
      const rows = (await filtered(query.search)
        .select('t.*', db.raw('(select count(*) from tenant_admins a where a.tenant_id = t.id)::int as admin_count'))
        .select(db.raw(`${KEY_TEXT[query.sort]} as sort_key`))
        .modify((builder) => {
          if (query.from) afterKey(builder, query.sort, reverse ? '<' : '>', query.from);
        })
        .orderBy([
          { column, order: reverse ? 'desc' : 'asc' },
          { column: 't.id', order: reverse ? 'desc' : 'asc' },
        ])
        .limit(query.limit + 1)) as (TenantSummary & { sort_key: string })[];
      const more = rows.length > query.limit;
      const page = rows.slice(0, query.limit);
      return { rows: query.direction === 'backward' ? page.reverse() : page, more };
    },

    /** Whether a matching row lies past `key` in `direction` (the page boundary `page` did not read). */
    async existsToward(query: Omit<TenantPageQuery, 'from' | 'limit'>, key: TenantKey): Promise<boolean> {
      const reverse = (query.order === 'desc') !== (query.direction === 'backward');
      const row = await filtered(query.search)
        .modify((builder) => afterKey(builder, query.sort, reverse ? '<' : '>', key))
        .first(db.raw('1 as found'));
      return !!row;
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
