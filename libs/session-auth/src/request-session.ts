// What the session middleware learns about a request's session besides its data: the owner's
// revocation cut-off, read in the same store round trip. Keyed by the request's context, so
// nothing outlives the request.
import type { Context } from 'koa';

const cutOffs = new WeakMap<object, number | null>();

export function rememberCutOff(ctx: object, cutOff: number | null): void {
  cutOffs.set(ctx, cutOff);
}

/**
 * The cut-off the store returned with this request's session (null: none). A session that did
 * not come through installSessions' store has none on record: +Infinity, so it is refused.
 */
export function revocationCutOff(ctx: Context): number | null {
  const cutOff = cutOffs.get(ctx);
  return cutOff === undefined ? Number.POSITIVE_INFINITY : cutOff;
}
