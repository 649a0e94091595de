// How much of X-Forwarded-* a service believes. Each proxy appends the address it received the
// request from to X-Forwarded-For, so only the rightmost `hops` entries were written by proxies
// we run; everything left of them came from the client and may be invented. Koa's `proxy`
// alone reads the leftmost entry (the client's own claim): per-IP throttling could be escaped
// and audit IPs forged. `maxIpsCount` keeps only the rightmost entries, so ctx.ip is the
// address our outermost proxy saw.

export interface ProxyTrust {
  proxy: boolean;
  maxIpsCount: number;
}

/**
 * Koa options for `hops` trusted proxies (TRUSTED_PROXY_HOPS). 0: no X-Forwarded-* header is
 * read; ctx.ip is the socket's peer and ctx.protocol the socket's. n ≥ 1: ctx.ip is the nth
 * X-Forwarded-For entry from the right and ctx.protocol the X-Forwarded-Proto the proxies set.
 */
export function proxyTrust(hops: number): ProxyTrust {
  if (!Number.isInteger(hops) || hops < 0)
    throw new RangeError(`trusted proxy hops must be a whole number ≥ 0, got ${hops}`);
  return { proxy: hops > 0, maxIpsCount: hops };
}
