// Tenants and their admins: create, list, suspend / disable. Suspending a tenant or disabling an
// admin voids their sessions in the database at once and in the session store after commit.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { apiError } from '@portcullis/http';
import type { AuditWriter } from '@portcullis/audit';
import type { TenantAdminQueries, TenantAdminRow, TenantAdminSummary } from '../queries/tenant-admins.js';
import type { TenantKey, TenantQueries, TenantRow, TenantSort, TenantSummary } from '../queries/tenants.js';
import { auditBase, type Actor } from './actor.js';
import { inviteAdmin, isUniqueViolationOn, temporaryPassword, type PasswordHashing } from './invite.js';
import type { RevocationCause } from '../queries/revocations.js';
import type { RevokeOutcome, SessionRevoker } from './session-revoker.js';

export interface CreatedAdmin {
  admin: TenantAdminSummary;
  /** Shown once to the platform admin, who hands it over; it must be changed at first sign-in. */
  temporaryPassword: string;
}

export interface TenantPageRequest {
  q?: string;
  sort: TenantSort;
  order: 'asc' | 'desc';
  /** The key the page starts after (next) or ends before (previous); at most one. */
  after?: TenantKey;
  before?: TenantKey;
  limit: number;
}

export interface TenantPage {
  rows: TenantSummary[];
  /** The key to start the next page after; null on the last page. */
  next: TenantKey | null;
  /** The key to end the previous page before; null on the first page. */
  previous: TenantKey | null;
}

export function createTenantLibrary(deps: {
  db: Knex;
  tenants: TenantQueries;
  admins: TenantAdminQueries;
  revoker: SessionRevoker;
  passwords: PasswordHashing;
  audit: AuditWriter;
  clock: { now(): number };
}) {
  const { db, tenants, admins, revoker, passwords, audit, clock } = deps;

  async function tenantOrThrow(id: string): Promise<TenantRow> {
    const tenant = await tenants.findById(id);
    if (!tenant) throw apiError('tenant.not_found');
    return tenant;
  }

  /**
   * One change to one tenant admin, in one transaction: the row locked (another tenant's admin
   * is a 404), `change` (false: nothing to do, nothing recorded), its audit record and, with a
   * `cause`, the revocation of their sessions; the sessions are deleted after the commit.
   */
  async function changeAdmin(
    actor: Actor,
    tenantId: string,
    adminId: string,
    action: string,
    change: (trx: Knex.Transaction, admin: TenantAdminRow, now: Date) => Promise<boolean>,
    cause?: RevocationCause,
  ): Promise<{ admin: TenantAdminSummary; sessionsRevoked: RevokeOutcome }> {
    const now = new Date(clock.now());
    const markers = await db.transaction(async (trx) => {
      const admin = await admins.findForUpdate(trx, adminId);
      if (!admin || admin.tenant_id !== tenantId) throw apiError('tenant_admin.not_found');
      if (!(await change(trx, admin, now))) return [];
      await audit.record({ ...auditBase(actor, tenantId), action, targetType: 'tenant_admin', targetId: adminId }, trx);
      return cause ? revoker.record(trx, [{ kind: 'tenant', adminId, cause }], now) : [];
    });
    return {
      admin: (await admins.findSummary(tenantId, adminId))!,
      sessionsRevoked: await revoker.revokeCommitted(markers),
    };
  }

  return {
    /**
     * A page of tenants: keyset on the sort key and the id (stable while tenants are created,
     * unlike an offset), `limit + 1` rows read to know whether more follow, and one indexed
     * existence check for the other side when the page was reached through a cursor.
     */
    async page(query: TenantPageRequest): Promise<TenantPage> {
      const direction = query.before ? ('backward' as const) : ('forward' as const);
      const base = { search: query.q, sort: query.sort, order: query.order };
      const from = query.before ?? query.after;
      const { rows, more } = await tenants.page({ ...base, direction, from, limit: query.limit });
      const first = rows[0];
      const last = rows.at(-1);
      if (!first || !last) return { rows, next: null, previous: null };
      const keyOf = (row: TenantSummary & { sort_key: string }) => ({ value: row.sort_key, id: row.id });
      const [hasNext, hasPrevious] =
        direction === 'forward'
          ? [more, !!from && (await tenants.existsToward({ ...base, direction: 'backward' }, keyOf(first)))]
          : [await tenants.existsToward({ ...base, direction: 'forward' }, keyOf(last)), more];
      return { rows, next: hasNext ? keyOf(last) : null, previous: hasPrevious ? keyOf(first) : null };
    },
    get: tenantOrThrow,

    async create(actor: Actor, input: { slug: string; name: string }): Promise<TenantRow> {
      return db.transaction(async (trx) => {
        const tenant = await tenants
          .insert({ id: randomUUID(), slug: input.slug, name: input.name }, new Date(clock.now()), trx)
          .catch((error: unknown) => {
            // A message the form can show beside the typed slug (the catalogue's says only "exists").
            if (isUniqueViolationOn(error, '_slug_unique'))
              throw apiError('resource.conflict', 'A tenant with this slug exists already: choose another slug.');
            throw error;
          });
        await audit.record(
          {
            ...auditBase(actor, tenant.id),
            action: 'tenant.created',
            targetType: 'tenant',
            targetId: tenant.id,
            details: { slug: tenant.slug },
          },
          trx,
        );
        return tenant;
      });
    },

    /** Idempotent: suspending a suspended tenant changes nothing and records nothing. */
    async suspend(actor: Actor, tenantId: string): Promise<{ tenant: TenantRow; sessionsRevoked: RevokeOutcome }> {
      const now = new Date(clock.now());
      const markers = await db.transaction(async (trx) => {
        const tenant = await tenants.findForUpdate(trx, tenantId);
        if (!tenant) throw apiError('tenant.not_found');
        if (tenant.status === 'suspended') return [];
        await tenants.setStatus(trx, tenantId, 'suspended', now);
        await admins.revokeSessionsOfTenant(trx, tenantId, now);
        const ids = await admins.idsOfTenant(trx, tenantId);
        await audit.record(
          {
            ...auditBase(actor, tenantId),
            action: 'tenant.suspended',
            targetType: 'tenant',
            targetId: tenantId,
            details: { admins: ids.length },
          },
          trx,
        );
        return revoker.record(
          trx,
          ids.map((adminId) => ({ kind: 'tenant' as const, adminId, cause: 'tenant_suspended' as const })),
          now,
        );
      });
      return { tenant: await tenantOrThrow(tenantId), sessionsRevoked: await revoker.revokeCommitted(markers) };
    },

    /** One admin with their tenant, for a page naming both; an admin of another tenant is a 404. */
    async getAdmin(tenantId: string, adminId: string): Promise<{ tenant: TenantRow; admin: TenantAdminSummary }> {
      const [tenant, admin] = await Promise.all([tenantOrThrow(tenantId), admins.findSummary(tenantId, adminId)]);
      if (!admin) throw apiError('tenant_admin.not_found');
      return { tenant, admin };
    },

    async listAdmins(tenantId: string): Promise<TenantAdminSummary[]> {
      await tenantOrThrow(tenantId);
      return admins.list(tenantId);
    },

    async createAdmin(actor: Actor, tenantId: string, input: { email: string }): Promise<CreatedAdmin> {
      const tenant = await tenantOrThrow(tenantId);
      if (tenant.status !== 'active') throw apiError('tenant.suspended', 'This tenant is suspended.');
      return inviteAdmin(deps, actor, { kind: 'tenant_admin', tenantId, email: input.email }, (trx, row, now) =>
        admins.insert({ ...row, tenant_id: tenantId }, now, trx),
      );
    },

    disableAdmin: (actor: Actor, tenantId: string, adminId: string) =>
      changeAdmin(
        actor,
        tenantId,
        adminId,
        'tenant_admin.disabled',
        async (trx, admin, now) => {
          if (admin.disabled_at) return false;
          await admins.disable(trx, adminId, now);
          return true;
        },
        'admin_disabled',
      ),

    /** The display name only: the slug is what admins type to sign in, so it stays. */
    async rename(actor: Actor, tenantId: string, name: string): Promise<TenantRow> {
      await db.transaction(async (trx) => {
        const tenant = await tenants.findForUpdate(trx, tenantId);
        if (!tenant) throw apiError('tenant.not_found');
        if (tenant.name === name) return;
        await tenants.rename(trx, tenantId, name, new Date(clock.now()));
        await audit.record(
          {
            ...auditBase(actor, tenantId),
            action: 'tenant.renamed',
            targetType: 'tenant',
            targetId: tenantId,
            details: { from: tenant.name, to: name },
          },
          trx,
        );
      });
      return tenantOrThrow(tenantId);
    },

    /** Idempotent: an active tenant changes nothing. Its admins' old sessions stay void; they sign in again. */
    async unsuspend(actor: Actor, tenantId: string): Promise<TenantRow> {
      await db.transaction(async (trx) => {
        const tenant = await tenants.findForUpdate(trx, tenantId);
        if (!tenant) throw apiError('tenant.not_found');
        if (tenant.status === 'active') return;
        await tenants.setStatus(trx, tenantId, 'active', new Date(clock.now()));
        await audit.record(
          { ...auditBase(actor, tenantId), action: 'tenant.unsuspended', targetType: 'tenant', targetId: tenantId },
          trx,
        );
      });
      return tenantOrThrow(tenantId);
    },

    /** Idempotent re-enable of a disabled admin: the same account, factor and email; sessions from before stay void. */
    async enableAdmin(actor: Actor, tenantId: string, adminId: string): Promise<TenantAdminSummary> {
      const changed = await changeAdmin(actor, tenantId, adminId, 'tenant_admin.enabled', async (trx, admin, now) => {
        if (!admin.disabled_at) return false;
        await admins.enable(trx, adminId, now);
        return true;
      });
      return changed.admin;
    },

    /** Lifts a lockout now instead of when it runs out (the admin proved who they are another way). Idempotent. */
    async unlockAdmin(actor: Actor, tenantId: string, adminId: string): Promise<TenantAdminSummary> {
      const changed = await changeAdmin(actor, tenantId, adminId, 'tenant_admin.unlocked', async (trx, admin, now) => {
        // A lockout that has run out is no lockout: nothing to lift, nothing recorded.
        if (!admin.locked_until || admin.locked_until.getTime() <= now.getTime()) return false;
        await admins.unlock(trx, adminId, now);
        return true;
      });
      return changed.admin;
    },

    /** A forgotten password: a temporary one, shown once, to change at the next sign-in; their sessions end. The authenticator stays. */
    async resetPassword(
      actor: Actor,
      tenantId: string,
      adminId: string,
    ): Promise<CreatedAdmin & { sessionsRevoked: RevokeOutcome }> {
      const { temporaryPassword: password, passwordHash } = await temporaryPassword(passwords);
      const changed = await changeAdmin(
        actor,
        tenantId,
        adminId,
        'tenant_admin.password_reset',
        async (trx, _admin, now) => {
          await admins.setTemporaryPassword(trx, adminId, passwordHash, now);
          return true;
        },
        'password_reset',
      );
      return { ...changed, temporaryPassword: password };
    },

    /** Ends every session of the admin now, without disabling the account (a stolen laptop, a shared screen). */
    signOutAdmin: (actor: Actor, tenantId: string, adminId: string) =>
      changeAdmin(
        actor,
        tenantId,
        adminId,
        'tenant_admin.signed_out',
        async (trx, _admin, now) => {
          await admins.revokeSessions(trx, adminId, now);
          return true;
        },
        'admin_signed_out',
      ),
  };
}

export type TenantLibrary = ReturnType<typeof createTenantLibrary>;
