// The previous factor of a reset, as mfa-admin reads and restores it. The reset log's format
// (columns, encryption context, sealing) belongs to @portcullis/mfa-reset-log; `previous_totp_secret`
// keeps the admin's totp_secret column as it was: normally already an envelope of the
// MFA_SECRET_ENCRYPTION_KEY ring, so the reset never handles the TOTP secret in clear; legacy rows
// may hold it in plaintext.
import { apiError } from '@portcullis/http';
import { EnvelopeError, type KeyRing } from '@portcullis/crypto';
import {
  openPrevious as openSealed,
  UnreadablePreviousValueError,
  type PreviousValues,
} from '@portcullis/mfa-reset-log';
import type { FactorColumns, TenantAdminRow } from '../queries/tenant-admins.js';

const liveSecretContext = (adminId: string) => ({ table: 'tenant_admins', column: 'totp_secret', rowId: adminId });

const TRUE_TEXTS = new Set(['true', 't', '1', 'yes']);

/** The admin's factor columns in their reset-log text form (null stays null). */
export function previousTexts(admin: TenantAdminRow): PreviousValues {
  return {
    previous_totp_secret: admin.totp_secret,
    previous_mfa_enabled: String(admin.mfa_enabled),
    previous_mfa_enrolled_at: admin.mfa_enrolled_at ? new Date(admin.mfa_enrolled_at).toISOString() : null,
    previous_totp_last_used_step: admin.totp_last_used_step === null ? null : String(admin.totp_last_used_step),
    previous_recovery_code_hashes: admin.recovery_code_hashes,
  };
}

const unreadable = (detail: string) =>
  apiError(
    'mfa.previous_factor_unreadable',
    `The previous factor of this reset cannot be decrypted (${detail}); nothing was changed. See docs/key-rotation.md.`,
  );

/** Decrypts previous_*; legacy plaintext (from before encryption) is read as it is. */
export function openPrevious(ring: KeyRing, logId: string, row: PreviousValues): PreviousValues {
  try {
    return openSealed(ring, logId, row);
  } catch (error) {
    if (error instanceof UnreadablePreviousValueError) throw unreadable(error.message);
    throw error;
  }
}

/**
 * The admin columns to write back. The TOTP secret is the same one (so the same authenticator
 * works); it is re-encrypted under the current primary MFA_SECRET_ENCRYPTION_KEY when it was
 * under an older key or in plaintext, and refused when the live ring cannot read it.
 */
export function factorColumns(totpKeys: KeyRing, adminId: string, texts: PreviousValues): FactorColumns {
  let secret = texts.previous_totp_secret;
  if (secret !== null) {
    try {
      secret = totpKeys.rewrap(secret, liveSecretContext(adminId), { encryptPlaintext: true });
    } catch (error) {
      if (error instanceof EnvelopeError) throw unreadable(`totp_secret under the live key ring: ${error.code}`);
      throw error;
    }
  }
  return {
    totp_secret: secret,
    mfa_enabled: TRUE_TEXTS.has((texts.previous_mfa_enabled ?? '').toLowerCase()),
    mfa_enrolled_at: texts.previous_mfa_enrolled_at,
    totp_last_used_step: texts.previous_totp_last_used_step,
    recovery_code_hashes: texts.previous_recovery_code_hashes,
  };
}
