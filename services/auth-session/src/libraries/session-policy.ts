import { apiError } from '@portcullis/http';
import type { AuditWriter } from '@portcullis/audit';
import type { AdminSession, SessionRevocation, SignedInAdmin } from '@portcullis/session-auth';
import type { SessionStore, StoredSession } from '@portcullis/session-store';

export type ConcurrencyMode = 'reject' | 'evict-oldest';

export interface SessionSummary {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  ip: string | null;
  userAgent: string | null;
  assurance: 1 | 2;
  current: boolean;
}

const createdAtOf = (stored: StoredSession) => Number((stored.session as AdminSession).createdAt ?? 0);
const isFullySignedIn = (stored: StoredSession) => (stored.session as AdminSession).aal === 2;
const oldestFirst = (sessions: StoredSession[]) => sessions.sort((a, b) => createdAtOf(a) - createdAtOf(b));

/**
 * Sign-ins waiting for their second factor, per admin: enough for a few browsers at once, and
 * kept apart from the limit on full sessions, which a password alone must never touch.
 */
export const MAX_PENDING_SIGN_INS = 3;

/** Who asked, for the audit record. */
export interface RequestMeta {
  ip: string;
  requestId: string;
}

const actorOf = (admin: SignedInAdmin) => ({
  tenantId: admin.tenantId,
  actorType: `${admin.kind}_admin` as const,
  actorId: admin.id,
});

export function createSessionPolicyLibrary(deps: {
  store: SessionStore;
  audit: AuditWriter;
  revocation: SessionRevocation;
  clock: { now(): number };
  maxConcurrent: number;
  mode: ConcurrencyMode;
}) {
  const { store, audit, revocation, clock, maxConcurrent, mode } = deps;

  const library = {
    /**
     * Makes room for one more level-2 session of `userId`, at step-up: refuses (reject) or ends
     * the oldest level-2 sessions (evict-oldest) once the admin already has `maxConcurrent`.
     * Level-1 sessions do not count: a password alone must not push out or lock out a full one.
     */
    async makeRoom(
      userId: string,
      exceptHash: string | undefined,
      actor: { tenantId: string | null; actorType: 'platform_admin' | 'tenant_admin'; actorId: string },
    ): Promise<void> {
      const others = oldestFirst(
        (await store.listByUser(userId)).filter((stored) => stored.hash !== exceptHash && isFullySignedIn(stored)),
      );
      const excess = others.length - (maxConcurrent - 1);
      if (excess <= 0) return;
      if (mode === 'reject') {
        throw apiError(
          'session.limit_reached',
          `You already have ${others.length} active sessions (the limit is ${maxConcurrent}). Sign out elsewhere first.`,
        );
      }
      for (const oldest of others.slice(0, excess)) {
        await store.destroyByHash(oldest.hash);
        await audit.record({
          ...actor,
          action: 'session.evicted',
          targetType: 'session',
          targetId: oldest.hash.slice(0, 16),
          details: { reason: 'concurrent_session_limit' },
        });
      }
    },

    /** Makes room for one more pending (level-1) sign-in by ending the oldest pending ones. */
    async makeRoomForPendingSignIn(userId: string): Promise<void> {
      const pending = oldestFirst((await store.listByUser(userId)).filter((stored) => !isFullySignedIn(stored)));
      for (const oldest of pending.slice(0, Math.max(0, pending.length - (MAX_PENDING_SIGN_INS - 1))))
        await store.destroyByHash(oldest.hash);
    },

    async list(userId: string, currentHash: string | undefined): Promise<SessionSummary[]> {
      const sessions = await store.listByUser(userId);
      return sessions
        .map(({ hash, session }) => {
          const data = session as AdminSession;
          return {
            id: hash,
            createdAt: new Date(data.createdAt ?? 0).toISOString(),
            lastSeenAt: new Date(data.lastSeenAt ?? data.createdAt ?? 0).toISOString(),
            ip: data.ip ?? null,
            userAgent: data.userAgent ?? null,
            assurance: data.aal ?? 1,
            current: hash === currentHash,
          };
        })
        .sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt));
    },

    /** The stored hash of a session id (the signed cookie's value). */
    hashOf: (sessionId: string): string => store.hashOf(sessionId),

    /** Ends one of the admin's own sessions (audited); another admin's id is answered like an unknown one. */
    async revoke(admin: SignedInAdmin, sessionId: string, request: RequestMeta): Promise<void> {
      const owned = (await store.listByUser(admin.userId)).some((stored) => stored.hash === sessionId);
      if (!owned) throw apiError('session.not_found');
      await store.destroyByHash(sessionId);
      await audit.record({
        ...actorOf(admin),
        action: 'session.revoked',
        targetType: 'session',
        targetId: sessionId.slice(0, 16),
        ...request,
      });
    },

    /** The admin signs out: recorded before the caller drops the session. */
    async signOut(admin: SignedInAdmin, request: RequestMeta): Promise<void> {
      await audit.record({ ...actorOf(admin), action: 'auth.logout', ...request });
    },

    /**
     * "Sign out everywhere else": every session from before now is void (the revocation marker,
     * which also catches a session the store's per-admin index has yet to list), then the
     * listed ones are deleted. Returns the cut-off: the caller re-issues the current session
     * after it, or it would be void too.
     */
    async revokeOthers(admin: SignedInAdmin, currentHash: string): Promise<{ revoked: number; cutOff: number }> {
      const cutOff = clock.now();
      await revocation.revokeAll(admin.kind, admin.id, cutOff);
      const others = (await store.listByUser(admin.userId)).filter((stored) => stored.hash !== currentHash);
      for (const other of others) await store.destroyByHash(other.hash);
      return { revoked: others.length, cutOff };
    },

    /** revokeOthers asked for by the admin (not as part of a password change): audited. */
    async endOthers(
      admin: SignedInAdmin,
      currentHash: string,
      request: RequestMeta,
    ): Promise<{ revoked: number; cutOff: number }> {
      const result = await library.revokeOthers(admin, currentHash);
      await audit.record({
        ...actorOf(admin),
        action: 'session.revoked_others',
        ...request,
        details: { revoked: result.revoked },
      });
      return result;
    },
  };
  return library;
}

export type SessionPolicyLibrary = ReturnType<typeof createSessionPolicyLibrary>;
