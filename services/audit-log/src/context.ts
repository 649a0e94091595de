import type { Knex } from 'knex';
import type { AuditWriter } from '@portcullis/audit';
import type { KeyRing } from '@portcullis/crypto';
import type { Logger, ServiceMetrics } from '@portcullis/observability';
import { sessionPolicyOf } from '@portcullis/session-auth';
import type { SessionStore } from '@portcullis/session-store';
import { createEventLibrary } from './libraries/events.js';
import { createEventQueries } from './queries/events.js';

export interface AuditLogSettings {
  production: boolean;
  cookieName: string;
  /** SESSION_SECRET list: first signs, all verify (shared with auth-session). */
  secrets: readonly string[];
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
}

export interface AppDependencies {
  db: Knex;
  store: SessionStore;
  /** Records who exported what (audit.exported). */
  audit: AuditWriter;
  /** AUDIT_DETAILS_ENCRYPTION_KEY ring: opens sealed details for readers; without it they read `[sealed]`. */
  detailsKeys?: KeyRing | undefined;
  logger: Logger;
  metrics: ServiceMetrics;
  clock: { now(): number };
  settings: AuditLogSettings;
  /** Proxies in front of the service (TRUSTED_PROXY_HOPS); unset trusts no X-Forwarded-* header. */
  trustedProxyHops?: number;
}

/** Builds queries and libraries from explicit dependencies: the one place they are wired. */
export function createServiceContext(deps: AppDependencies) {
  const { db, clock, audit, detailsKeys } = deps;
  const policy = sessionPolicyOf(deps.settings, clock);
  // Routes reach libraries only: no queries or database here.
  return {
    settings: deps.settings,
    clock,
    policy,
    events: createEventLibrary({ queries: createEventQueries(db), audit, detailsKeys, clock }),
  };
}

export type ServiceContext = ReturnType<typeof createServiceContext>;
