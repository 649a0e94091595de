// Who is signed in: a tenant's live sessions for platform admins (admin, created, last seen,
// address, browser), and ending one of them. The session store is the source; the list per
// admin is its per-user index.
import type { AuditWriter } from '@portcullis/audit';
import { apiError } from '@portcullis/http';
import { userIdOf, type AdminSession } from '@portcullis/session-auth';
import type { SessionStore } from '@portcullis/session-store';
import type { TenantAdminQueries } from '../queries/tenant-admins.js';
import { auditBase, type Actor } from './actor.js';

export interface LiveSession {
  id: string;
  adminId: string;
  adminEmail: string;
  createdAt: string;
  lastSeenAt: string;
  ip: string | null;
  userAgent: string | null;
  /** 1: password only (a sign-in in progress); 2: fully signed in. */
  assurance: number;
}

export function createLiveSessionLibrary({
  store,
  admins,
  audit,
}: {
  store: Pick<SessionStore, 'listByUser' | 'destroyByHash'>;
  admins: TenantAdminQueries;
  audit: AuditWriter;
}) {
  async function listForTenant(tenantId: string): Promise<LiveSession[]> {
    const rows = await admins.list(tenantId);
    const perAdmin = await Promise.all(
      rows.map(async (admin) =>
        (await store.listByUser(userIdOf('tenant', admin.id))).map(({ hash, session }) => {
          const data = session as AdminSession;
          return {
            id: hash,
            adminId: admin.id,
            adminEmail: admin.email,
            createdAt: new Date(data.createdAt ?? 0).toISOString(),
            lastSeenAt: new Date(data.lastSeenAt ?? data.createdAt ?? 0).toISOString(),
            ip: data.ip ?? null,
            userAgent: data.userAgent ?? null,
            assurance: data.aal ?? 1,
          };
        }),
      ),
    );
    return perAdmin.flat().sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt));
  }

  return {
    listForTenant,

    /** Ends one session of one of the tenant's admins; a session of anyone else is answered like an unknown one. */
    async end(actor: Actor, tenantId: string, sessionId: string): Promise<LiveSession> {
      const session = (await listForTenant(tenantId)).find((candidate) => candidate.id === sessionId);
      if (!session) throw apiError('session.not_found', 'No such session (it may have ended already).');
      await store.destroyByHash(sessionId);
      await audit.record({
        ...auditBase(actor, tenantId),
        action: 'session.ended_by_platform_admin',
        targetType: 'tenant_admin',
        targetId: session.adminId,
        details: { session: sessionId.slice(0, 16) },
      });
      return session;
    },
  };
}
