import { Command, CommanderError } from 'commander';
import { ConfigError, type Environment } from '@portcullis/config';
import { CliError, EXIT } from './cli-error.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerBreakGlassCommands } from './commands/break-glass.js';
import { registerDrillCommands } from './commands/drill.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerMfaLogCommands } from './commands/mfa-logs.js';
import { registerMigrateCommands } from './commands/migrate.js';
import { registerSessionCommands } from './commands/sessions.js';
import { resolveEnvironment } from './env.js';

/** What commands read and write instead of process globals, so tests run them in-process. */
export interface CliContext {
  env: Environment;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

const processContext = (): CliContext => ({ env: process.env, stdout: process.stdout, stderr: process.stderr });

/** The `portcullis` ops CLI. Every command has --help; failures exit non-zero with one sentence. */
export function buildProgram(context: CliContext = processContext()): Command {
  const program = new Command('portcullis')
    .description('Portcullis operations: migrations, session stores, MFA reset logs, keys')
    .showHelpAfterError()
    .configureOutput({
      writeOut: (text) => void context.stdout.write(text),
      writeErr: (text) => void context.stderr.write(text),
    })
    .exitOverride()
    // Before any command runs (not for --help): SECRETS_SOURCE=aws loads secrets as the services do.
    .hook('preAction', async () => void (context.env = await resolveEnvironment(context.env)));
  registerKeyCommands(program);
  registerSessionCommands(program, context);
  registerMigrateCommands(program, context);
  registerMfaLogCommands(program, context);
  registerAuditCommands(program, context);
  registerBreakGlassCommands(program, context);
  registerDrillCommands(program, context);
  return program;
}

/** `runCli(argv)`, `runCli(argv, program)`, or `runCli(argv, { env, stdout, stderr })` in tests. */
export async function runCli(argv: string[], programOrContext: Command | Partial<CliContext> = {}): Promise<number> {
  const context = programOrContext instanceof Command ? processContext() : { ...processContext(), ...programOrContext };
  const program = programOrContext instanceof Command ? programOrContext : buildProgram(context);
  const { stderr } = context;
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      stderr.write(`portcullis: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof ConfigError) {
      stderr.write(`portcullis: ${error.message}\n`);
      return EXIT.usage;
    }
    stderr.write(`portcullis: unexpected failure (${error instanceof Error ? error.message : String(error)})\n`);
    return EXIT.failure;
  }
}
