// The local stand-in for the ingress: one port, `/auth`, `/admin`, `/audit` routed to the
// services the way the Helm chart's Ingress routes them. Development only.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** The signed-in home; a visitor is sent on from there to the sign-in page. */
const CONSOLE_HOME = '/auth/me';

export interface GatewayRoute {
  prefix: string;
  target: { host: string; port: number };
}

export function createGateway(routes: GatewayRoute[]): Server {
  return createServer((incoming, outgoing) => {
    // The printed entry URL opens the console, as the services' own roots do.
    if (incoming.url === '/') {
      outgoing.writeHead(303, { location: CONSOLE_HOME }).end();
      return;
    }
    const route = routes.find(({ prefix }) => incoming.url === prefix || incoming.url?.startsWith(`${prefix}/`));
    if (!route) {
      answerError(incoming, outgoing, routes, NO_ROUTE);
      return;
    }
    const forwarded = request(
      {
        ...route.target,
        method: incoming.method,
        path: incoming.url,
        headers: {
          ...incoming.headers,
          'x-forwarded-for': incoming.socket.remoteAddress ?? '',
          'x-forwarded-proto': 'http',
        },
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    forwarded.on('error', () => {
      // Mid-answer there is no status left to give: cut the response so it is not taken as whole.
      if (outgoing.headersSent) outgoing.destroy();
      else answerError(incoming, outgoing, routes, upstreamUnavailable(route.prefix));
    });
    incoming.pipe(forwarded);
  });
}

interface GatewayError {
  status: number;
  code: string;
  /** Page title for a browser. */
  title: string;
  message: string;
}

const NO_ROUTE: GatewayError = {
  status: 404,
  code: 'gateway.no_route',
  title: 'Not found',
  message: 'No service serves this path.',
};

const upstreamUnavailable = (prefix: string): GatewayError => ({
  status: 502,
  code: 'gateway.upstream_unavailable',
  title: 'Service not answering',
  message: `The service behind ${prefix} is not answering; it may be starting or restarting. Try again in a moment.`,
});

/** The gateway's own errors: a page with the console's and the services' links for a browser, JSON otherwise. */
function answerError(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  routes: GatewayRoute[],
  { status, code, title, message }: GatewayError,
): void {
  if (!/text\/html/.test(incoming.headers.accept ?? '')) {
    outgoing.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code, message }));
    return;
  }
  const links = routes.map(({ prefix }) => `<li><a href="${prefix}/">${prefix}</a></li>`).join('');
  outgoing
    .writeHead(status, { 'content-type': 'text/html; charset=utf-8' })
    .end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
        `<body><main><h1>${title}</h1><p>${message} Open the <a href="${CONSOLE_HOME}">console</a>, ` +
        `or one of the services:</p><ul>${links}</ul></main></body></html>`,
    );
}
