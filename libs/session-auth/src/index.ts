export { type AdminKind, type AdminSession, userIdOf } from './session-data.js';
export {
  installSessions,
  cookieNameFor,
  cookieKeys,
  regenerateSession,
  type SessionCookieOptions,
} from './koa-sessions.js';
export { createSessionRevocation, type SessionRevocation, type SessionRevocationOptions } from './revocation.js';
export {
  LAST_SEEN_GRANULARITY_MS,
  consoleReturnPath,
  signInStep,
  requireSession,
  sessionPolicyOf,
  RECENT_AUTH_DESCRIPTION,
  requireAal2,
  requireRole,
  requireTenantScope,
  requireRecentAuth,
  sessionOf,
  sessionEnded,
  signedInAdmin,
  type SessionPolicy,
  type SignedInAdmin,
  type Clock,
} from './guards.js';
export { koaCsrf, csrfTokenFor } from './koa-csrf.js';
export { sessionCookieSettings, type SessionCookieConfig } from './cookie-settings.js';
