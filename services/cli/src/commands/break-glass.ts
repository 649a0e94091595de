// `portcullis platform-admins reset-mfa`: break-glass for a platform admin who lost their
// authenticator. No console can do it (a platform admin resets tenant admins, and nobody resets
// platform admins), so it is an ops command with a two-person rule: the operator has the
// database and the keys, and a SECOND platform admin approves with the current code of their
// own authenticator, which only they hold. The code is claimed like a sign-in's (each time-step
// once), the change and its audit event commit together, and the admin's sessions are revoked
// before and after the commit, as mfa-admin does for a tenant admin (docs/mfa-reset-runbook.md).
import type { Command } from 'commander';
import { createAuditWriter } from '@portcullis/audit';
import { loadConfig } from '@portcullis/config';
import { createDatabase, type Knex } from '@portcullis/db';
import { createTotp, TotpSecretError, type KeyRing } from '@portcullis/crypto';
import { createSessionStoreFromSettings } from '@portcullis/session-store';
import { CliError, EXIT, messageOf } from '../cli-error.js';
import { readKeyRing, requireKeyRing } from '../env.js';
import type { CliContext } from '../program.js';

const TABLE = 'platform_admins';
/** Slack on a revocation marker's life for pod clocks that differ (as libs/session-auth). */
const MARKER_SLACK_MS = 3600_000;
/** The session owner id of a platform admin: userIdOf('platform', id) in libs/session-auth. */
const platformUserId = (id: string) => `platform:${id}`;

interface AdminRow {
  id: string;
  email: string;
  totp_secret: string | null;
  mfa_enabled: boolean;
  disabled_at: Date | null;
  totp_last_used_step: string | null;
}

/** The approver's live TOTP secret: encrypted under MFA_SECRET_ENCRYPTION_KEY, or legacy plaintext. */
function approverSecret(ring: KeyRing, admin: AdminRow): string {
  const context = { table: TABLE, column: 'totp_secret', rowId: admin.id };
  const secret = admin.totp_secret!;
  const classified = ring.classify(secret, context);
  if (classified.kind === 'plaintext') return secret;
  if (classified.kind === 'undecryptable')
    throw new CliError(
      `The approver's authenticator cannot be read with the configured keys (${classified.reason}): check MFA_SECRET_ENCRYPTION_KEY.`,
      EXIT.usage,
    );
  return ring.decrypt(secret, context);
}

const findByEmail = (db: Knex, email: string) =>
  db<AdminRow>(TABLE).whereRaw('lower(email) = lower(?)', [email]).first();

interface Flags {
  email: string;
  approver: string;
  approvalCode: string;
  reason: string;
  ticket: string;
}

async function resetMfa(context: CliContext, flags: Flags): Promise<void> {
  const config = loadConfig(context.env);
  const db = createDatabase({ url: config.DATABASE_URL, poolMax: 2 });
  const sessions = createSessionStoreFromSettings(config);
  try {
    const [target, approver] = [await findByEmail(db, flags.email), await findByEmail(db, flags.approver)];
    if (!target) throw new CliError(`No platform admin has the email ${flags.email}: check --email.`, EXIT.usage);
    if (!approver)
      throw new CliError(
        `No platform admin has the email ${flags.approver}: --approver must be another platform admin.`,
        EXIT.usage,
      );
    if (approver.id === target.id)
      throw new CliError('--approver is the admin being reset: a second platform admin must approve.', EXIT.usage);
    if (approver.disabled_at || !approver.mfa_enabled || !approver.totp_secret)
      throw new CliError(
        `${flags.approver} cannot approve: the approver must be an enabled platform admin with an enrolled authenticator.`,
        EXIT.usage,
      );
    // As auth-session accepts a sign-in code: the same TOTP, window and replay claim.
    const step = await createTotp({ now: () => Date.now() })
      .matchStep(
        approverSecret(
          requireKeyRing(config, 'MFA_SECRET_ENCRYPTION_KEY', "the approver's code is checked with it"),
          approver,
        ),
        flags.approvalCode.replace(/\s+/g, ''),
      )
      .catch((error: unknown) => {
        if (!(error instanceof TotpSecretError)) throw error;
        throw new CliError(
          `${flags.approver}'s stored authenticator secret cannot be read: ${error.message}.`,
          EXIT.failure,
        );
      });
    // Claimed before anything changes, as a sign-in claims it: a code seen over a shoulder or in a shell history cannot approve twice.
    const claimed =
      step !== null &&
      (await db(TABLE)
        .where({ id: approver.id })
        .andWhere((where) => where.whereNull('totp_last_used_step').orWhere('totp_last_used_step', '<', step))
        .update({ totp_last_used_step: String(step) })) === 1;
    if (!claimed)
      throw new CliError(
        `The approval code is not ${flags.approver}'s current code, or was already used: ask them for the next one.`,
        EXIT.usage,
      );

    const audit = createAuditWriter({ db, keys: readKeyRing(config, 'AUDIT_DETAILS_ENCRYPTION_KEY') });
    const markerTtlMs = config.SESSION_ABSOLUTE_TIMEOUT_SECONDS * 1000 + MARKER_SLACK_MS;
    const at = new Date();
    await db.transaction(async (trx) => {
      await trx(TABLE).where({ id: target.id }).update({
        totp_secret: null,
        mfa_enabled: false,
        mfa_enrolled_at: null,
        totp_last_used_step: null,
        recovery_code_hashes: null,
        sessions_revoked_at: at,
        updated_at: at,
      });
      await audit.record(
        {
          action: 'platform_admin.mfa_break_glass_reset',
          actorType: 'system',
          targetType: 'platform_admin',
          targetId: target.id,
          details: { approved_by: approver.id, approval_step: step, via: 'portcullis platform-admins reset-mfa' },
          sealed: { reason: flags.reason, ticket: flags.ticket },
        },
        trx,
      );
      // Before the commit: a store that cannot take the marker stops the reset.
      await sessions.store.revoke(platformUserId(target.id), at.getTime(), markerTtlMs);
    });
    // After the commit: the marker again (a sign-in during the transaction), then the sessions
    // themselves. The reset stands either way: the marker written before the commit already refuses them.
    const ended = await sessions.store
      .revoke(platformUserId(target.id), Date.now(), markerTtlMs)
      .then(() => sessions.store.destroyByUser(platformUserId(target.id)))
      .catch(
        (error: unknown) =>
          void context.stderr.write(
            `warning: sessions not deleted after the reset (${messageOf(error)}); they are refused anyway.\n`,
          ),
      );
    context.stdout.write(
      `${JSON.stringify({ reset: target.id, email: target.email, approved_by: approver.id, at: at.toISOString(), sessions_ended: ended ?? null, audit_action: 'platform_admin.mfa_break_glass_reset' })}\n`,
    );
    context.stderr.write(
      `${target.email} has no authenticator now: they enrol a new one at their next sign-in. Their sessions are revoked.\n`,
    );
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(
      `The break-glass reset did not happen (${messageOf(error)}): fix that and run the command again with the approver's next code.`,
      EXIT.failure,
    );
  } finally {
    await sessions.close();
    await db.destroy();
  }
}

export function registerBreakGlassCommands(program: Command, context: CliContext): void {
  program
    .command('platform-admins')
    .description('Platform admins: break-glass operations (docs/mfa-reset-runbook.md)')
    .command('reset-mfa')
    .description(
      "Remove a platform admin's authenticator and end their sessions, approved by a second platform admin's current code; audited",
    )
    .requiredOption('--email <email>', 'the platform admin who lost their authenticator')
    .requiredOption('--approver <email>', 'a second, enabled platform admin with an authenticator')
    .requiredOption('--approval-code <code>', "the approver's current 6-digit authenticator code, read to you by them")
    .requiredOption('--reason <text>', 'why (stored encrypted in the audit log)')
    .requiredOption('--ticket <id>', 'the incident or ticket reference (stored encrypted)')
    .action((flags: Flags) => resetMfa(context, flags));
}
