import type { Knex } from 'knex';
import type { AuditWriter } from '@portcullis/audit';
import type { KeyRing } from '@portcullis/crypto';
import type { Logger, ServiceMetrics } from '@portcullis/observability';
import { sessionPolicyOf } from '@portcullis/session-auth';
import type { SessionStore } from '@portcullis/session-store';
import { createLiveSessionLibrary } from './libraries/live-sessions.js';
import { createMfaResetLibrary } from './libraries/mfa-resets.js';
import { createMfaRollbackLibrary } from './libraries/mfa-rollback.js';
import { createPlatformAdminLibrary } from './libraries/platform-admins.js';
import type { SessionRevoker } from './libraries/session-revoker.js';
import type { PasswordHashing } from './libraries/invite.js';
import { createTenantLibrary } from './libraries/tenants.js';
import { createAccountQueries } from './queries/accounts.js';
import { createPlatformAdminQueries } from './queries/platform-admins.js';
import { createResetLogQueries } from './queries/reset-logs.js';
import { createTenantAdminQueries } from './queries/tenant-admins.js';
import { createTenantQueries } from './queries/tenants.js';

export interface MfaAdminSettings {
  production: boolean;
  cookieName: string;
  /** SESSION_SECRET list: first signs, all verify (shared with auth-session). */
  secrets: readonly string[];
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  /** How recent a password + TOTP confirmation must be for a reset or a rollback. */
  reauthMaxAgeMs: number;
}

export interface AppDependencies {
  db: Knex;
  store: SessionStore;
  /** MFA_RESET_LOG_ENCRYPTION_KEY ring: previous_* of the reset log. */
  resetLogKeys: KeyRing;
  /** MFA_SECRET_ENCRYPTION_KEY ring: the live TOTP secret a rollback restores. */
  totpKeys: KeyRing;
  /** Writes with the AUDIT_DETAILS_ENCRYPTION_KEY ring (reasons and tickets are sealed). */
  audit: AuditWriter;
  /** Built by the caller, who runs its retry timer (main.ts) or drives it (tests). */
  revoker: SessionRevoker;
  passwords: PasswordHashing;
  logger: Logger;
  metrics: ServiceMetrics;
  clock: { now(): number };
  settings: MfaAdminSettings;
  /** Proxies in front of the service (TRUSTED_PROXY_HOPS); unset trusts no X-Forwarded-* header. */
  trustedProxyHops?: number;
}

/** Builds queries and libraries from explicit dependencies: the one place they are wired. */
export function createServiceContext(deps: AppDependencies) {
  const { db, store, revoker, resetLogKeys, totpKeys, audit, clock, passwords, settings } = deps;
  const tenants = createTenantQueries(db);
  const admins = createTenantAdminQueries(db);
  const logs = createResetLogQueries(db);
  const policy = sessionPolicyOf(settings, clock);
  // Routes reach libraries only: no queries, database or store here.
  return {
    settings,
    clock,
    policy,
    tenantsLib: createTenantLibrary({ db, tenants, admins, revoker, passwords, audit, clock }),
    resets: createMfaResetLibrary({ db, tenants, admins, logs, revoker, resetLogKeys, audit, clock }),
    rollbacks: createMfaRollbackLibrary({ db, admins, logs, revoker, resetLogKeys, totpKeys, audit, clock }),
    liveSessions: createLiveSessionLibrary({ store, admins, accounts: createAccountQueries(db), audit }),
    platformAdmins: createPlatformAdminLibrary({
      db,
      queries: createPlatformAdminQueries(db),
      revoker,
      passwords,
      audit,
      clock,
    }),
  };
}

export type ServiceContext = ReturnType<typeof createServiceContext>;
