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
      answerNoRoute(incoming, outgoing, routes);
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
      if (!outgoing.headersSent) outgoing.writeHead(502, { 'content-type': 'application/json' });
      outgoing.end(
        JSON.stringify({
          code: 'gateway.upstream_unavailable',
          message: `The service behind ${route.prefix} is not answering.`,
        }),
      );
    });
    incoming.pipe(forwarded);
  });
}

/** 404 for a path no service serves: a page with the services' links for a browser, JSON otherwise. */
function answerNoRoute(incoming: IncomingMessage, outgoing: ServerResponse, routes: GatewayRoute[]): void {
  const message = 'No service serves this path.';
  if (!/text\/html/.test(incoming.headers.accept ?? '')) {
    outgoing
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ code: 'gateway.no_route', message }));
    return;
  }
  const links = routes.map(({ prefix }) => `<li><a href="${prefix}/">${prefix}</a></li>`).join('');
  outgoing
    .writeHead(404, { 'content-type': 'text/html; charset=utf-8' })
    .end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>` +
        `<body><main><h1>Not found</h1><p>${message} Open the <a href="${CONSOLE_HOME}">console</a>, ` +
        `or one of the services:</p><ul>${links}</ul></main></body></html>`,
    );
}
