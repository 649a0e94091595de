import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { requestMeta } from '@portcullis/http';
import {
  cookieNameFor,
  csrfTokenFor,
  regenerateSession,
  sessionOf,
  signedInAdmin,
  signInStep,
  userIdOf,
  type AdminSession,
} from '@portcullis/session-auth';
import type { ServiceContext } from '../context.js';
import type { KnownDevice, RequestInfo, SignedIn } from '../libraries/sign-in.js';

// What every route of every service does the same way (parse, answer JSON or a page, show a
// refused form again) is the route guard of @portcullis/http; here is what only auth-session
// does: the sessions it starts and raises, and the known-device cookie.

export const requestInfo = (ctx: Context): RequestInfo => requestMeta(ctx);

/**
 * The sign-in steps also read the known-device cookie. Checks inside a signed-in session
 * (re-authentication, password change) do not: there the session may be what was stolen.
 */
export const signInRequestInfo = (ctx: Context, c: ServiceContext): RequestInfo => ({
  ...requestInfo(ctx),
  device: knownDeviceOf(ctx, c),
});

// The known-device cookie (failureBudget in libraries/sign-in.ts): signed with SESSION_SECRET,
// set when a browser completes a full sign-in, naming the admin it signed in.
const KNOWN_DEVICE_MAX_AGE_MS = 180 * 24 * 60 * 60_000;
const knownDeviceCookie = (c: ServiceContext) =>
  cookieNameFor(`${c.settings.cookieName}.device`, c.settings.production);

function knownDeviceOf(ctx: Context, c: ServiceContext): KnownDevice | undefined {
  const [id, userId] = ctx.cookies.get(knownDeviceCookie(c), { signed: true })?.split('|') ?? [];
  return id && userId ? { id, userId } : undefined;
}

function rememberDevice(ctx: Context, c: ServiceContext, userId: string): void {
  if (knownDeviceOf(ctx, c)?.userId === userId) return;
  ctx.cookies.set(knownDeviceCookie(c), `${randomBytes(16).toString('base64url')}|${userId}`, {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    secure: c.settings.production,
    maxAge: KNOWN_DEVICE_MAX_AGE_MS,
    overwrite: true,
  });
}

/** The next sign-in step; once signed in fully, the page first asked for (kept since the login form) is used once. */
export function nextStepOf(ctx: Context, session: AdminSession): ReturnType<typeof signInStep> {
  const step = signInStep(session);
  if (step.next === 'done') delete sessionOf(ctx).returnTo;
  return step;
}

/**
 * A new session for the admin: a fresh id (the pre-login id dies: no fixation), room made under
 * the limit of its level (pending sign-ins have their own small cap), assurance level as given.
 */
export async function startAdminSession(
  ctx: Context,
  c: ServiceContext,
  { kind, admin }: SignedIn,
  aal: 1 | 2,
): Promise<AdminSession> {
  const userId = userIdOf(kind, admin.id);
  if (aal === 2)
    await c.sessions.makeRoom(userId, undefined, {
      tenantId: admin.tenant_id,
      actorType: `${kind}_admin`,
      actorId: admin.id,
    });
  else await c.sessions.makeRoomForPendingSignIn(userId);
  const now = c.clock.now();
  const fresh: AdminSession = {
    userId,
    kind,
    adminId: admin.id,
    tenantId: admin.tenant_id,
    email: admin.email,
    aal,
    createdAt: now,
    signedInAt: now,
    lastSeenAt: now,
    ...(aal === 2 ? { authAt: now } : {}),
    ip: ctx.ip,
    userAgent: ctx.get('user-agent').slice(0, 256),
    mustChangePassword: admin.must_change_password,
    mustEnrollMfa: !admin.mfa_enabled,
  };
  ctx.session = fresh as unknown as typeof ctx.session;
  await regenerateSession(ctx);
  csrfTokenFor(ctx);
  return sessionOf(ctx);
}

/**
 * Raises an existing session to level 2 under a new id (step-up regenerates the id too). The
 * first time, room is made under the concurrent-session limit: only now is it a full session.
 */
export async function stepUp(
  ctx: Context,
  c: ServiceContext,
  changes: Partial<AdminSession> = {},
): Promise<AdminSession> {
  const admin = signedInAdmin(ctx);
  if (admin.assurance !== 2) {
    await c.sessions.makeRoom(admin.userId, currentSessionHash(ctx, c), {
      tenantId: admin.tenantId,
      actorType: `${admin.kind}_admin`,
      actorId: admin.id,
    });
    rememberDevice(ctx, c, admin.userId);
  }
  const now = c.clock.now();
  return reissueSession(ctx, { ...changes, aal: 2, authAt: now, lastSeenAt: now });
}

/**
 * The same session under a new id with `changes`: after a step-up, or after revoking the
 * admin's other sessions (then `createdAt` moves past the cut-off; the absolute lifetime still
 * counts from `signedInAt`, so this never extends it).
 */
export async function reissueSession(ctx: Context, changes: Partial<AdminSession>): Promise<AdminSession> {
  const session = sessionOf(ctx);
  ctx.session = {
    ...session,
    signedInAt: session.signedInAt ?? session.createdAt,
    ...changes,
    csrf: undefined,
  } as unknown as typeof ctx.session;
  await regenerateSession(ctx);
  csrfTokenFor(ctx);
  return sessionOf(ctx);
}

/** The stored hash of this request's session id, read from the signed cookie. */
export function currentSessionHash(ctx: Context, c: ServiceContext): string {
  const id = ctx.cookies.get(cookieNameFor(c.settings.cookieName, c.settings.production), { signed: true });
  return id ? c.sessions.hashOf(id) : '';
}
