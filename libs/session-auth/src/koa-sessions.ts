import type Koa from 'koa';
import createSession from 'koa-session';
import { newSessionId, type SessionStore } from '@portcullis/session-store';
import { sessionOf } from './guards.js';
import { ownerOf, rememberCutOff, rememberOwner } from './request-session.js';

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

/**
 * A new id for the request's session, naming its owner's revocation marker so the next
 * request reads both in one round trip. Sign-in and step-up call this, never
 * `ctx.session.regenerate()` directly.
 */
export async function regenerateSession(ctx: Koa.Context): Promise<void> {
  const session = ctx.session;
  if (!session) throw new Error('regenerateSession needs a session');
  rememberOwner(ctx, sessionOf(ctx).userId);
  await session.regenerate();
}

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
      // koa-session's store interface, over store.read: the owner's revocation cut-off comes
      // back with the session and waits for requireSession.
      store: {
        async get(id: string, _maxAge: unknown, { ctx }: { ctx?: Koa.Context }) {
          const { session, revokedBefore } = await options.store.read(id);
          if (ctx) rememberCutOff(ctx, revokedBefore);
          return session;
        },
        set: (id: string, session: Record<string, unknown>, maxAge: number | 'session' | undefined) => options.store.set(id, session, maxAge),
        destroy: (id: string) => options.store.destroy(id),
      },
      genid: (ctx: Koa.Context) => newSessionId(ownerOf(ctx)),
    },
    app,
  ) as Koa.Middleware;
}
