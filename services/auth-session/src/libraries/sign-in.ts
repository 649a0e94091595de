import { apiError } from '@portcullis/http';
import type { AuditWriter } from '@portcullis/audit';
import { userIdOf, type AdminKind } from '@portcullis/session-auth';
import type { AdminQueries, AdminRow } from '../queries/admins.js';
import type { TenantQueries } from '../queries/tenants.js';
import type { LoginThrottle } from './login-throttle.js';
import type { PasswordHasher } from '@portcullis/crypto';

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
  /** The signed known-device cookie this browser got at an earlier full sign-in, if any. */
  device?: KnownDevice;
}

/** A browser that completed a full sign-in (password and second factor) of `userId`. */
export interface KnownDevice {
  id: string;
  userId: string;
}

/**
 * Failures are counted against this budget. A browser that has signed this admin in before
 * keeps a budget of its own and is not held by the account lock, so a stranger who knows the
 * email cannot lock the admin out; the stranger is still locked (docs/security.md).
 */
export function failureBudget(
  account: string,
  kind: AdminKind,
  admin: AdminRow | undefined,
  device: KnownDevice | undefined,
): { key: string; knownDevice: boolean } {
  if (admin && device && device.userId === userIdOf(kind, admin.id))
    return { key: `device:${device.id}`, knownDevice: true };
  return { key: account, knownDevice: false };
}

export interface SignedIn {
  kind: AdminKind;
  admin: AdminRow;
}

/** One answer for unknown account, wrong password and locked account: nothing to enumerate. */
export const invalidCredentials = () =>
  apiError('auth.invalid_credentials', 'The email, password or tenant is not right, or the account is locked.');

/** The audit fields of an event about an admin's own sign-in: the admin acts on themselves. */
export const auditSubject = (kind: AdminKind, admin: AdminRow, request: RequestInfo) => ({
  tenantId: admin.tenant_id,
  actorType: `${kind}_admin` as const,
  actorId: admin.id,
  targetType: `${kind}_admin`,
  targetId: admin.id,
  ip: request.ip,
  userAgent: request.userAgent,
  requestId: request.requestId,
});

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
  /** Told of every lock, for the lockout metric and its alert. */
  onAccountLocked?: (kind: AdminKind) => void;
}) {
  const { admins, tenants, passwords, throttle, audit, clock, lockout } = deps;

  async function findAccount(
    tenant: string | undefined,
    email: string,
  ): Promise<{ kind: AdminKind; tenantId: string | null; admin?: AdminRow }> {
    if (!tenant) return { kind: 'platform', tenantId: null, admin: await admins.findByEmail('platform', null, email) };
    const row = await tenants.findBySlug(tenant);
    if (!row || row.status !== 'active') return { kind: 'tenant', tenantId: null };
    return { kind: 'tenant', tenantId: row.id, admin: await admins.findByEmail('tenant', row.id, email) };
  }

  /**
   * Records a failed factor: throttle budgets, progressive lockout, audit. A known device's
   * failures spend its own budget only (429 once spent) and never lock the account.
   */
  async function recordFailure(
    kind: AdminKind,
    admin: AdminRow | undefined,
    factor: 'password' | 'totp',
    budget: { key: string; knownDevice: boolean },
    request: RequestInfo,
  ): Promise<void> {
    await throttle.recordFailure(factor, budget.key, request.ip);
    if (!admin) {
      await audit.record({
        action: 'auth.sign_in_failed',
        actorType: 'anonymous',
        ip: request.ip,
        userAgent: request.userAgent,
        requestId: request.requestId,
        details: { reason: 'unknown_account' },
      });
      return;
    }
    const base = auditSubject(kind, admin, request);
    const action = factor === 'password' ? 'auth.sign_in_failed' : 'auth.mfa_verify_failed';
    if (budget.knownDevice) {
      await audit.record({ ...base, action, details: { knownDevice: true } });
      return;
    }
    const failures = await admins.addFailedAttempt(kind, admin.id);
    await audit.record({ ...base, action, details: { failures } });
    const lockSeconds = lockDurationSeconds(failures, lockout);
    if (lockSeconds > 0) {
      await admins.lockUntil(kind, admin.id, new Date(clock.now() + lockSeconds * 1000));
      await audit.record({ ...base, action: 'auth.account_locked', details: { failures, lockSeconds } });
      deps.onAccountLocked?.(kind);
    }
  }

  /**
   * The whole sign-in succeeded (second factor or enrolment): clear counters, note an unlock. A
   * known device clears its own budget only: the account's lock stays for everyone else.
   */
  async function recordSuccess(
    kind: AdminKind,
    admin: AdminRow,
    budget: { key: string; knownDevice: boolean },
    request: RequestInfo,
  ): Promise<void> {
    await throttle.recordSuccess('totp', budget.key);
    if (budget.knownDevice) return;
    if (admin.failed_attempts === 0 && !admin.locked_until) return;
    await admins.clearFailures(kind, admin.id);
    if (admin.locked_until) {
      await audit.record({
        tenantId: admin.tenant_id,
        actorType: `${kind}_admin`,
        actorId: admin.id,
        action: 'auth.account_unlocked',
        targetType: `${kind}_admin`,
        targetId: admin.id,
        ip: request.ip,
        requestId: request.requestId,
        details: { reason: 'lock_expired' },
      });
    }
  }

  const isLocked = (admin: AdminRow) => !!admin.locked_until && admin.locked_until.getTime() > clock.now();
  const accountKey = (tenant: string | undefined, email: string) =>
    `${tenant?.toLowerCase() ?? 'platform'}:${email.toLowerCase()}`;

  return {
    accountKey,
    recordFailure,
    recordSuccess,
    isLocked,

    /**
     * The password of a signed-in admin (re-authentication, password change): a wrong one counts
     * against the account like any other failure, known device or not.
     */
    async verifyPasswordOf(kind: AdminKind, admin: AdminRow, password: string, request: RequestInfo): Promise<boolean> {
      const budget = failureBudget(`${kind}:${admin.id}`, kind, admin, undefined);
      await throttle.assertAllowed('password', budget.key, request.ip);
      const ok = await passwords.verify(admin.password_hash, password);
      if (!ok) await recordFailure(kind, admin, 'password', budget, request);
      return ok && !isLocked(admin);
    },

    /** The password step. Unknown, wrong and locked all take an argon2 verification and fail alike. */
    async verifyPassword(
      input: { tenant?: string; email: string; password: string },
      request: RequestInfo,
    ): Promise<SignedIn> {
      passwords.admit();
      const { kind, admin } = await findAccount(input.tenant, input.email);
      const usable = admin && !admin.disabled_at ? admin : undefined;
      const budget = failureBudget(accountKey(input.tenant, input.email), kind, usable, request.device);
      await throttle.assertAllowed('password', budget.key, request.ip);
      const passwordOk = await passwords.verify(usable?.password_hash, input.password);
      if (!usable || !passwordOk || (isLocked(usable) && !budget.knownDevice)) {
        // A correct password on a locked account is not a failure to count, but it is no success either.
        if (!(usable && passwordOk)) await recordFailure(kind, usable, 'password', budget, request);
        throw invalidCredentials();
      }
      // Failures are cleared only when the second factor succeeds too: a known password must not
      // reset the counter that guards the TOTP step.
      await throttle.recordSuccess('password', budget.key);
      return { kind, admin: usable };
    },
  };
}

export type SignInLibrary = ReturnType<typeof createSignInLibrary>;
