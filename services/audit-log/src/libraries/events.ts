// Reading the audit log: who may see what (tenant admins their own tenant only; platform admins
// everything), keyset pages with an opaque cursor, exports in batches, sealed details opened
// for readers when the key is configured.
import { ApiError } from '@portcullis/http';
import { openDetails } from '@portcullis/audit';
import type { KeyRing } from '@portcullis/crypto';
import type { SignedInAdmin } from '@portcullis/session-auth';
import type { EventFilter, EventPosition, EventQueries, EventRow, PickerOption } from '../queries/events.js';

export interface EventView {
  id: string;
  chain: string;
  seq: number;
  tenantId: string | null;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
  occurredAt: string;
  details: Record<string, unknown>;
  /** The chain links: an export can be checked against the chain without the database. */
  prevHash: string;
  hash: string;
  hashKeyId: string | null;
  /** Names beside the ids (the rows as they are now; null where gone). */
  tenantSlug: string | null;
  tenantName: string | null;
  actorEmail: string | null;
  targetLabel: string | null;
}

/** What a reader asked for: `tenant` is a tenant id, 'platform', or absent. */
export interface RequestedFilter extends Omit<EventFilter, 'tenantId'> {
  tenant?: string | undefined;
}

const notFound = () => new ApiError('auth.not_found', 404, 'No such tenant.');

export const encodeCursor = (row: EventRow) =>
  Buffer.from(JSON.stringify([row.occurred_at.toISOString(), String(row.id)])).toString('base64url');

export function decodeCursor(cursor: string): EventPosition {
  try {
    const [occurredAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(occurredAt);
    if (Number.isNaN(date.getTime()) || !/^\d{1,18}$/.test(id)) throw new Error('bad cursor');
    return { occurredAt: date, id };
  } catch {
    throw new ApiError('request.invalid', 400, 'Invalid request: cursor: must be a nextCursor returned by this API');
  }
}

export function createEventLibrary({
  queries,
  detailsKeys,
}: {
  queries: EventQueries;
  detailsKeys?: KeyRing | undefined;
}) {
  const view = (row: EventRow): EventView => ({
    id: String(row.id),
    chain: row.chain_key,
    seq: Number(row.seq),
    tenantId: row.tenant_id,
    actorType: row.actor_type,
    actorId: row.actor_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    requestId: row.request_id,
    ip: row.ip,
    userAgent: row.user_agent,
    occurredAt: row.occurred_at.toISOString(),
    details: openDetails(detailsKeys, row.chain_key, row.seq, row.details),
    prevHash: row.prev_hash,
    hash: row.hash,
    hashKeyId: row.hash_key_id,
    tenantSlug: row.tenant_slug,
    tenantName: row.tenant_name,
    actorEmail: row.actor_email,
    targetLabel: row.target_label,
  });

  return {
    /** The filter this reader may run: a tenant admin is held to their own tenant (another one is 404). */
    scope(session: Pick<SignedInAdmin, 'kind' | 'tenantId'>, requested: RequestedFilter): EventFilter {
      const { tenant, ...rest } = requested;
      if (session.kind === 'platform')
        return {
          ...rest,
          ...(tenant === undefined ? {} : { tenantId: tenant === 'platform' ? null : tenant.toLowerCase() }),
        };
      const own = session.tenantId?.toLowerCase();
      if (!own || (tenant !== undefined && tenant.toLowerCase() !== own)) throw notFound();
      return { ...rest, tenantId: own };
    },

    /** The chain a reader may verify: their own tenant's, or for platform admins any ('platform' included). */
    chainFor(session: Pick<SignedInAdmin, 'kind' | 'tenantId'>, tenant: string | undefined): string {
      if (session.kind === 'platform') {
        if (!tenant)
          throw new ApiError(
            'request.invalid',
            400,
            "Invalid request: tenant: is required (a tenant id, or 'platform')",
          );
        return tenant.toLowerCase();
      }
      const own = session.tenantId?.toLowerCase();
      if (!own || (tenant && tenant.toLowerCase() !== own)) throw notFound();
      return own;
    },

    /** What the filter form offers this reader: tenants (platform readers) and the admins of the tenant in view. */
    async pickers(
      reader: Pick<SignedInAdmin, 'kind' | 'tenantId'>,
      tenant: string | undefined,
    ): Promise<{ tenants: PickerOption[]; actors: PickerOption[] }> {
      if (reader.kind !== 'platform')
        return { tenants: [], actors: await queries.actorOptions(reader.tenantId, false) };
      const inView = tenant && tenant !== 'platform' ? tenant.toLowerCase() : null;
      const [tenants, actors] = await Promise.all([queries.tenantOptions(), queries.actorOptions(inView, true)]);
      return { tenants, actors };
    },

    async page(
      filter: EventFilter,
      cursor: string | undefined,
      limit: number,
    ): Promise<{ events: EventView[]; nextCursor: string | null }> {
      const rows = await queries.list(filter, cursor ? decodeCursor(cursor) : undefined, limit);
      return { events: rows.map(view), nextCursor: rows.length === limit ? encodeCursor(rows.at(-1)!) : null };
    },

    /** Every matching event, newest first, in batches (an export streams them). */
    async *all(filter: EventFilter, batchSize = 1000): AsyncGenerator<EventView[]> {
      let position: EventPosition | undefined;
      for (;;) {
        const rows = await queries.list(filter, position, batchSize);
        if (rows.length > 0) yield rows.map(view);
        if (rows.length < batchSize) return;
        const last = rows.at(-1)!;
        position = { occurredAt: last.occurred_at, id: String(last.id) };
      }
    },
  };
}

export type EventLibrary = ReturnType<typeof createEventLibrary>;
