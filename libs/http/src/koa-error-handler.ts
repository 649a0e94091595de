import type { Context, Middleware } from 'koa';
import { ZodError } from 'zod';
import { ApiError } from './api-error.js';
import type { ErrorPages } from './error-pages.js';
import { wantsPage } from './negotiation.js';
import { errorCatalogue, type ErrorCode } from './errors.js';

interface ErrorBody {
  code: ErrorCode;
  message: string;
  requestId?: string;
  fields?: { path: string; message: string }[];
  data?: Record<string, unknown>;
}

const UNIQUE_VIOLATIONS = new Set(['23505', 'ER_DUP_ENTRY']);

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNIQUE_VIOLATIONS.has(code);
}

// A dependency that is down, restarting or not answering (PostgreSQL, Redis, DynamoDB): socket
// failures, PostgreSQL's connection-exception class 08 and shutdown codes 57P01-57P03, knex's
// pool timeout, ioredis giving up or timing a command out, the session store's own "unavailable".
const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  'session.store_unavailable',
]);
const OUTAGE_NAMES = new Set(['KnexTimeoutError', 'MaxRetriesPerRequestError']);
// ioredis says these in words only: a closed connection, a command past its commandTimeout.
const IOREDIS_OUTAGE_MESSAGE = /^(Connection is closed|Command timed out$)/;
const OUTAGE_RETRY_AFTER_SECONDS = 5;

/** Whether `error` (or its cause) says a dependency is unreachable: the client should come back, not report a bug. */
export function isDependencyOutage(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 3) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (OUTAGE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if (OUTAGE_NAMES.has(error.name) || IOREDIS_OUTAGE_MESSAGE.test(error.message)) return true;
  return isDependencyOutage(error.cause, depth + 1);
}

/** Koa/http-errors raised by body parsers and the like: client errors with a safe message. */
function asClientHttpError(error: unknown): { status: number; message: string } | undefined {
  const candidate = error as { status?: unknown; expose?: unknown; message?: unknown } | null;
  if (
    typeof candidate?.status === 'number' &&
    candidate.status >= 400 &&
    candidate.status < 500 &&
    candidate.expose === true
  ) {
    return { status: candidate.status, message: String(candidate.message) };
  }
  return undefined;
}

/** The status and `{ code, message }` an error maps to (shared by the JSON handler and the HTML error pages). */
export function toResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof ApiError && error.expose) {
    return {
      status: error.status,
      body: { code: error.code, message: error.message, ...(error.data ? { data: error.data } : {}) },
    };
  }
  if (error instanceof ZodError) {
    const fields = error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
    const message = `Invalid request: ${fields.map((field) => `${field.path}: ${field.message}`).join('; ')}`;
    return { status: 400, body: { code: 'request.invalid', message, fields } };
  }
  if (isUniqueViolation(error)) return catalogued('resource.conflict');
  if (isDependencyOutage(error)) {
    return catalogued('service.unavailable', { retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS });
  }
  const clientError = asClientHttpError(error);
  // Bad input is a 400 whatever its kind, so clients handle one status for "fix your request".
  if (clientError?.status === 413) return catalogued('request.too_large');
  if (clientError)
    return { status: clientError.status, body: { code: 'request.invalid', message: clientError.message } };
  return catalogued('internal');
}

/** A response straight from the catalogue: its status and usual message. */
function catalogued(code: ErrorCode, data?: Record<string, unknown>): { status: number; body: ErrorBody } {
  const { status, message } = errorCatalogue[code];
  return { status, body: { code, message, ...(data ? { data } : {}) } };
}

/** A 5xx in the log: a deliberate "busy" as a warning, anything else as an error with its stack. */
export function logServerError(ctx: Context, error: unknown): void {
  if (error instanceof ApiError && error.expose) ctx.log.warn({ code: error.code }, 'request refused: service busy');
  else ctx.log.error({ err: error }, 'request failed');
}

export interface ErrorHandlerOptions {
  /** A console service's pages: a browser gets one for an error or an unrouted path, API clients the JSON. */
  pages?: ErrorPages;
  /** Counts every refusal (4xx: CSRF failures, throttling, wrong role…) by its code, JSON or page. */
  onRefused?: (code: string) => void;
}

/** Koa's own answers when no route matched (404) or the path takes other methods (405). */
const KOA_DEFAULT_BODIES = new Set([undefined, null, 'Not Found', 'Method Not Allowed']);

/**
 * Maps every error to `{ code, message }` (or, with `pages`, a page for a browser). ApiError
 * keeps its code and status, ZodError becomes 400 with the fields, a unique violation 409;
 * anything else is a 500 whose stack is logged with the request id and never sent to the
 * client. One middleware for every error a request can end in, so each is mapped, counted and
 * logged once.
 */
export function koaErrorHandler({ pages, onRefused }: ErrorHandlerOptions = {}): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const { status, body } = toResponse(error);
      if (status >= 500) logServerError(ctx, error);
      else onRefused?.(body.code);
      // 429 and 503 say when to come back, in the header clients and proxies read.
      const retryAfter = body.data?.retryAfterSeconds;
      if (typeof retryAfter === 'number') ctx.set('retry-after', String(retryAfter));
      if (pages && wantsPage(ctx)) return pages.render(ctx, status, body.code, body.message);
      ctx.status = status;
      ctx.body = { ...body, requestId: ctx.requestId };
      return;
    }
    // @koa/router answers 501 to a method it does not implement (TRACE, PROPFIND…) on a path it
    // routes or not: for the client that is a 405 like any other method the path does not take
    // (404 where no route matches), not a server fault (found by API fuzzing). Allow stays.
    if (ctx.status === 501) ctx.status = ctx.response.get('allow') ? 405 : 404;
    // Status first: negotiating every answered request's Accept header cost more than the check.
    if (
      pages &&
      (ctx.status === 404 || ctx.status === 405) &&
      KOA_DEFAULT_BODIES.has(ctx.body as never) &&
      wantsPage(ctx)
    ) {
      const notFound = ctx.status === 404;
      pages.render(
        ctx,
        ctx.status,
        notFound ? 'not_found' : 'method_not_allowed',
        notFound ? 'There is no page at this address.' : 'This page does not take that kind of request.',
      );
    }
  };
}
