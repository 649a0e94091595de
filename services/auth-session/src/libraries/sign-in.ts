import { ApiError } from '@portcullis/http';
import type { AuditWriter } from '@portcullis/audit';
import type { AdminKind } from '@portcullis/session-auth';
import type { AdminQueries, AdminRow } from '../queries/admins.js';
import type { TenantQueries } from '../queries/tenants.js';
import type { LoginThrottle } from './login-throttle.js';
import type { PasswordHasher } from './passwords.js';

export interface LockoutPolicy {
  /** Consecutive failures before the account locks; every further `threshold` locks it again, longer. */
  threshold: number;
  baseSeconds: number;
  maxSeconds: number;
}

export interface RequestInfo {
  ip: string;
  userAgent: string;
  requestId: string;
}

export interface SignedIn {
  kind: AdminKind;
  admin: AdminRow;
}

/** One answer for unknown account, wrong password and locked account: nothing to enumerate. */
export const invalidCredentials = () => new ApiError('auth.invalid_credentials', 401, 'The email, password or tenant is not right, or the account is locked.');

export function lockDurationSeconds(failures: number, policy: LockoutPolicy): number {
  if (failures < policy.threshold || failures % policy.threshold !== 0) return 0;
  const lockNumber = failures / policy.threshold;
  return Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** (lockNumber - 1));
}

export function createSignInLibrary(deps: {
  admins: AdminQueries;
  tenants: TenantQueries;
  passwords: PasswordHasher;
  throttle: LoginThrottle;
  audit: AuditWriter;
  clock: { now(): number };
  lockout: LockoutPolicy;
}) {
  const { admins, tenants, passwords, throttle, audit, clock, lockout } = deps;

  async function findAccount(tenant: string | undefined, email: string): Promise<{ kind: AdminKind; tenantId: string | null; admin?: AdminRow }> {
    if (!tenant) return { kind: 'platform', tenantId: null, admin: await admins.findByEmail('platform', null, email) };
    const row = await tenants.findBySlug(tenant);
    if (!row || row.status !== 'active') return { kind: 'tenant', tenantId: null };
    return { kind: 'tenant', tenantId: row.id, admin: await admins.findByEmail('tenant', row.id, email) };
  }

  /** Records a failed factor: throttle budgets, progressive lockout, audit. */
  async function recordFailure(kind: AdminKind, admin: AdminRow | undefined, factor: 'password' | 'totp', account: string, request: RequestInfo): Promise<void> {
    await throttle.recordFailure(factor, account, request.ip);
    if (!admin) {
      await audit.record({ action: 'auth.sign_in_failed', actorType: 'anonymous', ip: request.ip, userAgent: request.userAgent, requestId: request.requestId, details: { reason: 'unknown_account' } });
      return;
    }
    const failures = await admins.addFailedAttempt(kind, admin.id);
    const base = { tenantId: admin.tenant_id, actorType: `${kind}_admin` as const, actorId: admin.id, targetType: `${kind}_admin`, targetId: admin.id, ip: request.ip, userAgent: request.userAgent, requestId: request.requestId };
    await audit.record({ ...base, action: factor === 'password' ? 'auth.sign_in_failed' : 'auth.mfa_verify_failed', details: { failures } });
    const lockSeconds = lockDurationSeconds(failures, lockout);
    if (lockSeconds > 0) {
      await admins.lockUntil(kind, admin.id, new Date(clock.now() + lockSeconds * 1000));
      await audit.record({ ...base, action: 'auth.account_locked', details: { failures, lockSeconds } });
    }
  }

  /** The whole sign-in succeeded (second factor or enrolment): clear counters, note an unlock. */
  async function recordSuccess(kind: AdminKind, admin: AdminRow, account: string, request: RequestInfo): Promise<void> {
    await throttle.recordSuccess('totp', account);
    if (admin.failed_attempts === 0 && !admin.locked_until) return;
    await admins.clearFailures(kind, admin.id);
    if (admin.locked_until) {
      await audit.record({ tenantId: admin.tenant_id, actorType: `${kind}_admin`, actorId: admin.id, action: 'auth.account_unlocked', targetType: `${kind}_admin`, targetId: admin.id, ip: request.ip, requestId: request.requestId, details: { reason: 'lock_expired' } });
    }
  }

  const isLocked = (admin: AdminRow) => !!admin.locked_until && admin.locked_until.getTime() > clock.now();
  const accountKey = (tenant: string | undefined, email: string) => `${tenant?.toLowerCase() ?? 'platform'}:${email.toLowerCase()}`;

  return {
    accountKey,
    recordFailure,
    recordSuccess,
    isLocked,

    /** Re-authentication of a signed-in admin: a wrong password counts like any other failure. */
    async verifyPasswordOf(kind: AdminKind, admin: AdminRow, password: string, request: RequestInfo): Promise<boolean> {
      const account = `${kind}:${admin.id}`;
      await throttle.assertAllowed('password', account, request.ip);
      const ok = await passwords.verify(admin.password_hash, password);
      if (!ok) await recordFailure(kind, admin, 'password', account, request);
      return ok && !isLocked(admin);
    },

    /** The password step. Unknown, wrong and locked all take an argon2 verification and fail alike. */
    async verifyPassword(input: { tenant?: string; email: string; password: string }, request: RequestInfo): Promise<SignedIn> {
      const account = accountKey(input.tenant, input.email);
      await throttle.assertAllowed('password', account, request.ip);
      const { kind, admin } = await findAccount(input.tenant, input.email);
      const usable = admin && !admin.disabled_at ? admin : undefined;
      const passwordOk = await passwords.verify(usable?.password_hash, input.password);
      if (!usable || !passwordOk || isLocked(usable)) {
        // A correct password on a locked account is not a failure to count, but it is no success either.
        if (!(usable && passwordOk)) await recordFailure(kind, usable, 'password', account, request);
        throw invalidCredentials();
      }
      // Failures are cleared only when the second factor succeeds too: a known password must not
      // reset the counter that guards the TOTP step.
      await throttle.recordSuccess('password', account);
      return { kind, admin: usable };
    },
  };
}

export type SignInLibrary = ReturnType<typeof createSignInLibrary>;
