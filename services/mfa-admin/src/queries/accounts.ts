// The only place that speaks knex for every admin account at once, platform and tenant, as the
// platform-wide "who is signed in" walks them.
import type { Knex } from 'knex';

export interface AccountRow {
  kind: 'platform' | 'tenant';
  id: string;
  email: string;
  tenant_id: string | null;
  /** '' for platform admins: they come first, before every tenant (slugs are never empty). */
  tenant_slug: string;
  tenant_name: string | null;
}

/** A place in the walk: the account the next page starts after. */
export interface AccountKey {
  slug: string;
  email: string;
  id: string;
}

export function createAccountQueries(db: Knex) {
  /** Platform admins and tenant admins as one relation (a subquery the outer query filters and orders). */
  const accounts = () =>
    db
      .select(
        db.raw("'platform' as kind"),
        'p.id',
        'p.email',
        db.raw('null::uuid as tenant_id'),
        db.raw("'' as tenant_slug"),
        db.raw('null::text as tenant_name'),
      )
      .from('platform_admins as p')
      .unionAll((union) =>
        union
          .select(db.raw("'tenant'"), 'a.id', 'a.email', 'a.tenant_id', 't.slug', 't.name')
          .from('tenant_admins as a')
          .join('tenants as t', 't.id', 'a.tenant_id'),
      )
      .as('accounts');

  return {
    /** Up to `limit` accounts after `after`, by (tenant slug, email, id): the id breaks ties, so none repeats or is skipped. */
    page(after: AccountKey | undefined, limit: number): Promise<AccountRow[]> {
      return db
        .from(accounts())
        .modify((builder) => {
          if (after)
            builder.whereRaw('(tenant_slug, email, id) > (?, ?, ?::uuid)', [after.slug, after.email, after.id]);
        })
        .orderBy(['tenant_slug', 'email', 'id'])
        .limit(limit)
        .select('*') as Promise<AccountRow[]>;
    },

    /** The account with this id, of either kind. */
    find(id: string): Promise<AccountRow | undefined> {
      return db.from(accounts()).where({ id }).first('*') as Promise<AccountRow | undefined>;
    },
  };
}

export type AccountQueries = ReturnType<typeof createAccountQueries>;
