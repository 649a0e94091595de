// The session middleware of every service: the signed session cookie, one store read per
// request (the session with its owner's revocation cut-off), and a write only when the session
// changed. It replaces koa-session on the request path: koa-session serialised and hashed the
// session twice per request to detect changes and verified the cookie with three HMACs; this
// keeps koa-session's cookie and stored format, so pods of either kind read each other's
// sessions during a rolling deploy (docs/performance.md).
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type Koa from 'koa';
import { rememberRecent } from '@portcullis/crypto';
import { newSessionId, STORED_SESSION_MARGIN_MS, type SessionStore } from '@portcullis/session-store';
import { rememberCutOff } from './request-session.js';
import type { AdminSession } from './session-data.js';

declare module 'koa' {
  interface DefaultContext {
    /** The request's session: read it through sessionOf(ctx); `null` ends it, an object replaces it (same id). */
    session: AdminSession | null;
  }
}

export interface SessionCookieOptions {
  store: SessionStore;
  /** SESSION_SECRET list: the first signs cookies, every one verifies (rotation without logouts). */
  secrets: readonly string[];
  cookieName: string;
  /** Production: `__Host-` prefix and Secure. Behind a TLS-terminating ingress it needs TRUSTED_PROXY_HOPS ≥ 1 (X-Forwarded-Proto). */
  production: boolean;
  /** Idle timeout: the cookie's max age and (plus a margin) the stored session's lifetime. */
  idleTimeoutMs: number;
}

export const cookieNameFor = (name: string, production: boolean) => (production ? `__Host-${name}` : name);

/**
 * Cookie signatures in keygrip's format (HMAC-SHA1, base64url), so cookies signed before stay
 * valid: keys imported once, one HMAC per key tried and a constant-time comparison, where
 * keygrip re-imports the key and compares through two more HMACs and a random key. A cookie
 * checked recently is not checked again (rememberRecent).
 */
export function cookieKeys(secrets: readonly string[]) {
  if (secrets.length === 0) throw new Error('cookieKeys needs at least one SESSION_SECRET');
  const keys: KeyObject[] = secrets.map((secret) => createSecretKey(Buffer.from(secret)));
  const sign = (data: string, key: KeyObject) => createHmac('sha1', key).update(data).digest('base64url');
  // Keyed by data and digest together: a remembered answer is only ever for the same pair.
  const indexOf = rememberRecent((pair: string): number => {
    const split = pair.lastIndexOf('\n');
    const [data, given] = [pair.slice(0, split), Buffer.from(pair.slice(split + 1))];
    for (const [i, key] of keys.entries()) {
      const expected = Buffer.from(sign(data, key));
      if (expected.length === given.length && timingSafeEqual(expected, given)) return i;
    }
    return -1;
  });
  const index = (data: string, digest: string): number => indexOf(`${data}\n${digest}`);
  return {
    sign: (data: string) => sign(data, keys[0]!),
    index,
    verify: (data: string, digest: string) => index(data, digest) > -1,
  };
}

/** Fields koa-session added to stored sessions; read for compatibility, never written. */
const KOA_SESSION_FIELDS = ['_expire', '_maxAge'] as const;

/** One request's session: loaded before the routes, committed after them (also after an error). */
class RequestSession {
  id: string | undefined;
  data: AdminSession | undefined;
  /** The JSON last read from or written to the store: the session changed when it differs. */
  stored: string | undefined;
  /** The fields as last read or written, to tell a change without serialising (`unchanged`). */
  storedFields: Record<string, unknown> | undefined;
  ended = false;

  constructor(
    private readonly ctx: Koa.Context,
    private readonly options: SessionCookieOptions,
    private readonly cookie: { name: string; set: Parameters<Koa.Context['cookies']['set']>[2] },
  ) {}

  async load(): Promise<void> {
    const id = this.ctx.cookies.get(this.cookie.name, { signed: true });
    rememberCutOff(this.ctx, null);
    if (!id) return;
    const { session, raw, revokedBefore } = await this.options.store.read(id);
    rememberCutOff(this.ctx, revokedBefore);
    // An id the store does not know (expired, or planted) is never adopted: a session written
    // later in this request gets a fresh id, so nobody can choose another browser's id.
    if (!session) return;
    const expire = (session as { _expire?: unknown })._expire;
    if (typeof expire === 'number' && expire < Date.now()) return;
    for (const field of KOA_SESSION_FIELDS) delete (session as Record<string, unknown>)[field];
    this.id = id;
    this.data = session as AdminSession;
    this.stored = raw;
    this.storedFields = { ...session };
  }

  get(): AdminSession | null {
    if (this.ended) return null;
    this.data ??= {};
    return this.data;
  }

  set(value: AdminSession | null): void {
    if (value === null) {
      this.ended = true;
      return;
    }
    this.ended = false;
    this.data = value;
  }

  /** A new id for the same data, naming its owner's revocation marker; written at once. */
  async regenerate(): Promise<void> {
    if (this.id) await this.options.store.destroy(this.id);
    this.id = newSessionId(this.data?.userId);
    this.ended = false;
    await this.save();
  }

  /** Stores what changed; undefined (nothing to wait for) when nothing did, as on most requests. */
  commit(): Promise<void> | undefined {
    if (this.ended) return this.end();
    if (!this.data) return undefined;
    // A session nobody wrote to is not stored (an anonymous visitor costs no write).
    if (this.stored === undefined && Object.keys(this.data).length === 0) return undefined;
    if (this.unchanged()) return undefined;
    this.id ??= newSessionId(this.data.userId);
    return this.save();
  }

  private async end(): Promise<void> {
    if (this.id) await this.options.store.destroy(this.id);
    if (this.id || this.ctx.cookies.get(this.cookie.name))
      this.ctx.cookies.set(this.cookie.name, '', { ...this.cookie.set, maxAge: undefined, expires: new Date(0) });
  }

  /**
   * Whether the session still holds what was read or written. Field by field while every field
   * is a plain value (a session as most requests leave it); through its JSON when one holds an
   * object, which a route may have changed in place. Serialising every session to compare it
   * cost more than the rest of the session layer's own work.
   */
  private unchanged(): boolean {
    const data = this.data as Record<string, unknown>;
    const before = this.storedFields;
    if (!before) return false; // never stored
    const keys = Object.keys(data);
    if (keys.length !== Object.keys(before).length) return false;
    for (const key of keys) {
      const value = data[key];
      if (value !== null && typeof value === 'object') return JSON.stringify(data) === this.stored;
      if (value !== before[key] || !Object.hasOwn(before, key)) return false;
    }
    return true;
  }

  private async save(): Promise<void> {
    const json = JSON.stringify(this.data ?? {});
    await this.options.store.set(this.id!, { ...this.data }, this.options.idleTimeoutMs + STORED_SESSION_MARGIN_MS);
    this.stored = json;
    this.storedFields = { ...this.data };
    this.ctx.cookies.set(this.cookie.name, this.id, this.cookie.set);
  }
}

// On the context under a symbol, not in a WeakMap: one WeakMap entry per request showed up as GC work.
const REQUEST_SESSION = Symbol('portcullis.requestSession');

function requestSessionOf(ctx: object): RequestSession {
  const session = (ctx as { [REQUEST_SESSION]?: RequestSession })[REQUEST_SESSION];
  if (!session) throw new Error('ctx.session is only available behind installSessions');
  return session;
}

/**
 * A new id for the request's session, naming its owner's revocation marker so the next
 * request reads both in one round trip. Sign-in and step-up call this.
 */
export async function regenerateSession(ctx: Koa.Context): Promise<void> {
  await requestSessionOf(ctx).regenerate();
}

/** The session middleware, with the cookie flags a production auth service needs. */
export function installSessions(app: Koa, options: SessionCookieOptions): Koa.Middleware {
  if (options.secrets.length === 0) throw new Error('installSessions needs at least one SESSION_SECRET');
  // Other signed cookies of the app (known device, login CSRF) use the same keys.
  app.keys = cookieKeys(options.secrets) as unknown as string[];
  Object.defineProperty(app.context, 'session', {
    configurable: true,
    get(this: Koa.Context) {
      return requestSessionOf(this).get();
    },
    set(this: Koa.Context, value: AdminSession | null) {
      requestSessionOf(this).set(value);
    },
  });
  const cookie = {
    name: cookieNameFor(options.cookieName, options.production),
    set: {
      maxAge: options.idleTimeoutMs,
      httpOnly: true,
      signed: true,
      sameSite: 'lax' as const,
      secure: options.production,
      overwrite: true,
      path: '/',
    },
  };
  return async (ctx, next) => {
    const session = new RequestSession(ctx, options, cookie);
    (ctx as { [REQUEST_SESSION]?: RequestSession })[REQUEST_SESSION] = session;
    await session.load();
    try {
      await next();
    } finally {
      const written = session.commit();
      if (written) await written;
    }
  };
}
