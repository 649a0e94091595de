// What every route of this service does the same way: parse with a guard, answer JSON (through
// the response schema) or a page, turn form errors into the page again.
import type { Context, Middleware } from 'koa';
import { ZodError, type z } from 'zod';
import { ApiError } from '@portcullis/http';
import { csrfTokenFor, signedInAdmin } from '@portcullis/session-auth';
import type { Actor } from '../libraries/actor.js';
import type { KeptForm } from '../pages/admin-pages.js';

export type RouteContext = Context & { params: Record<string, string> };

/** API clients send `Accept: application/json`; browsers get pages. */
export const wantsJson = (ctx: Context) => ctx.accepts('html', 'json') === 'json';

export const paramsOf = <T extends z.ZodType>(ctx: RouteContext, schema: T): z.output<T> => schema.parse(ctx.params);
export const queryOf = <T extends z.ZodType>(ctx: Context, schema: T): z.output<T> => schema.parse(ctx.query);
export const bodyOf = <T extends z.ZodType>(ctx: Context, schema: T): z.output<T> =>
  schema.parse((ctx.request as { body?: unknown }).body ?? {});

export const actorOf = (ctx: Context): Actor => ({
  adminId: signedInAdmin(ctx).id,
  ip: ctx.ip,
  userAgent: ctx.get('user-agent').slice(0, 256),
  requestId: ctx.requestId,
});

export const csrf = (ctx: Context) => csrfTokenFor(ctx);

/** JSON through the response schema (undeclared fields are dropped), or the page. */
export function respond<T extends z.ZodType>(ctx: Context, schema: T, value: z.input<T>, page: () => string): void {
  if (wantsJson(ctx)) {
    ctx.body = schema.parse(value);
    return;
  }
  ctx.type = 'html';
  ctx.body = page();
}

/** After a form post browsers go to `location`; API clients get the JSON. */
export function redirectOrJson<T extends z.ZodType>(
  ctx: Context,
  schema: T,
  value: z.input<T>,
  location: string,
): void {
  if (wantsJson(ctx)) {
    ctx.body = schema.parse(value);
    return;
  }
  ctx.status = 303;
  ctx.redirect(location);
}

const messageOf = (error: ApiError | ZodError) =>
  error instanceof ZodError
    ? error.issues.map((issue) => `${issue.path.join('.') || 'form'}: ${issue.message}`).join('; ')
    : error.message;

/** A refused form re-renders its page with the message and the status; API clients get the JSON error. */
export async function withFormErrors(
  ctx: Context,
  render: (message: string) => Promise<string>,
  handler: () => Promise<void>,
): Promise<void> {
  if (wantsJson(ctx)) return handler();
  try {
    await handler();
  } catch (error) {
    const known = (error instanceof ApiError && error.expose) || error instanceof ZodError;
    if (!known) throw error;
    ctx.status = error instanceof ApiError ? error.status : 400;
    const page = await render(messageOf(error)).catch(() => undefined);
    if (!page) throw error;
    ctx.type = 'html';
    ctx.body = page;
  }
}

/**
 * A destructive action posted from a browser form first shows a page naming what will happen;
 * its form posts the same fields again with `confirm=yes`. API clients act at once (a script
 * already decided). Returns whether to go ahead.
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

const KEPT_FIELDS = ['reason', 'ticket', 'force', 'forceReason'];

/** What an admin typed into a reset or rollback form, kept so a detour or a refusal does not lose it. */
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
    (ctx.session as { keptForm?: KeptForm }).keptForm = keptFrom(ctx);
  }
};

/** The kept form, once: reading it removes it from the session. */
export function takeKeptForm(ctx: Context): KeptForm | undefined {
  const session = ctx.session as { keptForm?: KeptForm } | null;
  const kept = session?.keptForm;
  if (kept) delete session!.keptForm;
  return kept;
}
