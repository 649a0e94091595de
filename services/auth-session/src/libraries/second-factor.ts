import { apiError } from '@portcullis/http';
import type { AuditWriter } from '@portcullis/audit';
import type { KeyRing } from '@portcullis/crypto';
import type { AdminKind } from '@portcullis/session-auth';
import { totpSecretContext, type AdminQueries, type AdminRow } from '../queries/admins.js';
import { looksLikeRecoveryCode, spendRecoveryCode } from './recovery-codes.js';
import type { LoginThrottle } from './login-throttle.js';
import { auditSubject, failureBudget, type RequestInfo, type SignInLibrary } from './sign-in.js';
import type { Totp } from './totp.js';

const wrongCode = () =>
  apiError('auth.invalid_code', 'That code is not valid. Codes are single-use; wait for the next one.');
const usedRecoveryCode = () =>
  apiError(
    'auth.invalid_recovery_code',
    'That recovery code is not valid or has been used already: each one works once. Use another recovery code, or a code from your authenticator app.',
  );
/**
 * Told only after the password was right (this is the second step), so it reveals nothing to
 * someone guessing passwords; a correct code during a lockout used to read as a wrong one.
 */
const locked = (until: Date) =>
  apiError(
    'auth.locked',
    `Too many wrong attempts: this account is locked until ${until.toISOString().slice(11, 16)} UTC (${until.toISOString()}). Try again then, or ask a platform admin.`,
    { lockedUntil: until.toISOString() },
  );

/** TOTP secrets are encrypted at rest, bound to their row; legacy plaintext rows still work. */
export function readTotpSecret(ring: KeyRing, kind: AdminKind, admin: AdminRow): string | null {
  if (!admin.totp_secret) return null;
  const context = totpSecretContext(kind, admin.id);
  const classified = ring.classify(admin.totp_secret, context);
  if (classified.kind === 'plaintext') return admin.totp_secret;
  return ring.decrypt(admin.totp_secret, context);
}

export function createSecondFactorLibrary(deps: {
  admins: AdminQueries;
  totp: Totp;
  totpKeys: KeyRing;
  signIn: SignInLibrary;
  throttle: LoginThrottle;
  audit: AuditWriter;
}) {
  const { admins, totp, totpKeys, signIn, audit } = deps;

  return {
    /**
     * Checks a TOTP code (each time-step accepted once, across replicas) or a recovery code
     * (each used once). Failures count towards the same lockout as passwords. A TOTP code
     * accepted at sign-in is audited as `auth.mfa_verified`; a re-authentication records its own
     * event (account.ts), so the two are counted apart.
     */
    async verify(
      kind: AdminKind,
      adminId: string,
      code: string,
      account: string,
      request: RequestInfo,
      purpose: 'sign_in' | 'reauthentication' = 'sign_in',
    ): Promise<{ method: 'totp' | 'recovery_code'; remainingRecoveryCodes?: number }> {
      const admin = await admins.findById(kind, adminId);
      if (!admin || admin.disabled_at || !admin.mfa_enabled) throw apiError('auth.session_expired');
      const budget = failureBudget(account, kind, admin, request.device);
      await deps.throttle.assertAllowed('totp', budget.key, request.ip);
      const base = auditSubject(kind, admin, request);
      if (signIn.isLocked(admin) && !budget.knownDevice) throw locked(admin.locked_until!);

      const trimmed = code.replace(/\s+/g, '');
      if (looksLikeRecoveryCode(trimmed)) {
        const next = spendRecoveryCode(admin.recovery_code_hashes, trimmed);
        if (next && (await admins.replaceRecoveryCodes(kind, admin.id, admin.recovery_code_hashes, next))) {
          const remaining = (JSON.parse(next) as string[]).length;
          await audit.record({ ...base, action: 'auth.recovery_code_used', details: { remaining } });
          await signIn.recordSuccess(kind, admin, budget, request);
          return { method: 'recovery_code', remainingRecoveryCodes: remaining };
        }
        await signIn.recordFailure(kind, admin, 'totp', budget, request);
        throw usedRecoveryCode();
      } else {
        const secret = readTotpSecret(totpKeys, kind, admin);
        const lastStep = admin.totp_last_used_step === null ? undefined : Number(admin.totp_last_used_step);
        const step = secret ? await totp.matchStep(secret, trimmed, lastStep) : null;
        if (step !== null && (await admins.claimTotpStep(kind, admin.id, step))) {
          if (purpose === 'sign_in')
            await audit.record({ ...base, action: 'auth.mfa_verified', details: { method: 'totp' } });
          await signIn.recordSuccess(kind, admin, budget, request);
          return { method: 'totp' };
        }
      }
      await signIn.recordFailure(kind, admin, 'totp', budget, request);
      throw wrongCode();
    },
  };
}

export type SecondFactorLibrary = ReturnType<typeof createSecondFactorLibrary>;
