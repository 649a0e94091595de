import { apiError } from '@portcullis/http';
import type { AuditWriter } from '@portcullis/audit';
import { sessionEnded, type AdminKind, type SessionRevocation } from '@portcullis/session-auth';
import type { AdminQueries } from '../queries/admins.js';
import type { PasswordHasher } from '@portcullis/crypto';
import { passwordProblems } from './passwords.js';
import type { SecondFactorLibrary } from './second-factor.js';
import { auditSubject, type RequestInfo, type SignInLibrary } from './sign-in.js';

export function createAccountLibrary(deps: {
  admins: AdminQueries;
  passwords: PasswordHasher;
  audit: AuditWriter;
  clock: { now(): number };
  signIn: Pick<SignInLibrary, 'verifyPasswordOf'>;
  secondFactor: Pick<SecondFactorLibrary, 'verify'>;
  revocation: SessionRevocation;
}) {
  const { admins, passwords, audit, clock, signIn, secondFactor, revocation } = deps;

  return {
    /**
     * New password after checking the current one and the policy. The current password is
     * checked as at sign-in (throttle, lockout, audited failures): a stolen session must not be
     * a free oracle for it. Every session from before becomes void (the revocation marker,
     * written before the new hash so a store outage changes nothing); the caller gives this
     * browser a fresh session.
     */
    async changePassword(
      kind: AdminKind,
      adminId: string,
      current: string,
      next: string,
      request: RequestInfo,
    ): Promise<Date> {
      const admin = await admins.findById(kind, adminId);
      if (!admin) throw sessionEnded();
      if (!(await signIn.verifyPasswordOf(kind, admin, current, request)))
        throw apiError('auth.invalid_credentials', 'The current password is not right.');
      const problems = passwordProblems(next, admin.email);
      if (next === current) problems.push('The new password must differ from the current one.');
      if (problems.length > 0) throw apiError('password.rejected', problems.join(' '), { problems });
      const hash = await passwords.hash(next);
      const now = new Date(clock.now());
      await revocation.revokeAll(kind, adminId, now.getTime());
      await admins.changePassword(kind, adminId, hash, now);
      await revocation.revokeAll(kind, adminId);
      await audit.record({ ...auditSubject(kind, admin, request), action: 'auth.password_changed' });
      return now;
    },

    /**
     * Password and code again inside a signed-in session (sensitive actions): both checked as at
     * sign-in (throttle, lockout, audited failures), without the known-device cookie. Audited as
     * `auth.reauthenticated` (its own counter, apart from sign-ins' `auth.mfa_verified`); a
     * recovery code spent here is also `auth.recovery_code_used`.
     */
    async reauthenticate(
      kind: AdminKind,
      adminId: string,
      password: string,
      code: string,
      account: string,
      request: RequestInfo,
    ): Promise<void> {
      const admin = await admins.findById(kind, adminId);
      if (!admin || !(await signIn.verifyPasswordOf(kind, admin, password, request)))
        throw apiError('auth.invalid_credentials', 'The password or code is not right.');
      const { method } = await secondFactor.verify(kind, admin.id, code, account, request, 'reauthentication');
      await audit.record({
        ...auditSubject(kind, admin, request),
        action: 'auth.reauthenticated',
        details: { method },
      });
    },

    /** For sessions signed in before the email was kept in the session. */
    async emailOf(kind: AdminKind, adminId: string): Promise<string> {
      const admin = await admins.findById(kind, adminId);
      if (!admin) throw sessionEnded();
      return admin.email;
    },
  };
}

export type AccountLibrary = ReturnType<typeof createAccountLibrary>;
