export { type AdminKind, type AdminSession, userIdOf } from './session-data.js';
export { installSessions, cookieNameFor, newSessionId, type SessionCookieOptions } from './koa-sessions.js';
export { LAST_SEEN_GRANULARITY_MS, consoleReturnPath, signInStep, requireSession, requireAal2, requireRole, requireTenantScope, requireRecentAuth, sessionOf, type SessionPolicy, type Clock } from './guards.js';
export { koaCsrf, csrfTokenFor } from './koa-csrf.js';
export { sessionCookieSettings, type SessionCookieConfig } from './cookie-settings.js';
