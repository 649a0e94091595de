import QRCode from 'qrcode';
import { apiError } from '@portcullis/http';
import type { AuditWriter } from '@portcullis/audit';
import type { KeyRing } from '@portcullis/crypto';
import type { AdminKind, AdminSession, SessionRevocation } from '@portcullis/session-auth';
import { totpSecretContext, type AdminQueries } from '../queries/admins.js';
import type { MfaResetQueries } from '../queries/mfa-resets.js';
import { generateRecoveryCodes, hashRecoveryCode } from './recovery-codes.js';
import { auditSubject, type RequestInfo } from './sign-in.js';
import type { Totp } from './totp.js';

/**
 * A secret waiting for its first code lives in the session, encrypted and bound to the admin and
 * to its purpose: a pending enrolment cannot be confirmed as a replacement, nor the reverse.
 */
type PendingPurpose = 'pending_totp_secret' | 'pending_replacement_secret';
const pendingContext = (adminId: string, column: PendingPurpose = 'pending_totp_secret') => ({
  table: 'sessions',
  column,
  rowId: adminId,
});

/** A replacement of an enrolled authenticator, waiting in the session for a code from the new one. */
export type PendingReplacement = NonNullable<AdminSession['pendingReplacement']>;

const enrolledAtOf = (admin: { mfa_enrolled_at: Date | null }) =>
  admin.mfa_enrolled_at ? new Date(admin.mfa_enrolled_at).getTime() : null;

const replacementStale = () => apiError('mfa.factor_changed');

export interface EnrolmentOffer {
  otpauthUri: string;
  qrCodeDataUrl: string;
  /** For manual entry; shown only on the enrolment page/response, never logged. */
  secret: string;
  pendingSecret: string;
  /** Tenant admins sent here by a platform admin's MFA reset: when it happened (shown on the page). */
  resetAt?: Date;
}

export function createEnrolmentLibrary(deps: {
  admins: AdminQueries;
  resets: MfaResetQueries;
  totp: Totp;
  totpKeys: KeyRing;
  audit: AuditWriter;
  revocation: SessionRevocation;
  clock: { now(): number };
}) {
  const { admins, resets, totp, totpKeys, audit, revocation, clock } = deps;

  async function offerFor(
    adminId: string,
    email: string,
    secret: string,
    purpose?: PendingPurpose,
  ): Promise<EnrolmentOffer> {
    const otpauthUri = totp.uri(secret, email);
    return {
      otpauthUri,
      qrCodeDataUrl: await QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: 'M', margin: 2 }),
      secret,
      pendingSecret: totpKeys.encrypt(secret, pendingContext(adminId, purpose)),
    };
  }

  async function enrolledAdmin(kind: AdminKind, adminId: string) {
    const admin = await admins.findById(kind, adminId);
    if (!admin) throw apiError('auth.session_expired');
    if (!admin.mfa_enabled) throw apiError('mfa.not_enrolled', 'Set up an authenticator first.');
    return admin;
  }

  return {
    /** A new secret, or the one already pending in this session (reloading the page keeps the QR). */
    async offer(kind: AdminKind, adminId: string, pendingSecret: string | undefined): Promise<EnrolmentOffer> {
      const admin = await admins.findById(kind, adminId);
      if (!admin) throw apiError('auth.session_expired');
      if (admin.mfa_enabled)
        throw apiError('mfa.already_enrolled', 'An authenticator is already enrolled. A platform admin can reset it.');
      const secret = pendingSecret ? totpKeys.decrypt(pendingSecret, pendingContext(adminId)) : totp.newSecret();
      // Only tenant admins have a reset path; the log gives the time alone (no previous_* value).
      const reset = kind === 'tenant' ? await resets.latestOpenReset(adminId) : undefined;
      return { ...(await offerFor(adminId, admin.email, secret)), ...(reset ? { resetAt: reset.created_at } : {}) };
    },

    /** Activates the pending secret with a valid code; returns the recovery codes, shown once. */
    async activate(
      kind: AdminKind,
      adminId: string,
      pendingSecret: string | undefined,
      code: string,
      request: RequestInfo,
    ): Promise<string[]> {
      if (!pendingSecret)
        throw apiError('mfa.no_enrolment', 'Start the enrolment first: open the authenticator set-up page again.');
      const admin = await admins.findById(kind, adminId);
      if (!admin) throw apiError('auth.session_expired');
      if (admin.mfa_enabled)
        throw apiError('mfa.already_enrolled', 'An authenticator is already enrolled. A platform admin can reset it.');
      const secret = totpKeys.decrypt(pendingSecret, pendingContext(adminId));
      const step = await totp.matchStep(secret, code.replace(/\s+/g, ''));
      if (step === null)
        throw apiError(
          'auth.invalid_code',
          'That code is not valid. Check the clock of your phone and try the next code.',
        );
      const recoveryCodes = generateRecoveryCodes();
      await admins.activateTotp(kind, adminId, {
        secret: totpKeys.encrypt(secret, totpSecretContext(kind, adminId)),
        recoveryCodeHashes: JSON.stringify(recoveryCodes.map(hashRecoveryCode)),
        now: new Date(clock.now()),
        step,
      });
      await audit.record({ ...auditSubject(kind, admin, request), action: 'auth.mfa_enrolled' });
      return recoveryCodes;
    },

    /** When the current authenticator was set up (the authenticator page). */
    async enrolledAt(kind: AdminKind, adminId: string): Promise<Date | null> {
      const at = enrolledAtOf(await enrolledAdmin(kind, adminId));
      return at === null ? null : new Date(at);
    },

    /**
     * Starts replacing an enrolled authenticator: a new secret, held pending in the caller's
     * session. Nothing changes in the database until confirmReplacement; the old one keeps working.
     */
    async startReplacement(
      kind: AdminKind,
      adminId: string,
    ): Promise<{ offer: EnrolmentOffer; pending: PendingReplacement }> {
      const admin = await enrolledAdmin(kind, adminId);
      const offer = await offerFor(adminId, admin.email, totp.newSecret(), 'pending_replacement_secret');
      return { offer, pending: { secret: offer.pendingSecret, replacing: enrolledAtOf(admin) } };
    },

    /** The pending replacement's QR and key again (its form shown again after a refused code). */
    async replacementOffer(kind: AdminKind, adminId: string, pending: PendingReplacement): Promise<EnrolmentOffer> {
      const admin = await enrolledAdmin(kind, adminId);
      const secret = totpKeys.decrypt(pending.secret, pendingContext(adminId, 'pending_replacement_secret'));
      return offerFor(adminId, admin.email, secret, 'pending_replacement_secret');
    },

    /**
     * Swaps in the pending secret once a code from the NEW authenticator is right. A wrong code,
     * or a factor that changed since the start, changes nothing. Every session from before is
     * made void first (the revocation marker: a store that fails stops the swap); the caller
     * re-issues its own session and ends the listed others. Recovery codes stay as they are.
     */
    async confirmReplacement(
      kind: AdminKind,
      adminId: string,
      pending: PendingReplacement | undefined,
      code: string,
      request: RequestInfo,
    ): Promise<void> {
      if (!pending)
        throw apiError(
          'mfa.no_enrolment',
          'No new authenticator is waiting for its first code: start the replacement again.',
        );
      const admin = await admins.findById(kind, adminId);
      if (!admin) throw apiError('auth.session_expired');
      if (!admin.mfa_enabled || !admin.totp_secret || enrolledAtOf(admin) !== pending.replacing)
        throw replacementStale();
      const secret = totpKeys.decrypt(pending.secret, pendingContext(adminId, 'pending_replacement_secret'));
      const step = await totp.matchStep(secret, code.replace(/\s+/g, ''));
      if (step === null)
        throw apiError(
          'auth.invalid_code',
          'That code is not from the new authenticator. Nothing was changed: your current authenticator still works. Check that you scanned the code on this page and try the next code the new app shows.',
        );
      const now = new Date(clock.now());
      await revocation.revokeAll(kind, adminId, now.getTime());
      const swapped = await admins.replaceTotp(kind, adminId, {
        expectedSecret: admin.totp_secret,
        secret: totpKeys.encrypt(secret, totpSecretContext(kind, adminId)),
        now,
        step,
      });
      if (!swapped) throw replacementStale();
      // No secret in the record: who, when and from where is what a reviewer needs.
      await audit.record({ ...auditSubject(kind, admin, request), action: 'auth.authenticator_replaced' });
    },

    /** How many unused recovery codes the admin has (shown on their account page). */
    async recoveryCodesLeft(kind: AdminKind, adminId: string): Promise<number> {
      const admin = await admins.findById(kind, adminId);
      if (!admin) throw apiError('auth.session_expired');
      return admin.recovery_code_hashes ? (JSON.parse(admin.recovery_code_hashes) as string[]).length : 0;
    },

    /** A new set of recovery codes replaces every old one (compare-and-set against a code spent meanwhile); shown once. */
    async regenerateRecoveryCodes(kind: AdminKind, adminId: string, request: RequestInfo): Promise<string[]> {
      const admin = await admins.findById(kind, adminId);
      if (!admin) throw apiError('auth.session_expired');
      if (!admin.mfa_enabled)
        throw apiError('mfa.not_enrolled', 'Set up an authenticator first: recovery codes belong to it.');
      const recoveryCodes = generateRecoveryCodes();
      if (
        !(await admins.replaceRecoveryCodes(
          kind,
          adminId,
          admin.recovery_code_hashes,
          JSON.stringify(recoveryCodes.map(hashRecoveryCode)),
        ))
      ) {
        throw apiError(
          'mfa.recovery_codes_changed',
          'Your recovery codes changed meanwhile (one was used). Try again.',
        );
      }
      await audit.record({
        ...auditSubject(kind, admin, request),
        action: 'auth.recovery_codes_regenerated',
        details: { count: recoveryCodes.length },
      });
      return recoveryCodes;
    },
  };
}

export type EnrolmentLibrary = ReturnType<typeof createEnrolmentLibrary>;
