// The local stand-in for the ingress: one port, `/auth`, `/admin`, `/audit` routed to the
// services the way the Helm chart's Ingress routes them. Development only.
import { createServer, request, type Server } from 'node:http';

export interface GatewayRoute {
  prefix: string;
  target: { host: string; port: number };
}

export function createGateway(routes: GatewayRoute[]): Server {
  return createServer((incoming, outgoing) => {
    const route = routes.find(({ prefix }) => incoming.url === prefix || incoming.url?.startsWith(`${prefix}/`));
    if (!route) {
      outgoing
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ code: 'gateway.no_route', message: 'No service serves this path.' }));
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
