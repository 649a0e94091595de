import type { Context, Middleware, Next } from 'koa';
import { apiError, type ApiError } from '@portcullis/http';
import { revocationCutOff } from './request-session.js';
import { userIdOf, type AdminKind, type AdminSession } from './session-data.js';

// The guards are plain functions that return next() (a thrown refusal still reaches the error
// middleware through koa-compose): an async wrapper per guard cost a promise per request.

export interface Clock {
  now(): number;
}

export interface SessionPolicy {
  clock: Clock;
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
}

/**
 * The guard's policy from a service's session settings. Revocation needs nothing here: it is
 * read with the session itself (installSessions), no query per request.
 */
export const sessionPolicyOf = (
  { idleTimeoutMs, absoluteTimeoutMs }: { idleTimeoutMs: number; absoluteTimeoutMs: number },
  clock: Clock,
): SessionPolicy => ({ clock, idleTimeoutMs, absoluteTimeoutMs });

/** Who is signed in, as the guard found it: what routes read instead of the raw session. */
export interface SignedInAdmin {
  kind: AdminKind;
  id: string;
  /** `${kind}:${id}`, the session store's owner key. */
  userId: string;
  tenantId: string | null;
  /** Stored at sign-in; absent in sessions from before it was. */
  email?: string;
  assurance: 1 | 2;
  sessionCreatedAt: number;
  lastSeenAt: number;
  /** Last password + code confirmation (sign-in or re-authentication), if any. */
  authAt?: number;
}

declare module 'koa' {
  interface DefaultState {
    admin?: SignedInAdmin;
  }
}

/** The admin requireSession let through. Only for routes behind it; anything else is a 401. */
export function signedInAdmin(ctx: Context): SignedInAdmin {
  const admin = (ctx.state as { admin?: SignedInAdmin }).admin;
  if (!admin) throw unauthenticated();
  return admin;
}

export function sessionOf(ctx: Context): AdminSession {
  return (ctx.session ?? {}) as AdminSession;
}

/** Idle timeouts are measured to this precision (or a quarter of the timeout, when shorter). */
export const LAST_SEEN_GRANULARITY_MS = 60_000;

const unauthenticated = () => apiError('auth.unauthenticated', 'Sign in first.');

/** Where the sign-in goes on from a level-1 session (the auth-session pages, behind the same ingress). */
export function signInStep(session: AdminSession): {
  next: 'verify-mfa' | 'enroll-mfa' | 'change-password' | 'done';
  location: string;
} {
  if (session.aal !== 2)
    return session.mustEnrollMfa
      ? { next: 'enroll-mfa', location: '/auth/mfa/enroll' }
      : { next: 'verify-mfa', location: '/auth/mfa' };
  if (session.mustChangePassword) return { next: 'change-password', location: '/auth/password' };
  return { next: 'done', location: session.returnTo ?? '/auth/me' };
}

/**
 * The sign-in page, carrying the page asked for (with its query: an audit filter survives the
 * detour) so the admin lands there afterwards.
 */
function signInLocation(ctx: Context): string {
  const back = consoleReturnPath(ctx.url);
  return back && back !== '/auth/me' ? `/auth/login?next=${encodeURIComponent(back)}` : '/auth/login';
}

/**
 * A browser opening a page (GET or HEAD, HTML preferred) is sent to the page that lets it go on
 * (303); API clients and form posts get the error itself. A JSON 401 in a browser tab told an
 * admin nothing.
 */
function sendOnOrThrow(ctx: Context, location: string, error: ApiError): void {
  if ((ctx.method === 'GET' || ctx.method === 'HEAD') && ctx.accepts('html', 'json') === 'html') {
    ctx.status = 303;
    ctx.redirect(location);
    return;
  }
  throw error;
}

/**
 * A sign-in that has passed the password but not the second factor (level 1) ends this long
 * after the password step: time to open an authenticator, or to enrol one on a first sign-in.
 */
export const PENDING_SIGN_IN_TIMEOUT_MS = 15 * 60_000;

/**
 * The one session guard of every service: a signed-in session within its idle and absolute
 * lifetime, created after its owner's revocation cut-off (read with the session, in the same
 * store round trip: installSessions). Anything else ends the session and answers 401. Sets
 * `ctx.state.admin` (signedInAdmin) for the routes.
 */
export function requireSession(policy: SessionPolicy): Middleware {
  return (ctx, next) => {
    const session = sessionOf(ctx);
    const { kind, adminId, createdAt } = session;
    if (!kind || !adminId || !createdAt) return sendOnOrThrow(ctx, signInLocation(ctx), unauthenticated());
    const now = policy.clock.now();
    const idle = now - (session.lastSeenAt ?? createdAt) > policy.idleTimeoutMs;
    const tooOld =
      now - (session.signedInAt ?? createdAt) >
      (session.aal === 2 ? policy.absoluteTimeoutMs : Math.min(policy.absoluteTimeoutMs, PENDING_SIGN_IN_TIMEOUT_MS));
    const cutOff = revocationCutOff(ctx);
    if (idle || tooOld || (cutOff !== null && createdAt < cutOff)) {
      ctx.session = null;
      return sendOnOrThrow(ctx, signInLocation(ctx), sessionEnded());
    }
    // At most once a minute (a quarter of the idle timeout when that is shorter) the session
    // changes and is written back, its TTL renewed, instead of on every request; with the whole
    // minute at a one-minute idle timeout, a session in use would still end.
    if (now - (session.lastSeenAt ?? 0) >= Math.min(LAST_SEEN_GRANULARITY_MS, policy.idleTimeoutMs / 4))
      session.lastSeenAt = now;
    ctx.state.admin = {
      kind,
      id: adminId,
      userId: session.userId ?? userIdOf(kind, adminId),
      tenantId: session.tenantId ?? null,
      ...(session.email ? { email: session.email } : {}),
      assurance: session.aal === 2 ? 2 : 1,
      sessionCreatedAt: createdAt,
      lastSeenAt: session.lastSeenAt ?? createdAt,
      ...(session.authAt ? { authAt: session.authAt } : {}),
    } satisfies SignedInAdmin;
    return next();
  };
}

/** The answer to a session that was valid once and is no more (expired, revoked, owner gone). */
export const sessionEnded = () => apiError('auth.session_expired', 'Your session has ended. Sign in again.');

/** Assurance level 2: password and a second factor. A level-1 session can only verify MFA. */
export function requireAal2(): Middleware {
  return (ctx, next) => {
    const session = sessionOf(ctx);
    if (session.aal !== 2)
      return sendOnOrThrow(
        ctx,
        signInStep(session).location,
        apiError('auth.mfa_required', 'Complete the second factor first.'),
      );
    if (session.mustChangePassword)
      return sendOnOrThrow(
        ctx,
        signInStep(session).location,
        apiError('auth.password_change_required', 'Change your password first.'),
      );
    return next();
  };
}

export function requireRole(kind: AdminKind): Middleware {
  return (ctx, next) => {
    if (sessionOf(ctx).kind !== kind) throw apiError('auth.forbidden', 'Your role does not allow this.');
    return next();
  };
}

/** Tenant admins reach only their own tenant (by id in `param`); platform admins reach every tenant. */
export function requireTenantScope(param = 'tenant'): Middleware {
  return (ctx, next) => {
    const session = sessionOf(ctx);
    const tenant = (ctx as Context & { params?: Record<string, string> }).params?.[param];
    if (session.kind === 'tenant' && tenant !== session.tenantId) {
      throw apiError('auth.not_found', 'No such tenant.');
    }
    return next();
  };
}

/**
 * A console page to come back to after a detour through the sign-in pages: a path of this
 * product only (`/auth`, `/admin`, `/audit`), never another site (`//host`, `/\host`, a scheme),
 * with a form-encoded query at most (no fragment, nothing a header or an attribute could break on).
 */
export function consoleReturnPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 1024) return undefined;
  return /^\/(?:auth|admin|audit)(?:\/[A-Za-z0-9._~%-]+)*\/?(?:\?[A-Za-z0-9._~%+=&-]*)?$/.test(value)
    ? value
    : undefined;
}

/** What requireRecentAuth asks of a client, for the OpenAPI documents of the routes behind it. */
export const RECENT_AUTH_DESCRIPTION =
  'Needs a password + TOTP confirmation within REAUTH_MAX_AGE_SECONDS (POST /auth/reauthenticate), else 403 auth.reauthentication_required.';

/**
 * Sensitive actions need a password + TOTP re-authentication within `maxAgeMs`. A browser form
 * post that is too late goes to the re-authentication page, which sends the admin back to the
 * form's page (its `_return` field) to submit again; API clients get the 403.
 */
export function requireRecentAuth(clock: Clock, maxAgeMs: number): Middleware {
  return (ctx: Context, next: Next) => {
    const authAt = sessionOf(ctx).authAt ?? 0;
    if (clock.now() - authAt > maxAgeMs) {
      const error = apiError('auth.reauthentication_required');
      if (ctx.method !== 'POST' || ctx.accepts('html', 'json') !== 'html' || !ctx.is('urlencoded')) throw error;
      const back = consoleReturnPath((ctx.request as { body?: { _return?: unknown } }).body?._return) ?? '/auth/me';
      ctx.status = 303;
      ctx.redirect(`/auth/reauthenticate?next=${encodeURIComponent(back)}`);
      return;
    }
    return next();
  };
}
