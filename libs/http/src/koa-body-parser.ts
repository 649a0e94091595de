import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import { apiError } from './api-error.js';

/** Every service accepts JSON and form bodies of at most this size. */
export const REQUEST_BODY_LIMIT = '16kb';

/**
 * The one body parser of every service. A parser error carries library wording, sometimes no
 * `expose`, and in `err.body` the raw request (passwords included): each becomes a 400 in our
 * words here, so none reaches the error log as a 500.
 */
export function koaBodyParser(): Middleware {
  return bodyParser({
    enableTypes: ['json', 'form'],
    jsonLimit: REQUEST_BODY_LIMIT,
    formLimit: REQUEST_BODY_LIMIT,
    encoding: 'utf-8',
    onError: (error) => {
      const tooLarge = (error as { status?: number }).status === 413;
      throw apiError(tooLarge ? 'request.too_large' : 'request.invalid_body');
    },
  });
}
