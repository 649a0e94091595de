// MFA reset (a tenant admin lost their phone) and the reset history. One transaction writes the
// reset log row (previous factor encrypted), clears the admin's factor, voids their sessions
// (the revocation marker in the session store, written before the commit: session-revoker.ts)
// and records the audit event; the sessions themselves are deleted after the commit.
import type { Knex } from 'knex';
import { apiError } from '@portcullis/http';
import type { AuditWriter } from '@portcullis/audit';
import type { KeyRing } from '@portcullis/crypto';
import type { HistoryRow, ResetLogQueries } from '../queries/reset-logs.js';
import type { TenantAdminQueries } from '../queries/tenant-admins.js';
import type { TenantQueries } from '../queries/tenants.js';
import { auditBase, type Actor } from './actor.js';
import { sealPrevious } from '@portcullis/mfa-reset-log';
import { previousTexts } from './previous-factor.js';
import type { RevokeOutcome, SessionRevoker } from './session-revoker.js';

export interface ResetResult {
  log: HistoryRow;
  /** 'pending': the store did not answer; the revoke is retried (the sessions are refused meanwhile). */
  sessionsRevoked: RevokeOutcome;
}

export function createMfaResetLibrary(deps: {
  db: Knex;
  tenants: TenantQueries;
  admins: TenantAdminQueries;
  logs: ResetLogQueries;
  revoker: SessionRevoker;
  resetLogKeys: KeyRing;
  audit: AuditWriter;
  clock: { now(): number };
}) {
  const { db, tenants, admins, logs, revoker, resetLogKeys, audit, clock } = deps;

  return {
    async reset(
      actor: Actor,
      tenantId: string,
      adminId: string,
      input: { reason: string; ticket?: string | undefined },
    ): Promise<ResetResult> {
      const now = new Date(clock.now());
      const { logId, markers } = await db.transaction(async (trx) => {
        const admin = await admins.findForUpdate(trx, adminId);
        if (!admin || admin.tenant_id !== tenantId) throw apiError('tenant_admin.not_found');
        if (!admin.mfa_enabled && admin.totp_secret === null) {
          throw apiError(
            'mfa.not_enrolled',
            'This admin has no authenticator to reset; they enrol one at their next sign-in.',
          );
        }
        const id = await logs.nextId(trx);
        await logs.insert(trx, {
          id,
          tenant_id: tenantId,
          tenant_admin_id: adminId,
          reset_by: actor.adminId,
          reason: input.reason,
          ticket: input.ticket ?? null,
          created_at: now,
          ...sealPrevious(resetLogKeys, id, previousTexts(admin)),
        });
        await admins.clearFactor(trx, adminId, now);
        const rows = await revoker.record(trx, [{ kind: 'tenant', adminId, cause: 'mfa_reset' }], now);
        await audit.record(
          {
            ...auditBase(actor, tenantId),
            action: 'mfa.reset',
            targetType: 'tenant_admin',
            targetId: adminId,
            details: { logId: id },
            sealed: { reason: input.reason, ...(input.ticket ? { ticket: input.ticket } : {}) },
          },
          trx,
        );
        return { logId: id, markers: rows };
      });
      const sessionsRevoked = await revoker.revokeCommitted(markers);
      return { log: (await logs.findHistoryRow(logId))!, sessionsRevoked };
    },

    async find(logId: string): Promise<HistoryRow> {
      const row = await logs.findHistoryRow(logId);
      if (!row) throw apiError('mfa_reset.not_found', 'No such MFA reset.');
      return row;
    },

    /** Newest first; `before` is the last id of the previous page. */
    async history(filter: {
      tenantId: string;
      adminId?: string | undefined;
      before?: string | undefined;
      limit: number;
    }): Promise<{ resets: HistoryRow[]; nextBefore: string | null }> {
      if (!(await tenants.findById(filter.tenantId))) throw apiError('tenant.not_found');
      if (filter.adminId && !(await admins.findSummary(filter.tenantId, filter.adminId)))
        throw apiError('tenant_admin.not_found');
      const resets = await logs.history({
        tenantId: filter.tenantId,
        limit: filter.limit,
        ...(filter.adminId ? { adminId: filter.adminId } : {}),
        ...(filter.before ? { beforeId: filter.before } : {}),
      });
      return { resets, nextBefore: resets.length === filter.limit ? resets.at(-1)!.id : null };
    },
  };
}

export type MfaResetLibrary = ReturnType<typeof createMfaResetLibrary>;
