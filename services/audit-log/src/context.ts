import type { Knex } from 'knex';
import type { AuditWriter } from '@portcullis/audit';
import type { KeyRing } from '@portcullis/crypto';
import type { Logger, ServiceMetrics } from '@portcullis/observability';
import type { SessionPolicy } from '@portcullis/session-auth';
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

const tableOf = (kind: 'platform' | 'tenant') => (kind === 'platform' ? 'platform_admins' : 'tenant_admins');

/** Builds queries and libraries from explicit dependencies: the one place they are wired. */
export function createServiceContext(deps: AppDependencies) {
  const { db, clock } = deps;
  const policy: SessionPolicy = {
    clock,
    idleTimeoutMs: deps.settings.idleTimeoutMs,
    absoluteTimeoutMs: deps.settings.absoluteTimeoutMs,
    async revokedBefore(kind, adminId) {
      const row = (await db(tableOf(kind)).where({ id: adminId }).first('disabled_at', 'sessions_revoked_at')) as { disabled_at: Date | null; sessions_revoked_at: Date | null } | undefined;
      if (!row || row.disabled_at) return false;
      return row.sessions_revoked_at ? row.sessions_revoked_at.getTime() : null;
    },
  };
  return { ...deps, policy, events: createEventLibrary({ queries: createEventQueries(db), detailsKeys: deps.detailsKeys }) };
}

export type ServiceContext = ReturnType<typeof createServiceContext>;
