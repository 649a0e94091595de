// The probe process of probe-process.ts. It imports nothing but Node itself and runs without a
// loader (Node strips the types), so its heap stays small and its own GC pauses short: its event
// loop must be idle enough that every latency it reports is the server's. Requests go through
// node:http rather than fetch: fetch with AbortSignal.timeout keeps a timer and a signal alive per
// request for the whole timeout, and against a server that answers at once that alone gave
// 10 ms scavenges and a p99 of 8 to 12 ms.
import { Agent, get } from 'node:http';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';

export interface ProbeRequest {
  url: string;
  /** One set per user, used in turn. */
  headers: Record<string, string>[];
  rate: number;
  seconds: number;
}

export interface ProbeAnswer {
  /** Milliseconds from the moment each answered request was due (or sent, if sooner). */
  latencies: number[];
  sent: number;
  non2xx: number;
  /** No HTTP answer (connection error, timeout) or not sent because MAX_OUTSTANDING were waiting. */
  errors: number;
  /** The window in epoch milliseconds (performance.timeOrigin + now): the first request due to the last answer. */
  startedAt: number;
  endedAt: number;
  /** This process's event-loop delay (p99, max) and GC pauses (longest, total) over the window, in ms. */
  client: { lagP99: number; lagMax: number; gcMax: number; gcTotal: number };
}

const MAX_OUTSTANDING = 1000;
const TIMEOUT_MS = 30_000;
const agent = new Agent({ keepAlive: true });

/** Status code of one GET, its body read to the end; rejects on a connection error or after TIMEOUT_MS. */
const statusOf = (url: string, headers: Record<string, string> | undefined) =>
  new Promise<number>((resolve, reject) => {
    const request = get(url, { agent, headers, timeout: TIMEOUT_MS }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
      response.once('error', reject);
    });
    request.once('timeout', () => request.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    request.once('error', reject);
  });
const LAG_RESOLUTION_MS = 1;

/**
 * Open-loop latency: GETs `url` at a fixed `rate` whatever the answers. Each latency runs from
 * the moment the request was due, not from when it was sent: a client that waits for answers
 * before sending more sends less while the server is slow and so understates the latency users
 * see (coordinated omission).
 */
async function probe(request: ProbeRequest): Promise<ProbeAnswer> {
  const pauses: number[] = [];
  const gc = new PerformanceObserver((list) => list.getEntries().forEach((entry) => pauses.push(entry.duration)));
  gc.observe({ entryTypes: ['gc'] });
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  const interval = 1000 / request.rate;
  const total = Math.round(request.seconds * request.rate);
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let outstanding = 0;
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (outstanding >= MAX_OUTSTANDING) {
      errors += 1;
      continue;
    }
    outstanding += 1;
    // A timer may fire up to a millisecond early: time an early request from when it went out.
    const start = Math.min(due, performance.now());
    pending.push(
      statusOf(request.url, request.headers[i % request.headers.length])
        .then(
          (status) => {
            if (status < 200 || status > 299) non2xx += 1;
            latencies.push(performance.now() - start);
          },
          () => void (errors += 1),
        )
        .finally(() => void (outstanding -= 1)),
    );
  }
  await Promise.all(pending);
  const ended = performance.now();
  lag.disable();
  gc.disconnect();
  return {
    latencies,
    sent: total,
    non2xx,
    errors,
    startedAt: performance.timeOrigin + started,
    endedAt: performance.timeOrigin + ended,
    client: {
      lagP99: Math.max(0, lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS),
      lagMax: Math.max(0, lag.max / 1e6 - LAG_RESOLUTION_MS),
      gcMax: Math.max(0, ...pauses),
      gcTotal: pauses.reduce((sum, pause) => sum + pause, 0),
    },
  };
}

process.on('message', (request: ProbeRequest) => {
  probe(request).then(
    (answer) => process.send!({ answer }),
    (error: unknown) => process.send!({ error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
