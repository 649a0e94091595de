import { listChainKeys, verifyChain, type AuditEventRow, type ChainReport } from '@portcullis/audit';
import type { KeyRing } from '@portcullis/crypto';
// The only place that speaks knex for reading audit_events (writes go through libs/audit).
import type { Knex } from 'knex';

/** An event as read: the chained fields of libs/audit (the time as a Date, seq as the driver's string) and more. */
export interface EventRow extends AuditEventRow {
  /** Names beside the ids, for readers: null where the row is gone or the id names no admin. */
  tenant_slug: string | null;
  tenant_name: string | null;
  actor_email: string | null;
  target_label: string | null;
}

/** A tenant or an admin to pick in the filter form. */
export interface PickerOption {
  id: string;
  label: string;
}

export interface EventFilter {
  /** A tenant id, or null for platform-wide events; undefined = every tenant. */
  tenantId?: string | null;
  actorId?: string;
  /** Exact action, or a prefix when it ends with `.*` (`mfa.*`). */
  action?: string;
  from?: Date;
  to?: Date;
}

/** Keyset position: newest first by (occurred_at, id). */
export interface EventPosition {
  occurredAt: Date;
  id: string;
}

const COLUMNS = [
  'id',
  'chain_key',
  'seq',
  'tenant_id',
  'actor_type',
  'actor_id',
  'action',
  'target_type',
  'target_id',
  'request_id',
  'ip',
  'user_agent',
  'occurred_at',
  'details',
  'prev_hash',
  'hash',
  'hash_key_id',
].map((column) => `e.${column}`);

// Admin ids are uuids, actor and target ids text (a session hash, 'system'…): compared as text.
const LABEL_JOINS = `left join tenants t on t.id = e.tenant_id
  left join platform_admins pa on e.actor_type = 'platform_admin' and pa.id::text = e.actor_id
  left join tenant_admins ta on e.actor_type = 'tenant_admin' and ta.id::text = e.actor_id
  left join tenant_admins tta on e.target_type = 'tenant_admin' and tta.id::text = e.target_id
  left join platform_admins tpa on e.target_type = 'platform_admin' and tpa.id::text = e.target_id
  left join tenants tt on e.target_type = 'tenant' and tt.id::text = e.target_id`;

export function createEventQueries(db: Knex) {
  return {
    /** Up to `limit` events after `position`, newest first. */
    list(filter: EventFilter, position: EventPosition | undefined, limit: number): Promise<EventRow[]> {
      const query = db('audit_events as e')
        .select(COLUMNS)
        .select({
          tenant_slug: 't.slug',
          tenant_name: 't.name',
          actor_email: db.raw('coalesce(pa.email, ta.email)'),
          target_label: db.raw('coalesce(tta.email, tpa.email, tt.slug)'),
        })
        .joinRaw(LABEL_JOINS)
        .orderBy([
          { column: 'e.occurred_at', order: 'desc' },
          { column: 'e.id', order: 'desc' },
        ])
        .limit(limit);
      if (filter.tenantId === null) query.whereNull('e.tenant_id');
      else if (filter.tenantId !== undefined) query.where('e.tenant_id', filter.tenantId);
      if (filter.actorId) query.where('e.actor_id', filter.actorId);
      if (filter.action?.endsWith('.*'))
        query.where('e.action', 'like', `${filter.action.slice(0, -1).replace(/[\\%_]/g, '\\$&')}%`);
      else if (filter.action) query.where('e.action', filter.action);
      if (filter.from) query.where('e.occurred_at', '>=', filter.from);
      if (filter.to) query.where('e.occurred_at', '<', filter.to);
      if (position)
        query.whereRaw('(e.occurred_at, e.id) < (?::timestamptz, ?::bigint)', [position.occurredAt, position.id]);
      return query as unknown as Promise<EventRow[]>;
    },

    /** Tenants by slug, for the filter form's tenant picker (platform readers). */
    tenantOptions(limit = 1000): Promise<PickerOption[]> {
      return db('tenants').select('id', db.raw(`slug || ' (' || name || ')' as label`)).orderBy('slug').limit(limit);
    },

    /** The admins a reader may filter by: one tenant's, and platform admins for platform readers. */
    async actorOptions(
      tenantId: string | null | undefined,
      withPlatform: boolean,
      limit = 1000,
    ): Promise<PickerOption[]> {
      const tenantAdmins = tenantId
        ? await db('tenant_admins')
            .where({ tenant_id: tenantId })
            .select('id', 'email as label')
            .orderBy('email')
            .limit(limit)
        : [];
      const platformAdmins = withPlatform
        ? await db('platform_admins')
            .select('id', db.raw(`email || ' (platform)' as label`))
            .orderBy('email')
            .limit(limit)
        : [];
      return [...tenantAdmins, ...platformAdmins] as PickerOption[];
    },

    /** Up to `limit` chain keys after `after`, in key order (libs/audit reads them). */
    chainKeys: (after: string | undefined, limit: number): Promise<string[]> =>
      listChainKeys(db, { ...(after === undefined ? {} : { after }), limit }),

    /** The slugs of these tenants (chain keys are tenant ids), for the report beside the keys. */
    async tenantSlugs(ids: string[]): Promise<Map<string, string>> {
      const uuids = ids.filter((id) => id !== 'platform');
      if (uuids.length === 0) return new Map();
      const rows = (await db('tenants').whereIn('id', uuids).select('id', 'slug')) as { id: string; slug: string }[];
      return new Map(rows.map((row) => [row.id, row.slug]));
    },

    /** Walks one chain (libs/audit does the checking; the rows are read here). */
    verifyChain: (chainKey: string, keys: KeyRing | undefined): Promise<ChainReport> =>
      verifyChain(db, chainKey, { keys }),
  };
}

export type EventQueries = ReturnType<typeof createEventQueries>;
