// What only mfa-admin's routes do the same way: who acts (for the audit log), the confirmation
// page of a destructive action, and the typed form kept across the re-authentication detour.
// Parsing, answering and refused forms are the route guard of @portcullis/http.
import type { Context, Middleware } from 'koa';
import { requestMeta, wantsJson } from '@portcullis/http';
import { csrfTokenFor, sessionOf, signedInAdmin } from '@portcullis/session-auth';
import type { Actor } from '../libraries/actor.js';
import type { KeptForm } from '../pages/admin-pages.js';

export const actorOf = (ctx: Context): Actor => ({ adminId: signedInAdmin(ctx).id, ...requestMeta(ctx) });

export const csrf = (ctx: Context) => csrfTokenFor(ctx);

/**
 * A destructive action posted from a browser form first shows a page naming what will happen;
 * its form posts the same fields again with `confirm=yes`. API clients act at once (a script
 * already decided; wantsJson counts a JSON body sent with curl's `Accept: *\/*` as one). Returns
 * whether to go ahead.
 */
export function confirmedOrAsk(ctx: Context, page: (fields: Record<string, string>) => string): boolean {
  if (wantsJson(ctx)) return true;
  const body = ((ctx.request as { body?: unknown }).body ?? {}) as Record<string, unknown>;
  if (body.confirm === 'yes') return true;
  const fields = Object.fromEntries(
    Object.entries(body).filter(
      (entry): entry is [string, string] =>
        typeof entry[1] === 'string' && entry[0] !== '_csrf' && entry[0] !== 'confirm',
    ),
  );
  ctx.type = 'html';
  ctx.body = page(fields);
  return false;
}

// What the console's forms let people type; never a password (a create form has none: the
// temporary password is generated), so nothing secret is shown again or kept in the session.
const KEPT_FIELDS = ['reason', 'ticket', 'force', 'forceReason', 'slug', 'name', 'email'];

/** What an admin typed into a form, kept so a detour or a refusal does not lose it. */
export function keptFrom(ctx: Context): KeptForm {
  const body = ((ctx.request as { body?: unknown }).body ?? {}) as Record<string, unknown>;
  const fields = Object.fromEntries(
    KEPT_FIELDS.filter((name) => typeof body[name] === 'string').map((name) => [
      name,
      (body[name] as string).slice(0, 1000),
    ]),
  );
  return { action: ctx.path, fields };
}

/**
 * Before requireRecentAuth: when it sends a browser on the re-authentication detour, the typed
 * fields wait in the session and the page the detour returns to fills its form with them once.
 */
export const keepFormAcrossReauth: Middleware = async (ctx, next) => {
  await next();
  if (ctx.status === 303 && ctx.response.get('location').startsWith('/auth/reauthenticate') && ctx.session) {
    sessionOf(ctx).keptForm = keptFrom(ctx);
  }
};

/** The kept form, once: reading it removes it from the session. */
export function takeKeptForm(ctx: Context): KeptForm | undefined {
  if (!ctx.session) return undefined;
  const session = sessionOf(ctx);
  const kept = session.keptForm;
  delete session.keptForm;
  return kept;
}
