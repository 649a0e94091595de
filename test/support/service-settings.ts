// What every service test signs sessions with: auth-session's settings for tests. Light (no
// clients, no app), so test/support/index.ts re-exports it.
import type { AuthSettings } from '../../services/auth-session/src/app.js';

export const SESSION_SECRET = `test-session-secret-${'x'.repeat(32)}`;
export const defaultSettings: AuthSettings = {
  production: false,
  cookieName: 'portcullis.sid',
  secrets: [SESSION_SECRET],
  idleTimeoutMs: 30 * 60_000,
  absoluteTimeoutMs: 12 * 3600_000,
  maxConcurrent: 5,
  concurrencyMode: 'evict-oldest',
  lockout: { threshold: 5, baseSeconds: 60, maxSeconds: 3600 },
  reauthMaxAgeMs: 5 * 60_000,
};

/** The headers of a JSON API client. */
export const json = { Accept: 'application/json', 'Content-Type': 'application/json' };

/** The CSRF token of a page's form (its hidden `_csrf` field), for a test that posts the form as a browser does. */
export const csrfTokenIn = (page: string): string => /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
