// Reading the audit log: who may see what (tenant admins their own tenant only; platform admins
// everything), keyset pages with an opaque cursor, exports in batches, sealed details opened
// for readers when the key is configured.
import { apiError } from '@portcullis/http';
import { exportedChainEvent, type AuditWriter, type ChainReport, type ExportedChainEvent } from '@portcullis/audit';
import type { KeyRing } from '@portcullis/crypto';
import type { SignedInAdmin } from '@portcullis/session-auth';
import type { EventFilter, EventPosition, EventQueries, EventRow, PickerOption } from '../queries/events.js';

/** An event as readers and exports see it: the exported chain fields (libs/audit) and names beside the ids. */
export interface EventView extends ExportedChainEvent {
  /** Names beside the ids (the rows as they are now; null where gone). */
  tenantSlug: string | null;
  tenantName: string | null;
  actorEmail: string | null;
  targetLabel: string | null;
}

/** "Verify all chains" stops starting chains after this long, well inside a proxy's timeout (often 30-60 s). */
export const VERIFY_ALL_BUDGET_MS = 10_000;

export interface AllChainsReport {
  chains: (ChainReport & { tenantSlug: string | null })[];
  broken: number;
  complete: boolean;
  /** The last chain checked when the page stopped early: ask again with after=nextAfter. */
  nextAfter: string | null;
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
  clock,
}: {
  queries: EventQueries;
  /** Times "verify all chains" against its budget. */
  clock: { now(): number };
  /** Records who exported what (audit.exported). */
  audit: AuditWriter;
  detailsKeys?: KeyRing | undefined;
}) {
  const view = (row: EventRow): EventView => ({
    ...exportedChainEvent(row, detailsKeys),
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

    /**
     * Platform admins: every chain in key order from `after`, each walked whole, until `limit`
     * chains or VERIFY_ALL_BUDGET_MS have gone by (checked between chains, so at least one is
     * checked per call); the answer says where to go on. Not audited, as the single verify is not.
     */
    async verifyAll(after: string | undefined, limit: number): Promise<AllChainsReport> {
      const started = clock.now();
      const keys = await queries.chainKeys(after?.toLowerCase(), limit + 1);
      const reports: ChainReport[] = [];
      for (const key of keys.slice(0, limit)) {
        if (reports.length > 0 && clock.now() - started > VERIFY_ALL_BUDGET_MS) break;
        reports.push(await queries.verifyChain(key, detailsKeys));
      }
      const slugs = await queries.tenantSlugs(reports.map((report) => report.chainKey));
      const complete = reports.length === keys.length;
      return {
        chains: reports.map((report) => ({ ...report, tenantSlug: slugs.get(report.chainKey) ?? null })),
        broken: reports.filter((report) => !report.ok).length,
        complete,
        nextAfter: complete ? null : reports.at(-1)!.chainKey,
      };
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
