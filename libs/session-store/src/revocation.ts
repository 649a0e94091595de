// Per-admin revocation markers, kept in the session store itself so that the request path reads
// a session and its owner's marker in one round trip (docs/auth-session.md, "Revocation").
//
// A marker is an ordinary record (so dual writes, backfill and verify carry it like a session)
// under a key no session id can hash to: SHA-256 of the owner, where sessions are keyed by
// HMAC-SHA256 of their id. Its data is `{"revokedBefore":<epoch ms>}`; its owner column is
// empty, so listByUser/deleteByUser never see it. It lives as long as the sessions it voids
// can: the caller's TTL is at least the absolute session lifetime.
//
// A session id carries its owner's marker key after a dot (`<random>.<marker key>`): the store
// knows which marker to read before it has the session. The key is a hash: the cookie reveals
// no admin id, and the owner recorded in the session must match it or the marker is read again.
import { createHash, randomBytes } from 'node:crypto';
import type { SessionRecord } from './backend.js';

const MARKER_DOMAIN = 'portcullis.session-revocation\0';

function markerDigest(userId: string): Buffer {
  return createHash('sha256').update(MARKER_DOMAIN).update(userId).digest();
}

/** Where the marker of `userId` is stored (64 hex characters, like a session's hash). */
export function revocationHashOf(userId: string): string {
  return markerDigest(userId).toString('hex');
}

/** 256 random bits, then the owner's marker key once the session belongs to an admin. */
export function newSessionId(userId?: string): string {
  const random = randomBytes(32).toString('base64url');
  return userId ? `${random}.${markerDigest(userId).toString('base64url')}` : random;
}

/** The marker key an id names, or undefined (an anonymous session, or an id from before markers). */
export function markerHashOfId(id: string): string | undefined {
  const dot = id.indexOf('.');
  if (dot < 0 || id.length - dot - 1 !== 43) return undefined;
  const digest = Buffer.from(id.slice(dot + 1), 'base64url');
  return digest.length === 32 ? digest.toString('hex') : undefined;
}

export function markerRecord(userId: string, revokedBefore: number, expiresAt: number): SessionRecord {
  return { hash: revocationHashOf(userId), userId: null, data: JSON.stringify({ revokedBefore }), expiresAt };
}

/** The cut-off a stored marker holds, or null when there is none. An unreadable marker voids everything (fails closed). */
export function cutOffOf(marker: SessionRecord | undefined): number | null {
  if (!marker) return null;
  try {
    const value = (JSON.parse(marker.data) as { revokedBefore?: unknown }).revokedBefore;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  } catch {
    // falls through
  }
  return Number.POSITIVE_INFINITY;
}
