// Who is signed in: live sessions for platform admins (admin, created, last seen, address,
// browser), per tenant or platform-wide, and ending one of them. The session store is the
// source; the list per admin is its per-user index (listByUser), the only listing every store
// driver answers cheaply (a Redis set, an indexed column, a DynamoDB index query).
import type { AuditWriter } from '@portcullis/audit';
import { apiError } from '@portcullis/http';
import { userIdOf, type AdminSession } from '@portcullis/session-auth';
import type { SessionStore, StoredSession } from '@portcullis/session-store';
import type { AccountKey, AccountQueries, AccountRow } from '../queries/accounts.js';
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

/** A session in the platform-wide list: whose it is, and of which tenant (none for a platform admin). */
export interface AccountSession extends LiveSession {
  adminKind: 'platform' | 'tenant';
  tenantId: string | null;
  tenantSlug: string | null;
  tenantName: string | null;
}

/**
 * The platform-wide walk's bounds. A page looks up at most MAX_LOOKUPS admins in the store's
 * per-user index, LOOKUP_BATCH at a time: the store cannot list every session cheaply on every
 * driver (a DynamoDB Scan reads the whole table, a Redis SCAN walks every key), so the walk goes
 * through the admins tables instead and a page costs one bounded round of index lookups.
 */
export const MAX_LOOKUPS = 200;
export const LOOKUP_BATCH = 20;

const liveSession = (owner: { id: string; email: string }, { hash, session }: StoredSession): LiveSession => {
  const data = session as AdminSession;
  return {
    id: hash,
    adminId: owner.id,
    adminEmail: owner.email,
    createdAt: new Date(data.createdAt ?? 0).toISOString(),
    lastSeenAt: new Date(data.lastSeenAt ?? data.createdAt ?? 0).toISOString(),
    ip: data.ip ?? null,
    userAgent: data.userAgent ?? null,
    assurance: data.aal ?? 1,
  };
};
const byLastSeen = (a: LiveSession, b: LiveSession) => b.lastSeenAt.localeCompare(a.lastSeenAt);

const sessionsOf = async (store: Pick<SessionStore, 'listByUser'>, account: AccountRow): Promise<AccountSession[]> =>
  (await store.listByUser(userIdOf(account.kind, account.id)))
    .map((stored) => ({
      ...liveSession(account, stored),
      adminKind: account.kind,
      tenantId: account.tenant_id,
      tenantSlug: account.kind === 'tenant' ? account.tenant_slug : null,
      tenantName: account.tenant_name,
    }))
    .sort(byLastSeen);

const keyOf = (account: AccountRow): AccountKey => ({
  slug: account.tenant_slug,
  email: account.email,
  id: account.id,
});

export function createLiveSessionLibrary({
  store,
  admins,
  accounts,
  audit,
}: {
  store: Pick<SessionStore, 'listByUser' | 'destroyByHash'>;
  admins: TenantAdminQueries;
  accounts: AccountQueries;
  audit: AuditWriter;
}) {
  async function listForTenant(tenantId: string): Promise<LiveSession[]> {
    const rows = await admins.list(tenantId);
    const perAdmin = await Promise.all(
      rows.map(async (admin) =>
        (await store.listByUser(userIdOf('tenant', admin.id))).map((stored) => liveSession(admin, stored)),
      ),
    );
    return perAdmin.flat().sort(byLastSeen);
  }

  /** Ends one session and records it; the caller has checked whose it is. */
  async function endOne(actor: Actor, owner: AccountRow, session: LiveSession): Promise<void> {
    await store.destroyByHash(session.id);
    await audit.record({
      ...auditBase(actor, owner.tenant_id),
      action: 'session.ended_by_platform_admin',
      targetType: owner.kind === 'tenant' ? 'tenant_admin' : 'platform_admin',
      targetId: owner.id,
      details: { session: session.id.slice(0, 16) },
    });
  }

  const notFound = () => apiError('session.not_found', 'No such session (it may have ended already).');

  return {
    listForTenant,

    /**
     * Every live session of every admin, platform admins first, then by tenant slug and email
     * (an admin's own sessions most recently seen first, never split across pages). The walk
     * goes through the admins in that order and stops once the page holds `limit` sessions or
     * MAX_LOOKUPS admins were looked up; `next` is the last admin looked up, while more remain.
     */
    async listAll(
      after: AccountKey | undefined,
      limit: number,
    ): Promise<{ sessions: AccountSession[]; next: AccountKey | null }> {
      // One read of the admins a page may look up, plus one: whether admins remain after them.
      const rows = await accounts.page(after, MAX_LOOKUPS + 1);
      const candidates = rows.slice(0, MAX_LOOKUPS);
      const remain = rows.length > MAX_LOOKUPS;
      const sessions: AccountSession[] = [];
      for (let start = 0; start < candidates.length; start += LOOKUP_BATCH) {
        const batch = candidates.slice(start, start + LOOKUP_BATCH);
        const lists = await Promise.all(batch.map((account) => sessionsOf(store, account)));
        for (const [index, account] of batch.entries()) {
          sessions.push(...lists[index]!);
          if (sessions.length >= limit) {
            const lastCandidate = start + index === candidates.length - 1;
            return { sessions, next: !lastCandidate || remain ? keyOf(account) : null };
          }
        }
      }
      // Every candidate looked up: the next page goes on after the last, while admins remain.
      const last = candidates.at(-1);
      return { sessions, next: remain && last ? keyOf(last) : null };
    },

    /** Ends one session of one of the tenant's admins; a session of anyone else is answered like an unknown one. */
    async end(actor: Actor, tenantId: string, sessionId: string): Promise<LiveSession> {
      const session = (await listForTenant(tenantId)).find((candidate) => candidate.id === sessionId);
      if (!session) throw notFound();
      const owner = await accounts.find(session.adminId);
      if (!owner) throw notFound();
      await endOne(actor, owner, session);
      return session;
    },

    /** One session of any admin (tenant or platform), as the platform-wide list shows it, or undefined. */
    async findOfAdmin(adminId: string, sessionId: string): Promise<AccountSession | undefined> {
      const owner = await accounts.find(adminId);
      return owner && (await sessionsOf(store, owner)).find((candidate) => candidate.id === sessionId);
    },

    /** Ends one session of any admin; an unknown admin or a session of someone else is answered like an unknown session. */
    async endOfAdmin(actor: Actor, adminId: string, sessionId: string): Promise<AccountSession> {
      const owner = await accounts.find(adminId);
      const session = owner && (await sessionsOf(store, owner)).find((candidate) => candidate.id === sessionId);
      if (!owner || !session) throw notFound();
      await endOne(actor, owner, session);
      return session;
    },
  };
}
