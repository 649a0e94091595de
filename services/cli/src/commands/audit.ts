// `portcullis audit verify-chain`: walks the audit log's hash chains and reports the first
// break of each (a deleted, edited or forged event, a rewritten head). Reads DATABASE_URL and
// the audit key ring (AUDIT_DETAILS_ENCRYPTION_KEY[S_PREVIOUS]) that keys the chains; exit 1
// on any break. `verify-export` (audit-export.ts) checks an exported file without the database.
import type { Command } from 'commander';
import { listChainKeys, verifyChain, type ChainReport } from '@portcullis/audit';
import { createDatabase } from '@portcullis/db';
import { CliError } from '../cli-error.js';
import { readKeyRing, readVariable } from '../env.js';
import type { CliContext } from '../program.js';
import { registerVerifyExportCommand } from './audit-export.js';

export function registerAuditCommands(program: Command, context: CliContext): void {
  const audit = program.command('audit').description('The audit log (hash chain per tenant)');
  audit
    .command('verify-chain')
    .description("Check one tenant's chain (--tenant ID, or 'platform'), or every chain (default)")
    .option('--tenant <id>', "a tenant id, or 'platform' for platform-wide events")
    .option(
      '--require-signed-head',
      'count a chain whose head carries no signature as broken (every chain written to since the upgrade that keyed the chains has one)',
    )
    .action(async (flags: { tenant?: string; requireSignedHead?: boolean }) => {
      const url = readVariable(context.env, 'DATABASE_URL');
      const keys = readKeyRing(context.env, 'AUDIT_DETAILS_ENCRYPTION_KEY');
      const db = createDatabase({ url, poolMax: 2 });
      const reports: ChainReport[] = [];
      try {
        const chains = flags.tenant ? [flags.tenant.toLowerCase()] : await listChainKeys(db);
        for (const chain of chains) {
          const verified = await verifyChain(db, chain, { keys });
          const report: ChainReport =
            flags.requireSignedHead && verified.ok && !verified.signedHead
              ? {
                  ...verified,
                  ok: false,
                  firstBreak: {
                    seq: verified.headSeq,
                    eventId: null,
                    reason: 'head_unsigned',
                    message: `The head of chain ${chain} carries no signature (--require-signed-head).`,
                  },
                }
              : verified;
          reports.push(report);
          context.stdout.write(
            `${chain}: ${report.ok ? `ok, ${report.checked} events` : `BROKEN at event ${report.firstBreak!.seq} (${report.firstBreak!.reason}): ${report.firstBreak!.message}`}\n`,
          );
        }
      } finally {
        await db.destroy();
      }
      const broken = reports.filter((report) => !report.ok);
      context.stdout.write(`${JSON.stringify({ chains: reports.length, broken: broken.length, reports })}\n`);
      if (broken.length > 0) {
        throw new CliError(
          `${broken.length} of ${reports.length} audit chains are broken (first: ${broken[0]!.chainKey} at event ${broken[0]!.firstBreak!.seq}): treat it as an incident and compare with a backup (docs/mfa-reset-runbook.md)`,
        );
      }
    });
  registerVerifyExportCommand(audit, context);
}
