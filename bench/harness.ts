// Small shared pieces for benchmarks: timing loops, percentiles, the table and the final JSON line.
import { performance } from 'node:perf_hooks';

export interface Rate {
  ops: number;
  seconds: number;
  opsPerSecond: number;
}

/** Runs `fn` repeatedly for about `seconds` (after a warm-up) and returns the measured rate. */
export async function measureRate(fn: () => unknown, seconds = 2, warmupSeconds = 0.5): Promise<Rate> {
  await loopFor(fn, warmupSeconds);
  const started = performance.now();
  const ops = await loopFor(fn, seconds);
  const elapsed = (performance.now() - started) / 1000;
  return { ops, seconds: elapsed, opsPerSecond: ops / elapsed };
}

async function loopFor(fn: () => unknown, seconds: number): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let ops = 0;
  while (performance.now() < deadline) {
    for (let i = 0; i < 100; i++) {
      const result = fn();
      if (result instanceof Promise) await result;
    }
    ops += 100;
  }
  return ops;
}

/** Latency samples (ms) of `count` sequential calls. */
export async function sampleLatencies(fn: () => Promise<unknown>, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return samples;
}

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

export function printTable(title: string, rows: Record<string, string | number>[]): void {
  console.log(`\n${title}`);
  console.table(rows);
}

/** The contract with scripts: the very last line of a benchmark's output is this JSON object. */
export function printResult(result: Record<string, unknown>): void {
  console.log(JSON.stringify(result));
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));
