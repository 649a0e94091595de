/** Who a session belongs to and how strongly it was authenticated. Stored in the session store. */
export type AdminKind = 'platform' | 'tenant';

export interface AdminSession {
  /** `${kind}:${adminId}`: the session store indexes sessions by it. */
  userId?: string;
  kind?: AdminKind;
  adminId?: string;
  tenantId?: string | null;
  /** The admin's email at sign-in: /auth/me answers from the session, not a query. */
  email?: string;
  /** Authenticator assurance level: 1 after the password, 2 after TOTP or a recovery code. */
  aal?: 1 | 2;
  /** Epoch ms: creation (absolute timeout, revocation cut-off), last request (idle timeout), last re-authentication. */
  createdAt?: number;
  /** Epoch ms of the sign-in the absolute lifetime counts from; `createdAt` when absent. A re-issued session keeps it. */
  signedInAt?: number;
  lastSeenAt?: number;
  authAt?: number;
  ip?: string;
  userAgent?: string;
  csrf?: string;
  /** Must set a new password / enrol TOTP before anything else. */
  mustChangePassword?: boolean;
  mustEnrollMfa?: boolean;
  /** The console page the admin first asked for (a consoleReturnPath), shown once signed in fully. */
  returnTo?: string;
  /** Enrolment in progress: the new secret, encrypted under the TOTP key ring. */
  pendingTotpSecret?: string;
  /**
   * Replacing one's own authenticator: the new secret (encrypted) waits here, never in the
   * database, until a code from it confirms the swap; `replacing` is when the factor being
   * replaced was enrolled (epoch ms), so a reset or another replacement meanwhile makes it stale.
   */
  pendingReplacement?: { secret: string; replacing: number | null };
  /**
   * A reset or rollback form sent on the re-authentication detour (mfa-admin): the typed fields
   * (reason, ticket…), filled into the form the detour returns to, once.
   */
  keptForm?: { action: string; fields: Record<string, string> };
}

export const userIdOf = (kind: AdminKind, adminId: string) => `${kind}:${adminId}`;
