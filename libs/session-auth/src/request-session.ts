// What the session middleware learns about a request's session besides its data: the owner's
// revocation cut-off, read in the same store round trip, and who a regenerated id is for.
// Keyed by the request's context, so nothing outlives the request.
import type { Context } from 'koa';

const cutOffs = new WeakMap<object, number | null>();
const owners = new WeakMap<object, string>();

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

export function rememberOwner(ctx: object, userId: string | undefined): void {
  if (userId) owners.set(ctx, userId);
  else owners.delete(ctx);
}

export function ownerOf(ctx: object): string | undefined {
  return owners.get(ctx);
}
