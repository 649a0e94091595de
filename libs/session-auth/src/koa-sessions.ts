import { randomBytes } from 'node:crypto';
import type Koa from 'koa';
import createSession from 'koa-session';
import type { SessionStore } from '@portcullis/session-store';

export interface SessionCookieOptions {
  store: SessionStore;
  /** SESSION_SECRET list: the first signs cookies, every one verifies (rotation without logouts). */
  secrets: readonly string[];
  cookieName: string;
  /** Production: `__Host-` prefix and Secure. Behind a TLS-terminating ingress it needs TRUSTED_PROXY_HOPS ≥ 1 (X-Forwarded-Proto). */
  production: boolean;
  /** Idle timeout; every request rolls it forward. */
  idleTimeoutMs: number;
}

export const cookieNameFor = (name: string, production: boolean) => (production ? `__Host-${name}` : name);

/** 256-bit random ids; the store keeps only their HMAC. */
export const newSessionId = () => randomBytes(32).toString('base64url');

/** koa-session over the shared store, with the cookie flags a production auth service needs. */
export function installSessions(app: Koa, options: SessionCookieOptions): Koa.Middleware {
  if (options.secrets.length === 0) throw new Error('installSessions needs at least one SESSION_SECRET');
  app.keys = [...options.secrets];
  return createSession(
    {
      key: cookieNameFor(options.cookieName, options.production),
      maxAge: options.idleTimeoutMs,
      // Not rolling on every request: requireSession moves `lastSeenAt` once a minute, and that
      // change re-saves the session (cookie and store TTL). Saves one store write per request.
      rolling: false,
      httpOnly: true,
      signed: true,
      sameSite: 'lax',
      secure: options.production,
      store: options.store,
      genid: newSessionId,
    },
    app,
  ) as Koa.Middleware;
}
