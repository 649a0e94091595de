import { Command, CommanderError } from 'commander';
import { ConfigError } from '@portcullis/config';
import { CliError, EXIT } from './cli-error.js';
import { registerKeyCommands } from './commands/keys.js';

/** The `portcullis` ops CLI. Every command has --help; failures exit non-zero with one sentence. */
export function buildProgram(): Command {
  const program = new Command('portcullis')
    .description('Portcullis operations: migrations, session stores, MFA reset logs, keys')
    .showHelpAfterError()
    .exitOverride();
  registerKeyCommands(program);
  return program;
}

export async function runCli(argv: string[], program = buildProgram()): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      process.stderr.write(`portcullis: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`portcullis: ${error.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`portcullis: unexpected failure (${error instanceof Error ? error.message : String(error)})\n`);
    return EXIT.failure;
  }
}
