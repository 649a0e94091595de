// The bench side of "each target is its own process": spawn a server pinned to its own core,
// wait until it answers, read its CPU time from /proc, load it with autocannon, stop it by pid.
// Shared by `npm run bench -- peers` and `npm run bench -- signin`.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import autocannon from 'autocannon';
import { findBinary, freePort } from '../../test/infra/process.js';

const TASKSET = findBinary(['taskset']);
/** The server's core and the bench's (autocannon, the stores): two cores on this machine. */
export const SERVER_CORE = 1;
export const BENCH_CORE = 0;
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

// Read once, at import: pinning the bench process itself shrinks what availableParallelism() sees.
const PINNABLE = !!TASKSET && availableParallelism() >= 2;
/** Whether pinning is possible here (taskset present and at least two cores). */
export const pinning = (): boolean => PINNABLE;

/** Pins a running process (all its threads) to `core`; a no-op where taskset is missing. */
export function pin(pid: number, core: number): void {
  if (!pinning()) return;
  execFileSync(TASKSET!, ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
}

/** User + system CPU time of a process so far, in microseconds (/proc/<pid>/stat fields 14 and 15). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / CLOCK_TICKS) * 1e6;
}

/**
 * Time one core ran processes (user, nice, system) or was taken by the hypervisor (steal) so far,
 * in microseconds, from /proc/stat. Interrupts are left out: the loopback traffic of the measured
 * server itself lands there.
 */
export function coreBusyMicros(core: number): number {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((row) => row.startsWith(`cpu${core} `));
  if (!line) return Number.NaN;
  const [user, nice, system, , , , , steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user! + nice! + system! + (steal ?? 0)) / CLOCK_TICKS) * 1e6;
}

export interface ServerProcess {
  pid: number;
  url: string;
  /** stderr so far (stdout goes to /dev/null), for error messages. */
  errors(): string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

/**
 * Starts `node <args>` on a free loopback port (PORT, or HTTP_PORT/ADMIN_PORT for a Portcullis
 * service) pinned to SERVER_CORE, stdout to /dev/null, and waits until `readyPath` answers
 * `readyStatus` (any HTTP answer when omitted).
 */
export async function startServer(options: {
  args: string[];
  env: Record<string, string>;
  portcullis?: boolean;
  readyPath: string;
  readyStatus?: number;
  cwd: string;
}): Promise<ServerProcess> {
  const port = await freePort();
  const adminPort = options.portcullis ? await freePort() : undefined;
  const ports = options.portcullis
    ? { HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), ADMIN_HOST: '127.0.0.1', ADMIN_PORT: String(adminPort) }
    : { PORT: String(port) };
  const [command, args] = pinning()
    ? [TASKSET!, ['-c', String(SERVER_CORE), process.execPath, ...options.args]]
    : [process.execPath, options.args];
  // taskset execs node in place, so the pid is the server's own.
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env, ...ports },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8000)));
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => ((exited = code ?? (signal ? -1 : null)), resolve())),
  );
  const stop = async () => {
    if (exited !== undefined) return;
    process.kill(child.pid!, 'SIGTERM');
    const timer = setTimeout(() => exited === undefined && process.kill(child.pid!, 'SIGKILL'), 10_000);
    await exit;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${port}`;
  const readyUrl = `${options.portcullis ? `http://127.0.0.1:${adminPort}` : url}${options.readyPath}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined)
      throw new Error(`${options.args.join(' ')} exited with ${exited} before it was ready:\n${stderr}`);
    const status = await fetch(readyUrl).then(
      async (response) => (await response.arrayBuffer(), response.status),
      () => 0,
    );
    if (status !== 0 && (options.readyStatus === undefined || status === options.readyStatus)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${options.args.join(' ')} was not ready within ${READY_TIMEOUT_MS / 1000} s (last status ${status}):\n${stderr}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { pid: child.pid!, url, errors: () => stderr, stop };
}

export interface LoadFigures {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** Server CPU (user + system) over the measured window, per answered request. */
  cpuMicrosPerRequest: number;
  /** Server CPU over the window ÷ the window: near 1, the server's core was the limit. */
  serverBusy: number;
  /**
   * Share of the window the server's core spent on other processes (other sessions' work on
   * this shared machine): the noise of this measurement. NaN when the server is not pinned.
   */
  coreOther: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Requests cycled through by every connection (e.g. one cookie per user). */
  requests?: { headers: Record<string, string> }[];
  /** Total requests per second over all connections; unlimited when omitted. */
  overallRate?: number;
}

const run = (options: LoadOptions, seconds: number) =>
  autocannon({
    url: options.url,
    connections: options.connections,
    duration: seconds,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.requests ? { requests: options.requests } : {}),
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
  });

/** Warm-up (not counted), then the measured window, with `pid`'s CPU read on either side of it. */
export async function measure(pid: number, options: LoadOptions): Promise<LoadFigures> {
  if (options.warmupSeconds > 0) await run(options, options.warmupSeconds);
  const cpuBefore = cpuMicros(pid);
  const coreBefore = coreBusyMicros(SERVER_CORE);
  const started = performance.now();
  const result = await run(options, options.seconds);
  const elapsedMicros = (performance.now() - started) * 1000;
  const cpu = cpuMicros(pid) - cpuBefore;
  const coreOther = PINNABLE ? Math.max(0, coreBusyMicros(SERVER_CORE) - coreBefore - cpu) / elapsedMicros : Number.NaN;
  const answered = result.requests.total;
  return {
    rps: answered / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: answered,
    non2xx: result.non2xx,
    errors: result.errors,
    cpuMicrosPerRequest: answered > 0 ? cpu / answered : Number.NaN,
    serverBusy: cpu / elapsedMicros,
    coreOther,
  };
}
