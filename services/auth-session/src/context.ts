import type { Knex } from 'knex';
import { Counter } from 'prom-client';
import type { AuditWriter } from '@portcullis/audit';
import type { KeyRing, PasswordHasher } from '@portcullis/crypto';
import type { Logger, ServiceMetrics } from '@portcullis/observability';
import { createSessionRevocation, sessionPolicyOf } from '@portcullis/session-auth';
import type { SessionStore } from '@portcullis/session-store';
import { createAccountLibrary } from './libraries/account.js';
import { createEnrolmentLibrary } from './libraries/enrolment.js';
import type { LoginThrottle } from './libraries/login-throttle.js';
import { createSignInPasswordHasher } from './libraries/passwords.js';
import { createSecondFactorLibrary } from './libraries/second-factor.js';
import { createSessionPolicyLibrary, type ConcurrencyMode } from './libraries/session-policy.js';
import { createSignInLibrary, type LockoutPolicy } from './libraries/sign-in.js';
import { createTotp } from './libraries/totp.js';
import { createAdminQueries } from './queries/admins.js';
import { createMfaResetQueries } from './queries/mfa-resets.js';
import { createTenantQueries } from './queries/tenants.js';

export interface AuthSettings {
  production: boolean;
  cookieName: string;
  /** SESSION_SECRET list: first signs, all verify. */
  secrets: readonly string[];
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  maxConcurrent: number;
  concurrencyMode: ConcurrencyMode;
  lockout: LockoutPolicy;
  /** How recent a password + TOTP confirmation must be for sensitive actions. */
  reauthMaxAgeMs: number;
}

export interface AppDependencies {
  db: Knex;
  store: SessionStore;
  totpKeys: KeyRing;
  audit: AuditWriter;
  throttle: LoginThrottle;
  logger: Logger;
  metrics: ServiceMetrics;
  clock: { now(): number };
  settings: AuthSettings;
  /** Tests pass cheap argon2 parameters; production uses the default (OWASP minimum). */
  passwords?: PasswordHasher;
  /** Proxies in front of the service (TRUSTED_PROXY_HOPS); unset trusts no X-Forwarded-* header. */
  trustedProxyHops?: number;
}

/** Builds queries and libraries from explicit dependencies (the one place they are wired) and hands the routes the libraries. */
export function createServiceContext(deps: AppDependencies) {
  const { db, store, totpKeys, audit, throttle, clock, settings } = deps;
  const admins = createAdminQueries(db);
  const tenants = createTenantQueries(db);
  const passwords = deps.passwords ?? createSignInPasswordHasher();
  const totp = createTotp(clock);
  // Locks are what a stranger guessing (or trying to lock an admin out) causes: alerted on.
  const lockouts = new Counter({
    name: 'auth_account_lockouts_total',
    help: 'Accounts locked after repeated failed sign-in factors',
    labelNames: ['kind'] as const,
    registers: [deps.metrics.registry],
  });
  const signIn = createSignInLibrary({
    admins,
    tenants,
    passwords,
    throttle,
    audit,
    clock,
    lockout: settings.lockout,
    onAccountLocked: (kind) => lockouts.inc({ kind }),
  });
  const revocation = createSessionRevocation({ store, absoluteTimeoutMs: settings.absoluteTimeoutMs, clock });
  const secondFactor = createSecondFactorLibrary({ admins, totp, totpKeys, signIn, throttle, audit });
  const account = createAccountLibrary({ admins, passwords, audit, clock, signIn, secondFactor, revocation });
  const policy = sessionPolicyOf(settings, clock);
  // Routes reach libraries only: no queries, database or store here.
  return {
    settings,
    clock,
    policy,
    signIn,
    account,
    secondFactor,
    enrolment: createEnrolmentLibrary({
      admins,
      resets: createMfaResetQueries(db),
      totp,
      totpKeys,
      audit,
      revocation,
      clock,
    }),
    sessions: createSessionPolicyLibrary({
      store,
      audit,
      revocation,
      clock,
      maxConcurrent: settings.maxConcurrent,
      mode: settings.concurrencyMode,
    }),
  };
}

export type ServiceContext = ReturnType<typeof createServiceContext>;
