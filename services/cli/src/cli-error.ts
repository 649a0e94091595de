/** A failure the operator can act on: one sentence naming the problem and what to do. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit codes the runbooks and the chart's Jobs rely on: the one table for every command. */
export const EXIT = {
  ok: 0,
  /** Could not do the work (database down, a step failed): run the same command again. */
  failure: 1,
  /** Bad flags or configuration (a variable is named). */
  usage: 2,
  /** `sessions verify` / `sessions preflight`: the stores disagree, do not cut over. */
  noGo: 3,
  /** `migrate`: legacy timestamps that cannot be parsed (listed on stderr). */
  unparseable: 4,
  /** `migrate`: another runner held the lock for --wait-seconds. */
  runnerLocked: 5,
} as const;

/**
 * An error's message without its final period, for embedding in a sentence. Duck-typed:
 * errors of Node's own modules and of pg come from another realm than ours under jest's VM.
 */
export const messageOf = (error: unknown): string =>
  (error && typeof error === 'object' && 'message' in error ? String(error.message) : String(error)).replace(/\.$/, '');
