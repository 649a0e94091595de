import QRCode from 'qrcode';
import { apiError } from '@portcullis/http';
import type { AuditWriter } from '@portcullis/audit';
import type { KeyRing } from '@portcullis/crypto';
import type { AdminKind } from '@portcullis/session-auth';
import { tableOf, type AdminQueries } from '../queries/admins.js';
import { generateRecoveryCodes, hashRecoveryCode } from './recovery-codes.js';
import { auditSubject, type RequestInfo } from './sign-in.js';
import type { Totp } from './totp.js';

/** The secret waiting for its first code lives in the session, encrypted and bound to the admin. */
const pendingContext = (adminId: string) => ({ table: 'sessions', column: 'pending_totp_secret', rowId: adminId });

export interface EnrolmentOffer {
  otpauthUri: string;
  qrCodeDataUrl: string;
  /** For manual entry; shown only on the enrolment page/response, never logged. */
  secret: string;
  pendingSecret: string;
}

export function createEnrolmentLibrary(deps: {
  admins: AdminQueries;
  totp: Totp;
  totpKeys: KeyRing;
  audit: AuditWriter;
  clock: { now(): number };
}) {
  const { admins, totp, totpKeys, audit, clock } = deps;

  async function offerFor(adminId: string, email: string, secret: string): Promise<EnrolmentOffer> {
    const otpauthUri = totp.uri(secret, email);
    return {
      otpauthUri,
      qrCodeDataUrl: await QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: 'M', margin: 2 }),
      secret,
      pendingSecret: totpKeys.encrypt(secret, pendingContext(adminId)),
    };
  }

  return {
    /** A new secret, or the one already pending in this session (reloading the page keeps the QR). */
    async offer(kind: AdminKind, adminId: string, pendingSecret: string | undefined): Promise<EnrolmentOffer> {
      const admin = await admins.findById(kind, adminId);
      if (!admin) throw apiError('auth.session_expired');
      if (admin.mfa_enabled)
        throw apiError('mfa.already_enrolled', 'An authenticator is already enrolled. A platform admin can reset it.');
      const secret = pendingSecret ? totpKeys.decrypt(pendingSecret, pendingContext(adminId)) : totp.newSecret();
      return offerFor(adminId, admin.email, secret);
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
        secret: totpKeys.encrypt(secret, { table: tableOf(kind), column: 'totp_secret', rowId: adminId }),
        recoveryCodeHashes: JSON.stringify(recoveryCodes.map(hashRecoveryCode)),
        now: new Date(clock.now()),
        step,
      });
      await audit.record({ ...auditSubject(kind, admin, request), action: 'auth.mfa_enrolled' });
      return recoveryCodes;
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
