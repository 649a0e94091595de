// Rolling an MFA reset back: the previous factor comes back exactly (the same authenticator app
// works again). Refused (409) when the reset was already rolled back, when a newer reset of the
// admin exists, or when the admin enrolled a new factor since — unless forced with a reason.
// The log row is locked (SELECT … FOR UPDATE) and updated only while rolled_back_at is null, so
// of two concurrent rollbacks (a double click) exactly one succeeds.
import type { Knex } from 'knex';
import { apiError } from '@portcullis/http';
import type { AuditWriter } from '@portcullis/audit';
import type { KeyRing } from '@portcullis/crypto';
import type { ResetLogQueries } from '../queries/reset-logs.js';
import type { TenantAdminQueries } from '../queries/tenant-admins.js';
import { auditBase, type Actor } from './actor.js';
import { type ResetResult } from './mfa-resets.js';
import { factorColumns, openPrevious } from './previous-factor.js';
import type { SessionRevoker } from './session-revoker.js';

export interface RollbackInput {
  reason: string;
  /** Needed only when the admin enrolled a new factor since the reset; it is replaced. */
  force?: { reason: string } | undefined;
}

const alreadyRolledBack = () => apiError('mfa.reset_already_rolled_back', 'This reset has already been rolled back.');

export function createMfaRollbackLibrary(deps: {
  db: Knex;
  admins: TenantAdminQueries;
  logs: ResetLogQueries;
  revoker: SessionRevoker;
  resetLogKeys: KeyRing;
  totpKeys: KeyRing;
  audit: AuditWriter;
  clock: { now(): number };
}) {
  const { db, admins, logs, revoker, resetLogKeys, totpKeys, audit, clock } = deps;

  return {
    async rollback(actor: Actor, logId: string, input: RollbackInput): Promise<ResetResult> {
      const now = new Date(clock.now());
      const markers = await db.transaction(async (trx: Knex.Transaction) => {
        const log = await logs.findForUpdate(trx, logId);
        if (!log) throw apiError('mfa_reset.not_found', 'No such MFA reset.');
        if (log.rolled_back_at) throw alreadyRolledBack();
        const admin = await admins.findForUpdate(trx, log.tenant_admin_id);
        if (!admin) throw apiError('tenant_admin.not_found');
        if (await logs.newerResetExists(trx, admin.id, log.id)) {
          throw apiError('mfa.reset_superseded', 'A newer MFA reset of this admin exists: roll that one back first.');
        }
        const enrolledSince = admin.mfa_enabled || admin.totp_secret !== null;
        if (enrolledSince && !input.force) {
          throw apiError(
            'mfa.new_factor_enrolled',
            'The admin has enrolled a new authenticator since this reset. Rolling back would replace it: confirm with force and a reason of its own.',
          );
        }
        const forced = enrolledSince && !!input.force;
        const factor = factorColumns(totpKeys, admin.id, openPrevious(resetLogKeys, log.id, log));
        const marked = await logs.markRolledBack(trx, log.id, {
          at: now,
          by: actor.adminId,
          reason: input.reason,
          forced,
          forceReason: forced ? input.force!.reason : null,
        });
        if (!marked) throw alreadyRolledBack();
        await admins.restoreFactor(trx, admin.id, factor, now);
        const rows = await revoker.record(trx, [{ kind: 'tenant', adminId: admin.id, cause: 'mfa_rollback' }], now);
        await audit.record(
          {
            ...auditBase(actor, log.tenant_id),
            action: 'mfa.reset_rolled_back',
            targetType: 'tenant_admin',
            targetId: admin.id,
            details: { logId: log.id, forced },
            sealed: { reason: input.reason, ...(forced ? { forceReason: input.force!.reason } : {}) },
          },
          trx,
        );
        return rows;
      });
      const sessionsRevoked = await revoker.revokeCommitted(markers);
      return { log: (await logs.findHistoryRow(logId))!, sessionsRevoked };
    },
  };
}

export type MfaRollbackLibrary = ReturnType<typeof createMfaRollbackLibrary>;
