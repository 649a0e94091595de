// The handle every provider returns, and the two ways of starting a server behind it: a local
// binary (preferred: fast, no daemon needed) or a container (when an engine is reachable).
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { containerEngineReachable, startContainer, type ContainerSpec } from './container.js';
import { spawnServer, stopPid, waitUntilReady, type SystemUser } from './process.js';
import { recordServer } from './state.js';

export interface ServerHandle {
  readonly name: string;
  /** Connection URL; for moto the HTTP endpoint. On 127.0.0.1 for local servers. */
  readonly url: string;
  readonly port: number;
  /** Pid of the running server; changes on restart(), undefined while stopped or in a container. */
  readonly pid: number | undefined;
  /** Stops the server (its quick clean-shutdown signal, SIGKILL after 5 s). Data stays for restart(). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data (stops it first if running). */
  restart(): Promise<void>;
  /** Stops it and deletes its data. Idempotent. */
  dispose(): Promise<void>;
}

export interface LocalServerSpec {
  name: string;
  /** The server's own temp dir: its data, log, and its working directory. */
  dir: string;
  port: number;
  url: string;
  command: string;
  args: string[];
  user?: SystemUser | undefined;
  env?: NodeJS.ProcessEnv;
  /** Signal for a quick clean shutdown (PostgreSQL needs SIGINT, see postgres.ts). */
  stopSignal?: NodeJS.Signals;
  /** One-off work before the first start (initdb, mariadb-install-db). */
  prepare?(): Promise<void>;
  /** A real client round trip; throws until the server answers. */
  ready(url: string): Promise<void>;
}

/** Spawns a local server, waits until it answers, and wraps it in a ServerHandle. */
export async function launchLocal(spec: LocalServerSpec): Promise<ServerHandle> {
  const logFile = join(spec.dir, 'server.log');
  const signal = spec.stopSignal ?? 'SIGTERM';
  let child: ChildProcess | undefined;

  async function stop(): Promise<void> {
    const pid = child?.pid;
    child = undefined;
    if (pid !== undefined) await stopPid(pid, signal);
  }

  async function start(): Promise<void> {
    const started = spawnServer({ ...spec, cwd: spec.dir, logFile });
    if (started.pid === undefined) throw new Error(`${spec.name}: could not run ${spec.command}`);
    child = started;
    recordServer({ name: spec.name, pid: started.pid, signal });
    try {
      await waitUntilReady(`${spec.name} on ${spec.url}`, () => spec.ready(spec.url), { child: started, logFile });
    } catch (error) {
      await stop();
      throw error;
    }
  }

  const dispose = async (): Promise<void> => {
    await stop();
    rmSync(spec.dir, { recursive: true, force: true });
  };
  try {
    await spec.prepare?.();
    await start();
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    name: spec.name,
    url: spec.url,
    port: spec.port,
    get pid() {
      return child?.pid;
    },
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    dispose,
  };
}

/**
 * The provider order after the environment (checked by the caller, which cannot stop an
 * external server): a local binary, else a container, else an error that says what to do.
 */
export async function startFirstAvailable(options: {
  local: (() => Promise<ServerHandle>) | undefined;
  container: ContainerSpec;
  missing: string;
}): Promise<ServerHandle> {
  if (options.local) return options.local();
  if (await containerEngineReachable()) return startContainer(options.container);
  throw new Error(options.missing);
}
