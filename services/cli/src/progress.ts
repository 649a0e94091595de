// Progress on stderr for every long command: plain lines (a Kubernetes Job's log is no
// terminal), at most one per interval so a 10M-row run stays readable, and always the last.
import type { CliContext } from './program.js';

/** Returns `print(render, last?)`: writes render() when `everyMs` passed since the last line, or when last. */
export function progressWriter(
  context: Pick<CliContext, 'stderr'>,
  everyMs: number,
  options: { quietFirstInterval?: boolean } = {},
) {
  let printedAt = options.quietFirstInterval ? Date.now() : 0;
  return (render: () => string, last = false): void => {
    const now = Date.now();
    if (!last && now - printedAt < everyMs) return;
    printedAt = now;
    context.stderr.write(`${render()}\n`);
  };
}

/** 1234567 → "1,234,567": counts in progress lines and summaries. */
export const formatCount = (value: number) => Math.round(value).toLocaleString('en-US');

/** Elapsed time for humans: "4.2 s", "3m12s". */
export const formatDuration = (ms: number) =>
  ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
