// `portcullis migrate`: the one runner for developers, the Helm pre-upgrade Job and CI
// (docs/db-migration.md). Only DATABASE_URL and SESSION_TABLE_NAME are read, checked with the
// same zod rules as the services: a migration Job must not need the services' secrets.
import { Option, type Command } from 'commander';
import {
  defaultSettings,
  MigrationError,
  openMigrator,
  RunnerLockTimeoutError,
  UnparseableTimestampsError,
  type MigrationEvent,
  type MigratorOptions,
  type PlannedMigration,
} from '@portcullis/migrations';
import { CliError, EXIT, messageOf } from '../cli-error.js';
import { readVariable } from '../env.js';
import { writeEvidence } from '../evidence.js';
import { wholeNumber } from '../options.js';
import type { CliContext } from '../program.js';
import { formatCount as number } from '../progress.js';

interface Flags {
  contract?: boolean;
  dryRun?: boolean;
  legacyTimeZone?: string;
  lockTimeoutMs?: number;
  lockRetrySeconds?: number;
  batchMs?: number;
  backup?: 'schema' | 'pg_dump' | 'none';
  backupDir?: string;
  waitSeconds?: number;
}

const seconds = (value: number) => (value < 10 ? `${value.toFixed(1)} s` : `${Math.round(value)} s`);

function readEnv(env: CliContext['env']): { url: string; sessionTableName: string } {
  return {
    url: readVariable(env, 'DATABASE_URL', 'docs/db-migration.md'),
    sessionTableName: readVariable(env, 'SESSION_TABLE_NAME', 'docs/db-migration.md'),
  };
}

/** One line per event; batch lines at most every 2 s per table, so a 10M-row table stays readable. */
function eventPrinter(out: (line: string) => void): (event: MigrationEvent) => void {
  const tables = new Map<string, { startedAt: number; printedAt: number }>();
  return (event) => {
    switch (event.type) {
      case 'runner-lock-wait':
        return out(`Waiting for another migration runner (${event.holder}) to finish`);
      case 'migration-start':
        return out(`${event.direction === 'up' ? '→' : '←'} ${event.name}`);
      case 'migration-done':
        return out(
          `✓ ${event.name} ${event.direction === 'up' ? 'applied' : 'rolled back'} in ${seconds(event.ms / 1000)}`,
        );
      case 'gated':
        return out(
          `Stopped before ${event.name}: a contract migration; after verifying, run \`portcullis migrate latest --contract\``,
        );
      case 'step':
        tables.delete(event.table);
        return out(`  ${event.table}: ${event.step}`);
      case 'lock-retry':
        return out(
          `  lock busy (${event.what}), attempt ${event.attempt}${event.blockers ? `, held by ${event.blockers}` : ''}: retrying`,
        );
      case 'backup':
        return out(
          `Backup: ${event.location}\nTo get the original text back after the contract migration, roll back past 20261124000200 and run:\n${event.restore}`,
        );
      case 'backup-skipped':
        return out(`Backup: none (${event.reason})`);
      case 'batch': {
        const now = Date.now();
        const table = tables.get(event.table) ?? { startedAt: now - event.batchMs, printedAt: 0 };
        tables.set(event.table, table);
        if (now - table.printedAt < 2000 && event.rowsDone < event.rowsTotal) return;
        table.printedAt = now;
        const percent =
          event.rowsTotal > 0 ? ` (${Math.min(100, Math.round((100 * event.rowsDone) / event.rowsTotal))}%)` : '';
        const rate = (1000 * event.rowsDone) / Math.max(1, now - table.startedAt);
        return out(
          `  ${event.table}: ${number(event.rowsDone)}/${number(event.rowsTotal)} rows${percent}, ${number(rate)} rows/s, batch of ${number(event.batchRows)} in ${Math.round(event.batchMs)} ms`,
        );
      }
    }
  };
}

function printPlan(planned: PlannedMigration[], out: (line: string) => void): void {
  if (planned.length === 0) return out('Nothing to migrate.');
  out('Plan (measured on this database; nothing was changed):');
  let total = 0;
  for (const migration of planned) {
    out(migration.name);
    for (const item of migration.items) {
      total += item.seconds;
      out(`  ${item.step.padEnd(9)} ${item.detail}${item.seconds > 0 ? `  ~${seconds(item.seconds)}` : ''}`);
    }
  }
  out(`Estimated total: ${seconds(total)}, plus lock retries while long transactions hold a table`);
}

/**
 * `migrate plan --evidence`: where and when it was measured (host and database, never the
 * credentials), each step's estimate, and the batch rates the plan measured (rows/s), so the
 * staging timing is on record before production (docs/db-migration.md).
 */
function planEvidence(planned: PlannedMigration[], url: string, startedAt: string): Record<string, unknown> {
  const where = new URL(url);
  const steps = planned.flatMap((migration) => migration.items.map((item) => ({ migration: migration.name, ...item })));
  // The plan states each measured rate in its detail: "<n> rows at <rate> rows/s (measured on <m> rows)".
  const measured = steps.flatMap((step) => {
    const match = /([\d,]+) rows at ([\d,]+) rows\/s \(measured on ([\d,]+) rows\)/.exec(step.detail);
    const figure = (text: string) => Number(text.replace(/,/g, ''));
    return match
      ? [
          {
            migration: step.migration,
            step: step.step,
            rows: figure(match[1]!),
            rows_per_second: figure(match[2]!),
            sample_rows: figure(match[3]!),
          },
        ]
      : [];
  });
  return {
    evidence: 'migrate-plan',
    measured_at: startedAt,
    database: `${where.host}${where.pathname}`,
    migrations: planned.map((migration) => migration.name),
    steps,
    measured_batch_rates: measured,
    estimated_total_seconds: Math.round(steps.reduce((total, step) => total + step.seconds, 0)),
  };
}

/** Socket and server codes that mean "never got a working connection" (wrong host, password or database). */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ECONNRESET',
  '28P01',
  '28000',
  '3D000',
]);

/** Turns the runner's failures into one sentence and an exit code; the full list of bad values goes first. */
function asCliError(error: unknown, err: (line: string) => void): unknown {
  if (error instanceof UnparseableTimestampsError) {
    for (const value of error.values)
      err(`  ${value.table} id=${value.id} ${value.column}=${JSON.stringify(value.raw)}`);
    if (error.total > error.values.length)
      err(`  … and ${number(error.total - error.values.length)} more (the query is in docs/db-migration.md)`);
    return new CliError(error.message, EXIT.unparseable);
  }
  if (error instanceof RunnerLockTimeoutError) return new CliError(error.message, EXIT.runnerLocked);
  if (error instanceof MigrationError) return new CliError(error.message, EXIT.failure);
  if (error instanceof CliError) return error;
  const reason = messageOf(error);
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  if (CONNECTION_ERRORS.has(code)) {
    return new CliError(
      `Could not connect to the database in DATABASE_URL (${reason}): check the URL, the network and the credentials`,
      EXIT.failure,
    );
  }
  return new CliError(
    `Migration failed (${reason}): every finished step is kept; fix the cause and run the same command again to continue`,
    EXIT.failure,
  );
}

function addSettings(command: Command, which: { zone?: boolean; backup?: boolean; batches?: boolean }): Command {
  if (which.zone) {
    command.option(
      '--legacy-time-zone <zone>',
      'IANA zone of legacy values written without offset',
      defaultSettings.legacyTimeZone,
    );
  }
  command.option(
    '--lock-timeout-ms <ms>',
    'lock_timeout of every step that could make writers wait',
    wholeNumber(0),
    defaultSettings.lockTimeoutMs,
  );
  if (which.batches) {
    command
      .option('--wait-seconds <s>', 'how long to wait for another runner (0: no limit)', wholeNumber(0), 900)
      .option(
        '--lock-retry-seconds <s>',
        'keep retrying a busy lock this long before failing',
        wholeNumber(0),
        defaultSettings.lockRetryForMs / 1000,
      )
      .option(
        '--batch-ms <ms>',
        'target duration of one backfill batch (bounds row-lock waits)',
        wholeNumber(0),
        defaultSettings.batchTargetMs,
      );
  }
  if (which.backup) {
    command
      .addOption(
        new Option('--backup <mode>', 'copy of the tables taken before a conversion')
          .choices(['schema', 'pg_dump', 'none'])
          .default(defaultSettings.backup),
      )
      .option('--backup-dir <dir>', 'directory of pg_dump backups', defaultSettings.backupDirectory);
  }
  return command;
}

export function registerMigrateCommands(program: Command, context: CliContext): void {
  const out = (line: string) => void context.stdout.write(`${line}\n`);
  const err = (line: string) => void context.stderr.write(`${line}\n`);

  const run = async <T>(flags: Flags, work: (migrator: ReturnType<typeof openMigrator>) => Promise<T>): Promise<T> => {
    const { url, sessionTableName } = readEnv(context.env);
    const options: MigratorOptions & { url: string } = {
      url,
      sessionTableName,
      legacyTimeZone: flags.legacyTimeZone,
      lockTimeoutMs: flags.lockTimeoutMs,
      lockRetryForMs: flags.lockRetrySeconds === undefined ? undefined : flags.lockRetrySeconds * 1000,
      batchTargetMs: flags.batchMs,
      backup: flags.backup,
      backupDirectory: flags.backupDir,
      runnerLockWaitMs: flags.waitSeconds === undefined ? undefined : flags.waitSeconds * 1000,
      onEvent: eventPrinter(out),
    };
    const migrator = openMigrator(options);
    try {
      return await work(migrator);
    } catch (error) {
      throw asCliError(error, err);
    } finally {
      await migrator.close();
    }
  };

  const migrate = program
    .command('migrate')
    .description('Database migrations: the same runner as the Helm pre-upgrade Job (docs/db-migration.md)')
    .option('--plan', 'print the plan and estimated time (same as `migrate plan`)')
    .allowExcessArguments(false) // `migrate sideways` is a usage error, not the help
    .action((flags: { plan?: boolean }) =>
      flags.plan ? run({}, async (migrator) => printPlan(await migrator.plan(), out)) : migrate.help(),
    );

  addSettings(
    migrate
      .command('latest')
      .description('run every pending migration, stopping before contract migrations unless --contract')
      .option('--contract', 'also run contract migrations (they drop what the way back needs)')
      .option('--dry-run', 'print the plan and estimated time instead (same as `migrate plan`)'),
    { zone: true, backup: true, batches: true },
  ).action((flags: Flags) =>
    run(flags, async (migrator) => {
      if (flags.dryRun) return printPlan(await migrator.plan({ contract: flags.contract }), out);
      const ran = await migrator.latest({ contract: flags.contract });
      out(
        ran.length === 0
          ? 'Nothing to migrate: the database is up to date.'
          : `Done: ${ran.length} migration${ran.length === 1 ? '' : 's'} applied.`,
      );
    }),
  );

  addSettings(
    migrate
      .command('up')
      .description('run the next pending migration only')
      .option('--contract', 'allow it to be a contract migration')
      .option('--dry-run', 'print its plan and estimated time instead'),
    { zone: true, backup: true, batches: true },
  ).action((flags: Flags) =>
    run(flags, async (migrator) => {
      if (flags.dryRun) return printPlan((await migrator.plan({ contract: flags.contract })).slice(0, 1), out);
      out((await migrator.up({ contract: flags.contract })) ? 'Done.' : 'Nothing to run.');
    }),
  );

  addSettings(migrate.command('down').description('undo the last migration (a half-done conversion first)'), {
    batches: true,
  }).action((flags: Flags) =>
    run(flags, async (migrator) => {
      out((await migrator.down()) ? 'Done.' : 'Nothing to roll back.');
    }),
  );

  migrate
    .command('status')
    .description('list every migration with its state and the progress of an unfinished conversion')
    .action(() =>
      run({}, async (migrator) => {
        for (const migration of await migrator.status()) {
          out(
            `${migration.name.padEnd(50)} ${migration.state.padEnd(16)} ${migration.ranAt?.toISOString() ?? ''}`.trimEnd(),
          );
          for (const line of migration.progress) out(`    ${line}`);
        }
      }),
    );

  addSettings(
    migrate
      .command('plan')
      .description('print what `latest` would do and its estimated time, measured on this database; changes nothing')
      .option('--contract', 'include contract migrations')
      .option(
        '--evidence <dir>',
        'also write the plan, its measured rates and the total estimate as JSON evidence (staging timing)',
      ),
    { zone: true },
  ).action((flags: Flags & { evidence?: string }) =>
    run(flags, async (migrator) => {
      const startedAt = new Date().toISOString();
      const planned = await migrator.plan({ contract: flags.contract });
      printPlan(planned, out);
      if (flags.evidence)
        out(
          `Evidence: ${await writeEvidence(flags.evidence, 'migrate-plan', startedAt, planEvidence(planned, readEnv(context.env).url, startedAt))}`,
        );
    }),
  );
}
