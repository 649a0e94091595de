import { ApiError } from '@portcullis/http';
import type { AuditWriter } from '@portcullis/audit';
import type { AdminKind } from '@portcullis/session-auth';
import type { AdminQueries } from '../queries/admins.js';
import { insertFirstPlatformAdmin } from '../queries/default-admin.js';
import type { Knex } from 'knex';
import { passwordProblems, type PasswordHasher } from './passwords.js';
import type { RequestInfo, SignInLibrary } from './sign-in.js';

export function createAccountLibrary(deps: { db: Knex; admins: AdminQueries; passwords: PasswordHasher; audit: AuditWriter; clock: { now(): number }; signIn: Pick<SignInLibrary, 'verifyPasswordOf'> }) {
  const { db, admins, passwords, audit, clock, signIn } = deps;

  return {
    /**
     * New password after checking the current one and the policy. The current password is
     * checked as at sign-in (throttle, lockout, audited failures): a stolen session must not be
     * a free oracle for it. Every other session becomes void through `sessions_revoked_at`; the
     * caller gives this browser a fresh session.
     */
    async changePassword(kind: AdminKind, adminId: string, current: string, next: string, request: RequestInfo): Promise<Date> {
      const admin = await admins.findById(kind, adminId);
      if (!admin) throw new ApiError('auth.session_expired', 401, 'Your session has ended. Sign in again.');
      if (!(await signIn.verifyPasswordOf(kind, admin, current, request))) throw new ApiError('auth.invalid_credentials', 401, 'The current password is not right.');
      const problems = passwordProblems(next, admin.email);
      if (next === current) problems.push('The new password must differ from the current one.');
      if (problems.length > 0) throw new ApiError('password.rejected', 400, problems.join(' '), { problems });
      const now = new Date(clock.now());
      await admins.changePassword(kind, adminId, await passwords.hash(next), now);
      await audit.record({ tenantId: admin.tenant_id, actorType: `${kind}_admin`, actorId: adminId, action: 'auth.password_changed', targetType: `${kind}_admin`, targetId: adminId, ip: request.ip, userAgent: request.userAgent, requestId: request.requestId });
      return now;
    },

    /** Revocation cut-off for the guards: null = none; false = the admin is gone or disabled. */
    async revokedBefore(kind: AdminKind, adminId: string): Promise<number | null | false> {
      const admin = await admins.findById(kind, adminId);
      if (!admin || admin.disabled_at) return false;
      return admin.sessions_revoked_at ? admin.sessions_revoked_at.getTime() : null;
    },

    /**
     * Creates the first platform admin from DEFAULT_PLATFORM_ADMIN_* when none exists. Safe when
     * replicas start together; the password policy applies; a first sign-in must change it.
     */
    async ensureDefaultPlatformAdmin(email: string, password: string): Promise<'created' | 'exists'> {
      const problems = passwordProblems(password, email);
      if (problems.length > 0) throw new ApiError('config.default_admin_password', 500, `DEFAULT_PLATFORM_ADMIN_PASSWORD is refused by the password policy: ${problems.join(' ')}`);
      const id = await insertFirstPlatformAdmin(db, { email, passwordHash: await passwords.hash(password), now: new Date(clock.now()) });
      if (!id) return 'exists';
      await audit.record({ actorType: 'system', action: 'platform_admin.bootstrapped', targetType: 'platform_admin', targetId: id });
      return 'created';
    },
  };
}

export type AccountLibrary = ReturnType<typeof createAccountLibrary>;
