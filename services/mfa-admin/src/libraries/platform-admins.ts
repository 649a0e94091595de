// A second (third…) platform admin: created with a temporary password shown once, who must
// change it and enrol an authenticator at first sign-in; disabled by another platform admin,
// and re-enabled the same way (the same account, factor and email). Nobody disables themselves,
// and the last active platform admin cannot be disabled (the console would be left without
// anyone to run it).
import type { Knex } from 'knex';
import type { AuditWriter } from '@portcullis/audit';
import { apiError } from '@portcullis/http';
import type { PlatformAdminQueries, PlatformAdminSummary } from '../queries/platform-admins.js';
import { auditBase, type Actor } from './actor.js';
import type { RevokeOutcome, SessionRevoker } from './session-revoker.js';
import { inviteAdmin, type PasswordHashing } from './invite.js';

export function createPlatformAdminLibrary({
  db,
  queries,
  revoker,
  passwords,
  audit,
  clock,
}: {
  db: Knex;
  queries: PlatformAdminQueries;
  revoker: SessionRevoker;
  passwords: PasswordHashing;
  audit: AuditWriter;
  clock: { now(): number };
}) {
  /** The audit record of one change to a platform admin (no tenant), in the change's transaction. */
  const recordChange = (trx: Knex.Transaction, actor: Actor, action: string, adminId: string) =>
    audit.record({ ...auditBase(actor, null), action, targetType: 'platform_admin', targetId: adminId }, trx);

  return {
    list: () => queries.list(),

    async create(
      actor: Actor,
      input: { email: string },
    ): Promise<{ admin: PlatformAdminSummary; temporaryPassword: string }> {
      return inviteAdmin(
        { db, passwords, audit, clock },
        actor,
        { kind: 'platform_admin', tenantId: null, email: input.email },
        (trx, row, now) => queries.insert(row, now, trx),
      );
    },

    async disable(
      actor: Actor,
      adminId: string,
    ): Promise<{ admin: PlatformAdminSummary; sessionsRevoked: RevokeOutcome }> {
      if (adminId === actor.adminId)
        throw apiError('platform_admin.self', 'You cannot disable yourself: ask another platform admin.');
      const now = new Date(clock.now());
      const markers = await db.transaction(async (trx) => {
        const all = await queries.lockAll(trx);
        const target = all.find((admin) => admin.id === adminId);
        if (!target) throw apiError('platform_admin.not_found');
        if (target.disabled_at) return [];
        if (!all.some((admin) => admin.id !== adminId && !admin.disabled_at))
          throw apiError('platform_admin.last', 'This is the last active platform admin.');
        await queries.disable(trx, adminId, now);
        await recordChange(trx, actor, 'platform_admin.disabled', adminId);
        return revoker.record(trx, [{ kind: 'platform', adminId, cause: 'admin_disabled' }], now);
      });
      const admin = (await queries.list()).find((candidate) => candidate.id === adminId)!;
      return { admin, sessionsRevoked: await revoker.revokeCommitted(markers) };
    },

    /** Idempotent re-enable of a disabled platform admin: sessions from before the disable stay void. */
    async enable(actor: Actor, adminId: string): Promise<PlatformAdminSummary> {
      const now = new Date(clock.now());
      return db.transaction(async (trx) => {
        const target = await queries.findForUpdate(trx, adminId);
        if (!target) throw apiError('platform_admin.not_found');
        if (!target.disabled_at) return target;
        await queries.enable(trx, adminId, now);
        await recordChange(trx, actor, 'platform_admin.enabled', adminId);
        return { ...target, disabled_at: null };
      });
    },
  };
}
