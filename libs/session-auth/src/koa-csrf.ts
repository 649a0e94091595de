import { randomBytes } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { constantTimeEqual } from '@portcullis/crypto';
import { apiError, SAFE_METHODS } from '@portcullis/http';
import { sessionOf } from './guards.js';

/** The session's CSRF token, created on first use; pages put it in a hidden `_csrf` field. */
export function csrfTokenFor(ctx: Context): string {
  const session = sessionOf(ctx);
  session.csrf ??= randomBytes(24).toString('base64url');
  return session.csrf;
}

/**
 * Form posts must carry the session's token. JSON requests pass without one: a cross-site page
 * cannot send `application/json` without a CORS preflight, which we never allow. Everything
 * else is refused, including bodiless requests without a content type (a cross-site `fetch`
 * in no-cors mode can send those), so API clients send `Content-Type: application/json` on
 * every POST and DELETE.
 */
export function koaCsrf(): Middleware {
  return (ctx, next) => {
    if (SAFE_METHODS.has(ctx.method)) return next();
    // The header, not ctx.is(): a bodiless DELETE still declares its type.
    const type = ctx.request.type;
    if (type === 'application/json') return next();
    if (type !== 'application/x-www-form-urlencoded') {
      throw apiError(
        'request.unsupported_media_type',
        'Send Content-Type: application/json (API clients) or an HTML form.',
      );
    }
    const sent = (ctx.request as { body?: Record<string, unknown> }).body?._csrf;
    const expected = sessionOf(ctx).csrf;
    if (typeof sent !== 'string' || !expected || !constantTimeEqual(sent, expected)) {
      throw apiError('csrf.invalid', 'The form expired or did not come from this site. Reload the page and try again.');
    }
    return next();
  };
}
