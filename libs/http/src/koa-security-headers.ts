import type { Middleware } from 'koa';
import helmet from 'koa-helmet';

/**
 * Security headers with a strict CSP: the pages need no script at all, styles come from the
 * service itself, QR codes are inline data: images. Nothing is cached unless a route says so
 * (the stylesheet does): signed-in pages, enrolment secrets and recovery codes must not sit in
 * a browser's cache after sign-out.
 */
export function koaSecurityHeaders(): Middleware {
  const headers = helmet({
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
  });
  return (ctx, next) => {
    ctx.set('cache-control', 'no-store');
    // For HTTP/1.0 caches and proxies that ignore Cache-Control.
    ctx.set('pragma', 'no-cache');
    return headers(ctx, next);
  };
}
