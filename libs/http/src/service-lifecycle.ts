import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Logger } from 'pino';

export interface ListenOptions {
  host: string;
  port: number;
  requestTimeoutMs?: number;
}

export interface RunningServer {
  server: Server;
  url: string;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

// Node checks both deadlines on this timer (30 s by default), so a slow client could hold a
// connection that long past them; once a second keeps the overshoot small.
const DEADLINE_CHECK_INTERVAL_MS = 1000;
const HEADERS_TIMEOUT_MS = 10_000;

/**
 * `requestTimeoutMs` bounds receiving the whole request, body included (a slow body gets 408);
 * headers must arrive within 10 s, or within `requestTimeoutMs` when that is shorter.
 */
export async function listen(
  app: Koa,
  { host, port, requestTimeoutMs = 15_000 }: ListenOptions,
): Promise<RunningServer> {
  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs),
      connectionsCheckingInterval: DEADLINE_CHECK_INTERVAL_MS,
    },
    app.callback(),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost}:${address.port}`,
    close: (graceMs) => closeGracefully(server, graceMs),
  };
}

function closeGracefully(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    // Keep-alive connections with no request in flight would hold close() open.
    server.closeIdleConnections();
  });
}

export interface ShutdownOptions {
  logger: Logger;
  servers: RunningServer[];
  graceMs: number;
  /** Pools and clients to close after the servers have drained, in order. */
  closers: (() => Promise<unknown>)[];
  exit?: (code: number) => void;
}

/** On SIGTERM/SIGINT: stop accepting, finish in-flight requests, close pools, exit. */
export function installGracefulShutdown({
  logger,
  servers,
  graceMs,
  closers,
  exit = process.exit,
}: ShutdownOptions): () => Promise<void> {
  let shuttingDown: Promise<void> | undefined;
  const shutdown = () => {
    shuttingDown ??= (async () => {
      logger.info({ graceMs }, 'shutting down: draining in-flight requests');
      logger.flush();
      await Promise.all(servers.map((running) => running.close(graceMs)));
      for (const close of closers) {
        try {
          await close();
        } catch (error) {
          logger.warn({ err: error }, 'a resource failed to close');
        }
      }
      logger.info('shutdown complete');
      exit(0);
    })();
    return shuttingDown;
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
  return shutdown;
}
