// What the session middleware learns about a request's session besides its data: the owner's
// revocation cut-off, read in the same store round trip. Kept on the request's context under
// a symbol (a WeakMap per request measurably added GC work on the hot path).
import type { Context } from 'koa';

const CUT_OFF = Symbol('portcullis.revocationCutOff');

type WithCutOff = { [CUT_OFF]?: number | null };

export function rememberCutOff(ctx: object, cutOff: number | null): void {
  (ctx as WithCutOff)[CUT_OFF] = cutOff;
}

/**
 * The cut-off the store returned with this request's session (null: none). A session that did
 * not come through installSessions' store has none on record: +Infinity, so it is refused.
 */
export function revocationCutOff(ctx: Context): number | null {
  const cutOff = (ctx as WithCutOff)[CUT_OFF];
  return cutOff === undefined ? Number.POSITIVE_INFINITY : cutOff;
}
