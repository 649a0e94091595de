// Fallback when a server's binary is not installed: run it with testcontainers. Only used when
// a container engine answers; the check is cheap (a socket that does not exist costs nothing,
// one that does gets a 1 s ping) so machines without Docker pay nothing for this branch, and
// the testcontainers package itself is imported only when it is going to be used.
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitUntilReady } from './process.js';
import type { ServerHandle } from './server.js';

export interface ContainerSpec {
  name: string;
  image: string;
  /** The port the server listens on inside the container. */
  port: number;
  env?: Record<string, string>;
  command?: string[];
  url(host: string, port: number): string;
  ready(url: string): Promise<void>;
}

function ping(target: { socketPath: string } | { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function engineCandidates(): Array<{ socketPath: string } | { host: string; port: number }> {
  const dockerHost = process.env.DOCKER_HOST;
  if (dockerHost?.startsWith('tcp://')) {
    const { hostname, port } = new URL(dockerHost);
    return [{ host: hostname, port: Number(port || 2375) }];
  }
  const runtime = process.env.XDG_RUNTIME_DIR;
  const sockets = [
    dockerHost?.startsWith('unix://') ? dockerHost.slice('unix://'.length) : undefined,
    '/var/run/docker.sock',
    runtime && join(runtime, 'docker.sock'),
    runtime && join(runtime, 'podman', 'podman.sock'),
    join(homedir(), '.docker', 'run', 'docker.sock'),
    join(homedir(), '.colima', 'default', 'docker.sock'),
  ];
  return sockets
    .filter((s): s is string => typeof s === 'string' && s !== '' && existsSync(s))
    .map((socketPath) => ({ socketPath }));
}

let reachable: Promise<boolean> | undefined;

/** Whether a Docker-compatible engine answers; computed once per process. */
export function containerEngineReachable(): Promise<boolean> {
  reachable ??= (async () => {
    for (const candidate of engineCandidates()) if (await ping(candidate)) return true;
    return false;
  })();
  return reachable;
}

/**
 * Starts `spec.image` with its port bound to a fixed free host port, so that restart() (a
 * docker stop + start of the same container, data kept) comes back on the same URL.
 */
export async function startContainer(spec: ContainerSpec): Promise<ServerHandle> {
  const { GenericContainer, getContainerRuntimeClient } = await import('testcontainers');
  const hostPort = await freePort();
  let builder = new GenericContainer(spec.image)
    .withExposedPorts({ container: spec.port, host: hostPort })
    .withEnvironment(spec.env ?? {});
  if (spec.command) builder = builder.withCommand(spec.command);
  const started = await builder.start();
  const url = spec.url(started.getHost(), hostPort);
  const client = await getContainerRuntimeClient();
  const container = client.container.getById(started.getId());
  const ready = (): Promise<void> =>
    waitUntilReady(`${spec.name} container on ${url}`, () => spec.ready(url), { timeoutMs: 60_000 });
  let running = true;
  let disposed = false;

  const stop = async (): Promise<void> => {
    if (!running) return;
    running = false;
    await client.container.stop(container, { timeout: 5 });
  };
  try {
    await ready();
  } catch (error) {
    await started.stop({ remove: true, removeVolumes: true });
    throw error;
  }
  return {
    name: spec.name,
    url,
    port: hostPort,
    pid: undefined,
    stop,
    restart: async () => {
      await stop();
      await client.container.start(container);
      running = true;
      await ready();
    },
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      await started.stop({ remove: true, removeVolumes: true });
    },
  };
}
