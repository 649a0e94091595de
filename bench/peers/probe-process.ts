// GET latency measured from a process of its own (probe-child.ts). In `npm run bench -- signin`
// the 20 sign-in clients (their fetches, their garbage) run in the bench's process; a probe
// beside them on the same event loop counted that process's GC pauses (up to 89 ms measured) as
// server latency. The probe process does nothing else and reports its own event-loop delay and
// GC pauses, so a reader can see the latencies are the server's. The server's CPU is read here,
// around the probe.
import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { percentile } from '../harness.js';
import type { ProbeAnswer, ProbeRequest } from './probe-child.js';
import { coreBusyMicros, cpuMicros, pinning, SERVER_CORE } from './processes.js';

export interface ProbeFigures {
  p50: number;
  p99: number;
  /** Requests answered per second. */
  rps: number;
  sent: number;
  non2xx: number;
  errors: number;
  /** Server CPU over the window, in microseconds. */
  cpuMicros: number;
  /** The window: from the first request due to the last answer. */
  seconds: number;
  /** Share of the window the server's core spent on other processes. */
  coreOther: number;
  /** The window in epoch milliseconds (performance.timeOrigin + now), to line up the caller's own events. */
  startedAt: number;
  endedAt: number;
  client: ProbeAnswer['client'];
}

export interface ProbeProcess {
  /** Open-loop GETs at `rate` for `seconds` (probe-child.ts), with `pid`'s CPU read around them. */
  probe(pid: number, request: ProbeRequest): Promise<ProbeFigures>;
  stop(): void;
}

type Reply = { answer: ProbeAnswer } | { error: string };

/** Starts the probe process: pinned where this one is (a child inherits the CPU affinity), no loader. */
export function startProbeProcess(): ProbeProcess {
  const child: ChildProcess = fork(new URL('./probe-child.ts', import.meta.url), [], {
    execArgv: [],
    env: { PATH: process.env.PATH ?? '' },
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the probe process exited with ${code}`))),
  );
  exited.catch(() => undefined);
  return {
    async probe(pid, request) {
      const reply = new Promise<Reply>((resolve) => child.once('message', (message) => resolve(message as Reply)));
      const cpuBefore = cpuMicros(pid);
      const coreBefore = coreBusyMicros(SERVER_CORE);
      const started = performance.now();
      child.send(request);
      const outcome = await Promise.race([reply, exited]);
      if ('error' in outcome) throw new Error(`the probe process failed: ${outcome.error}`);
      const elapsedMicros = (performance.now() - started) * 1000;
      const cpu = cpuMicros(pid) - cpuBefore;
      const { latencies, sent, non2xx, errors, startedAt, endedAt, client } = outcome.answer;
      const seconds = (endedAt - startedAt) / 1000;
      return {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        rps: latencies.length / seconds,
        sent,
        non2xx,
        errors,
        cpuMicros: cpu,
        seconds: elapsedMicros / 1e6,
        coreOther: pinning() ? Math.max(0, coreBusyMicros(SERVER_CORE) - coreBefore - cpu) / elapsedMicros : Number.NaN,
        startedAt,
        endedAt,
        client,
      };
    },
    stop: () => void child.kill(),
  };
}
