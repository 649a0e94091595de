import { ApiError } from '@portcullis/http';
import type { AuditWriter } from '@portcullis/audit';
import type { AdminKind } from '@portcullis/session-auth';
import type { AdminQueries } from '../queries/admins.js';
import { passwordProblems, type PasswordHasher } from './passwords.js';
import type { RequestInfo, SignInLibrary } from './sign-in.js';

export function createAccountLibrary(deps: { admins: AdminQueries; passwords: PasswordHasher; audit: AuditWriter; clock: { now(): number }; signIn: Pick<SignInLibrary, 'verifyPasswordOf'> }) {
  const { admins, passwords, audit, clock, signIn } = deps;

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

  };
}

export type AccountLibrary = ReturnType<typeof createAccountLibrary>;
