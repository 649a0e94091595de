import { ApiError } from '@portcullis/http';
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

export function createSessionPolicyLibrary(deps: {
  store: SessionStore;
  audit: AuditWriter;
  revocation: SessionRevocation;
  clock: { now(): number };
  maxConcurrent: number;
  mode: ConcurrencyMode;
}) {
  const { store, audit, revocation, clock, maxConcurrent, mode } = deps;

  return {
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
        throw new ApiError(
          'session.limit_reached',
          409,
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

    /** Ends one of the admin's own sessions; another admin's id is answered like an unknown one. */
    async revoke(userId: string, sessionId: string): Promise<void> {
      const owned = (await store.listByUser(userId)).some((stored) => stored.hash === sessionId);
      if (!owned) throw new ApiError('session.not_found', 404, 'No such session.');
      await store.destroyByHash(sessionId);
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
  };
}

export type SessionPolicyLibrary = ReturnType<typeof createSessionPolicyLibrary>;
