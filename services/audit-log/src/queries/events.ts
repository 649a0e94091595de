// The only place that speaks knex for reading audit_events (writes go through libs/audit).
import type { Knex } from 'knex';

export interface EventRow {
  id: string;
  chain_key: string;
  seq: string;
  tenant_id: string | null;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  occurred_at: Date;
  details: Record<string, unknown>;
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

const COLUMNS = ['id', 'chain_key', 'seq', 'tenant_id', 'actor_type', 'actor_id', 'action', 'target_type', 'target_id', 'request_id', 'ip', 'user_agent', 'occurred_at', 'details'];

export function createEventQueries(db: Knex) {
  return {
    /** Up to `limit` events after `position`, newest first. */
    list(filter: EventFilter, position: EventPosition | undefined, limit: number): Promise<EventRow[]> {
      const query = db('audit_events').select(COLUMNS).orderBy([{ column: 'occurred_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit);
      if (filter.tenantId === null) query.whereNull('tenant_id');
      else if (filter.tenantId !== undefined) query.where('tenant_id', filter.tenantId);
      if (filter.actorId) query.where('actor_id', filter.actorId);
      if (filter.action?.endsWith('.*')) query.where('action', 'like', `${filter.action.slice(0, -1).replace(/[\\%_]/g, '\\$&')}%`);
      else if (filter.action) query.where('action', filter.action);
      if (filter.from) query.where('occurred_at', '>=', filter.from);
      if (filter.to) query.where('occurred_at', '<', filter.to);
      if (position) query.whereRaw('(occurred_at, id) < (?::timestamptz, ?::bigint)', [position.occurredAt, position.id]);
      return query as unknown as Promise<EventRow[]>;
    },
  };
}

export type EventQueries = ReturnType<typeof createEventQueries>;
