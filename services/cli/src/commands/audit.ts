// `portcullis audit verify-chain`: walks the audit log's hash chains and reports the first
// break of each (a deleted or edited event). Reads only DATABASE_URL; exit 1 on any break.
import type { Command } from 'commander';
import { listChainKeys, verifyChain, type ChainReport } from '@portcullis/audit';
import { createDatabase } from '@portcullis/db';
import { CliError } from '../cli-error.js';
import { readVariable } from '../env.js';
import type { CliContext } from '../program.js';

export function registerAuditCommands(program: Command, context: CliContext): void {
  const audit = program.command('audit').description('The audit log (hash chain per tenant)');
  audit
    .command('verify-chain')
    .description("Check one tenant's chain (--tenant ID, or 'platform'), or every chain (default)")
    .option('--tenant <id>', "a tenant id, or 'platform' for platform-wide events")
    .action(async (flags: { tenant?: string }) => {
      const db = createDatabase({ url: readVariable(context.env, 'DATABASE_URL'), poolMax: 2 });
      const reports: ChainReport[] = [];
      try {
        const chains = flags.tenant ? [flags.tenant.toLowerCase()] : await listChainKeys(db);
        for (const chain of chains) {
          const report = await verifyChain(db, chain);
          reports.push(report);
          context.stdout.write(`${chain}: ${report.ok ? `ok, ${report.checked} events` : `BROKEN at event ${report.firstBreak!.seq} (${report.firstBreak!.reason}): ${report.firstBreak!.message}`}\n`);
        }
      } finally {
        await db.destroy();
      }
      const broken = reports.filter((report) => !report.ok);
      context.stdout.write(`${JSON.stringify({ chains: reports.length, broken: broken.length, reports })}\n`);
      if (broken.length > 0) {
        throw new CliError(`${broken.length} of ${reports.length} audit chains are broken (first: ${broken[0]!.chainKey} at event ${broken[0]!.firstBreak!.seq}): treat it as an incident and compare with a backup (docs/mfa-reset-runbook.md)`);
      }
    });
}
