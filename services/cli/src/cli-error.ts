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

/** Exit codes the runbooks rely on. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** `sessions verify`: the stores disagree, do not cut over. */
  noGo: 3,
} as const;
