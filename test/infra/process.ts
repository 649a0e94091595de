// Small process helpers shared by the server providers: find a binary, pick a free loopback
// port, spawn a server as a system user, wait until it answers, stop it by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const LOOPBACK = '127.0.0.1';

/** First executable called `name` on PATH or in `extraDirs` (searched after PATH). */
export function findBinary(names: string[], extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs].filter(Boolean);
  for (const name of names) {
    for (const dir of dirs) {
      const file = join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here, keep looking
      }
    }
  }
  return undefined;
}

/** `/usr/lib/postgresql/15/bin`-style directories, newest version first (Debian layout). */
export function versionedDirs(parent: string, suffix: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^\d+$/.test(e))
    .sort((a, b) => Number(b) - Number(a))
    .map((e) => join(parent, e, suffix));
}

/** A port the kernel just handed out on loopback; free unless someone grabs it in between. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not get a free port');
  return address.port;
}

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * The account to run a server as. PostgreSQL and MariaDB refuse to run as root, so when we
 * are root they run as their Debian system users; otherwise as ourselves (undefined).
 */
export function serverUser(name: string): SystemUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      `running as root needs the '${name}' system user (the Debian package creates it): run scripts/setup.sh`,
    );
  }
  return { name, uid: Number(uid), gid: Number(gid) };
}

export interface SpawnSpec {
  command: string;
  args: string[];
  cwd: string;
  logFile: string;
  user?: SystemUser | undefined;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a long-running server with its output appended to `logFile` (a pipe nobody reads
 * would fill up and block the server). Unref'd so a forgotten server never keeps a jest
 * worker alive; the run's teardown kills it through the state file instead.
 */
export function spawnServer(spec: SpawnSpec): ChildProcess {
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['ignore', fd, fd],
      ...(spec.user ? { uid: spec.user.uid, gid: spec.user.gid } : {}),
    });
    child.unref();
    child.on('error', () => {
      // reported by waitUntilReady through the exit check; keeps 'error' from crashing jest
    });
    return child;
  } finally {
    closeSync(fd);
  }
}

/** Runs a short command (initdb, mariadb-install-db) and fails with its output. */
export async function runCommand(spec: Omit<SpawnSpec, 'logFile'>): Promise<void> {
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(spec.user ? { uid: spec.user.uid, gid: spec.user.gid } : {}),
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`${spec.command} exited with ${code}:\n${output.slice(-2000)}`);
}

/** Live and not a zombie: a reaped-late zombie still answers kill(pid, 0). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // no /proc (macOS) or no such process: fall back to a signal-0 probe
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends `signal`, waits up to `timeoutMs` for the process to go, then SIGKILLs it. */
export async function stopPid(pid: number, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return; // already gone
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
      await sleep(50);
      return;
    }
    await sleep(20);
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Calls `probe` (a real client round trip) until it succeeds. Gives up early when the server
 * process has exited, quoting the end of its log so the cause is visible in the jest output.
 */
export async function waitUntilReady(
  what: string,
  probe: () => Promise<void>,
  options: { child?: ChildProcess; logFile?: string; timeoutMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let lastError: unknown;
  for (;;) {
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
    }
    const exited = options.child && (options.child.exitCode !== null || options.child.signalCode !== null);
    if (exited || Date.now() > deadline) {
      const reason = exited
        ? `exited (${options.child?.exitCode ?? options.child?.signalCode})`
        : 'did not answer in time';
      const log = options.logFile ? `\n--- ${options.logFile} ---\n${tail(options.logFile)}` : '';
      throw new Error(`${what} ${reason}: ${String(lastError)}${log}`);
    }
    await sleep(50);
  }
}
