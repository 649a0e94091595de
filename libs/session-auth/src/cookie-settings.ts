/** The configuration slice every service reads to share one session cookie. */
export interface SessionCookieConfig {
  NODE_ENV: string;
  SESSION_COOKIE_NAME: string;
  SESSION_SECRET: readonly string[];
  SESSION_IDLE_TIMEOUT_SECONDS: number;
  SESSION_ABSOLUTE_TIMEOUT_SECONDS: number;
}

/**
 * Cookie and lifetime settings, derived in one place: all three services must read the same
 * cookie with the same keys and timeouts, or a signed-in admin is signed out between them.
 */
export function sessionCookieSettings(config: SessionCookieConfig) {
  return {
    production: config.NODE_ENV === 'production',
    cookieName: config.SESSION_COOKIE_NAME,
    secrets: config.SESSION_SECRET,
    idleTimeoutMs: config.SESSION_IDLE_TIMEOUT_SECONDS * 1000,
    absoluteTimeoutMs: config.SESSION_ABSOLUTE_TIMEOUT_SECONDS * 1000,
  };
}
