// How a previous_* value of tenant_admin_mfa_reset_logs is read: one authenticated decrypt
// tells plaintext, a value under the primary or a previous key, and an unreadable value apart
// (never "looks like base64": a base32 TOTP secret is valid base64).
import { AuthenticationError, ENVELOPE_PREFIX, EnvelopeError, MalformedEnvelopeError, NotEncryptedError, UnknownKeyError, type KeyRing } from '@portcullis/crypto';

export const RESET_LOG_TABLE = 'tenant_admin_mfa_reset_logs';
export const PREVIOUS_COLUMNS = ['previous_totp_secret', 'previous_mfa_enabled', 'previous_mfa_enrolled_at', 'previous_totp_last_used_step', 'previous_recovery_code_hashes'] as const;
export type PreviousColumn = (typeof PREVIOUS_COLUMNS)[number];

/** The AAD mfa-admin binds each value to: table, column and the log row id. */
export const valueContext = (column: PreviousColumn, rowId: string) => ({ table: RESET_LOG_TABLE, column, rowId });

export type OpenedValue =
  | { kind: 'plaintext' }
  | { kind: 'encrypted'; keyId: string; role: 'primary' | 'previous'; plaintext: Buffer }
  | { kind: 'undecryptable'; reason: 'malformed' | 'unknown_key_id' | 'authentication_failed'; keyId: string };

/** Key id of an envelope from its header: 9 bytes = the first 12 base64 characters. */
export const headerKeyId = (value: string) => Buffer.from(value.slice(0, 12), 'base64').toString('hex', 3, 9);

/**
 * True when the value starts with the envelope magic (decoded, not guessed from the alphabet):
 * exactly the values the ring would not call plaintext. Checked first so that plaintext, all of
 * a legacy table, costs no thrown error (a throw with its stack trace cost ~3 µs per value).
 */
function hasEnvelopeMagic(value: string): boolean {
  if (value.startsWith(ENVELOPE_PREFIX)) return true;
  if (!/^[A-Za-z0-9+/]{4}/.test(value)) return false;
  const head = Buffer.from(value.slice(0, 4), 'base64');
  return head[0] === 0x3c && head[1] === 0x2b;
}

export function openValue(ring: KeyRing, value: string, context: ReturnType<typeof valueContext>): OpenedValue {
  if (!hasEnvelopeMagic(value)) return { kind: 'plaintext' };
  try {
    const plaintext = ring.decryptBuffer(value, context);
    const keyId = headerKeyId(value);
    return { kind: 'encrypted', keyId, role: ring.roleOf(keyId) === 'primary' ? 'primary' : 'previous', plaintext };
  } catch (error) {
    if (!(error instanceof EnvelopeError)) throw error;
    if (error instanceof NotEncryptedError) return { kind: 'plaintext' };
    if (error instanceof UnknownKeyError) return { kind: 'undecryptable', reason: 'unknown_key_id', keyId: error.keyId };
    if (error instanceof AuthenticationError) return { kind: 'undecryptable', reason: 'authentication_failed', keyId: error.keyId };
    if (error instanceof MalformedEnvelopeError) return { kind: 'undecryptable', reason: 'malformed', keyId: 'none' };
    throw error;
  }
}
