// The sign-in form's CSRF protection without a session. An anonymous page view must write
// nothing server-side (a flood of views would otherwise fill the session store), so the form's
// token is a signed double-submit cookie: GET /auth/login sets a random token in a cookie signed
// with SESSION_SECRET and puts the same token in the form; POST /auth/login must send both. A
// cross-site page can neither read the cookie nor mint a signed one, and in production the
// `__Host-` prefix keeps a sibling subdomain from planting one. Every other form post keeps the
// session's own token (koaCsrf).
import { randomBytes } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { constantTimeEqual } from '@portcullis/crypto';
import { apiError } from '@portcullis/http';
import { cookieNameFor, koaCsrf } from '@portcullis/session-auth';

interface CookieSettings {
  cookieName: string;
  production: boolean;
}

/** Long enough to fill in the form after a coffee; the cookie renews on every view of the page. */
const LOGIN_CSRF_MAX_AGE_MS = 2 * 3600_000;
const TOKEN = /^[A-Za-z0-9_-]{32}$/;
const LOGIN_PATH = '/auth/login';

const cookieOf = (settings: CookieSettings) => cookieNameFor(`${settings.cookieName}.csrf`, settings.production);

/** The sign-in form's token: the browser's current one, or a new one set in the signed cookie. Writes no session. */
export function loginCsrfToken(ctx: Context, settings: CookieSettings): string {
  const current = ctx.cookies.get(cookieOf(settings), { signed: true });
  const token = current && TOKEN.test(current) ? current : randomBytes(24).toString('base64url');
  ctx.cookies.set(cookieOf(settings), token, {
    signed: true,
    httpOnly: true,
    sameSite: 'strict',
    secure: settings.production,
    maxAge: LOGIN_CSRF_MAX_AGE_MS,
    overwrite: true,
  });
  return token;
}

/** koaCsrf for every form post, except the sign-in form, which is checked against its signed cookie. */
export function koaCsrfWithSignIn(settings: CookieSettings): Middleware {
  const sessionCsrf = koaCsrf();
  return (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== LOGIN_PATH || ctx.request.type !== 'application/x-www-form-urlencoded')
      return sessionCsrf(ctx, next);
    const sent = (ctx.request as { body?: Record<string, unknown> }).body?._csrf;
    const expected = ctx.cookies.get(cookieOf(settings), { signed: true });
    if (typeof sent !== 'string' || !expected || !TOKEN.test(expected) || !constantTimeEqual(sent, expected)) {
      throw apiError('csrf.invalid', 'The form expired or did not come from this site. Reload the page and try again.');
    }
    return next();
  };
}
