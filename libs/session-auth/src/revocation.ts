import type { SessionStore } from '@portcullis/session-store';
import { userIdOf, type AdminKind } from './session-data.js';

export interface SessionRevocationOptions {
  store: Pick<SessionStore, 'revoke'>;
  /** SESSION_ABSOLUTE_TIMEOUT_SECONDS in ms: no session lives longer, so neither need a marker. */
  absoluteTimeoutMs: number;
  clock: { now(): number };
}

/** Slack on a marker's lifetime for clocks that differ between pods. */
const MARKER_SLACK_MS = 3600_000;

/**
 * "Sign this admin out everywhere": every session of the admin created before the cut-off is
 * refused by requireSession on every replica from its very next request, whatever the store's
 * per-admin index says (docs/auth-session.md, "Revocation"). Call it BEFORE the change that
 * requires it commits (a store that fails then stops the change), and again after with the
 * commit time, which closes the gap of sign-ins during the transaction.
 */
export function createSessionRevocation({ store, absoluteTimeoutMs, clock }: SessionRevocationOptions) {
  return {
    async revokeAll(kind: AdminKind, adminId: string, cutOff: number = clock.now()): Promise<void> {
      await store.revoke(userIdOf(kind, adminId), cutOff, absoluteTimeoutMs + MARKER_SLACK_MS);
    },
  };
}

export type SessionRevocation = ReturnType<typeof createSessionRevocation>;
