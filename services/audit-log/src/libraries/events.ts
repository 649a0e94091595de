// Reading the audit log: who may see what (tenant admins their own tenant only; platform admins
// everything), keyset pages with an opaque cursor, exports in batches, sealed details opened
// for readers when the key is configured.
import { apiError } from '@portcullis/http';
import { openDetails, type AuditWriter, type ChainReport } from '@portcullis/audit';
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

const notFound = () => apiError('auth.not_found', 'No such tenant.');

export const encodeCursor = (row: EventRow) =>
  Buffer.from(JSON.stringify([row.occurred_at.toISOString(), String(row.id)])).toString('base64url');

export function decodeCursor(cursor: string): EventPosition {
  try {
    const [occurredAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(occurredAt);
    if (Number.isNaN(date.getTime()) || !/^\d{1,18}$/.test(id)) throw new Error('bad cursor');
    return { occurredAt: date, id };
  } catch {
    throw apiError('request.invalid', 'Invalid request: cursor: must be a nextCursor returned by this API');
  }
}

/** Where a request came from, for the audit record. */
export interface RequestMeta {
  ip: string;
  userAgent: string;
  requestId: string;
}

export function createEventLibrary({
  queries,
  audit,
  detailsKeys,
}: {
  queries: EventQueries;
  /** Records who exported what (audit.exported). */
  audit: AuditWriter;
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

  const library = {
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
          throw apiError('request.invalid', "Invalid request: tenant: is required (a tenant id, or 'platform')");
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

    /** Walks the chain this reader may verify (see chainFor) and reports the first break. */
    verify(session: Pick<SignedInAdmin, 'kind' | 'tenantId'>, tenant: string | undefined): Promise<ChainReport> {
      return queries.verifyChain(library.chainFor(session, tenant), detailsKeys);
    },

    /** Who took a copy of the log is itself on record, before the first byte leaves. */
    async recordExport(
      session: Pick<SignedInAdmin, 'kind' | 'tenantId' | 'id'>,
      request: RequestMeta,
      details: Record<string, unknown>,
    ): Promise<void> {
      await audit.record({
        tenantId: session.kind === 'tenant' ? session.tenantId : null,
        actorType: `${session.kind}_admin`,
        actorId: session.id,
        action: 'audit.exported',
        ...request,
        details,
      });
    },
  };
  return library;
}

export type EventLibrary = ReturnType<typeof createEventLibrary>;
