import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { Middleware } from 'koa';
import { asksForJsonOnly } from './negotiation.js';

/**
 * Security headers with a strict CSP: the pages need no script at all, styles come from the
 * service itself, QR codes are inline data: images. Nothing is cached unless a route says so
 * (the stylesheet does): signed-in pages, enrolment secrets and recovery codes must not sit in
 * a browser's cache after sign-out.
 */
const securityHeaders = (): (readonly [string, string])[] => [
  ...helmetHeaders(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
      },
      crossOriginEmbedderPolicy: true,
      // Says what `frame-ancestors 'none'` says, for browsers that read only this header.
      xFrameOptions: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    }),
  ),
  ['cache-control', 'no-store'],
  // For HTTP/1.0 caches and proxies that ignore Cache-Control.
  ['pragma', 'no-cache'],
];

/**
 * The headers helmet writes, asked once: with this configuration they do not depend on the
 * request (no nonces), so each response gets the same block without running helmet's thirteen
 * middleware again.
 */
function helmetHeaders(middleware: ReturnType<typeof helmet>): [string, string][] {
  const headers: [string, string][] = [];
  const response = {
    setHeader: (name: string, value: string | number) => headers.push([name.toLowerCase(), String(value)]),
    removeHeader: () => undefined,
  } as unknown as ServerResponse;
  let failure: unknown = 'helmet did not finish synchronously';
  middleware({} as IncomingMessage, response, (error?: unknown) => (failure = error));
  if (failure !== undefined) throw new Error(`helmet's headers could not be computed: ${String(failure)}`);
  return headers;
}

/**
 * What applies to a response that is never a document (OWASP's REST Security Cheat Sheet): no
 * caching, no framing, no MIME sniffing, HTTPS only, no cross-origin embedding. The headers that
 * govern a document (COOP, COEP, Origin-Agent-Cluster, Referrer-Policy, DNS prefetch, the
 * legacy IE, XSS-auditor and Flash ones) do nothing on a JSON answer to a script.
 */
const API_HEADER_NAMES = new Set([
  'content-security-policy',
  'cross-origin-resource-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-frame-options',
  'cache-control',
  'pragma',
]);

export function koaSecurityHeaders(): Middleware {
  const documentHeaders = securityHeaders();
  const apiHeaders = documentHeaders.filter(([name]) => API_HEADER_NAMES.has(name));
  if (apiHeaders.length !== API_HEADER_NAMES.size)
    throw new Error('koaSecurityHeaders: helmet no longer writes every header an API answer needs');
  return (ctx, next) => {
    // Chosen before the route runs, so an error answer carries the same headers.
    const headers = asksForJsonOnly(ctx.req.headers.accept) ? apiHeaders : documentHeaders;
    for (const [name, value] of headers) ctx.res.setHeader(name, value);
    return next();
  };
}
