// The format of tenant_admin_mfa_reset_logs' previous_* values, owned here alone: the table, the
// columns, the encryption context (AAD) each value is bound to, and how a value is sealed and
// read. mfa-admin writes and rolls back with it; the reset-log jobs and the CLI read it.
// A value is told apart by one authenticated decrypt: plaintext, under the primary or a previous
// key, or unreadable (never "looks like base64": a base32 TOTP secret is valid base64).
import {
  AuthenticationError,
  EnvelopeError,
  isEnvelope,
  keyIdOf,
  MalformedEnvelopeError,
  NotEncryptedError,
  UnknownKeyError,
  type EnvelopeErrorCode,
  type KeyRing,
} from '@portcullis/crypto';

export const RESET_LOG_TABLE = 'tenant_admin_mfa_reset_logs';
export const PREVIOUS_COLUMNS = [
  'previous_totp_secret',
  'previous_mfa_enabled',
  'previous_mfa_enrolled_at',
  'previous_totp_last_used_step',
  'previous_recovery_code_hashes',
] as const;
export type PreviousColumn = (typeof PREVIOUS_COLUMNS)[number];
export type PreviousValues = Record<PreviousColumn, string | null>;

/** The AAD each value is bound to: table, column and the log row id. */
export const valueContext = (column: PreviousColumn, rowId: string) => ({ table: RESET_LOG_TABLE, column, rowId });

/** Encrypts each non-null text under the ring's primary key, bound to its column and log row. */
export function sealPrevious(ring: KeyRing, logId: string, texts: PreviousValues): PreviousValues {
  const sealed = {} as PreviousValues;
  for (const column of PREVIOUS_COLUMNS) {
    const value = texts[column];
    sealed[column] = value === null ? null : ring.encrypt(value, valueContext(column, logId));
  }
  return sealed;
}

/** A previous_* value the ring cannot read; carries the column and the envelope error code, never the value. */
export class UnreadablePreviousValueError extends Error {
  constructor(
    readonly column: PreviousColumn,
    readonly code: EnvelopeErrorCode,
  ) {
    super(`${column}: ${code}`);
    this.name = 'UnreadablePreviousValueError';
  }
}

/** Decrypts previous_*; legacy plaintext (from before encryption) is read as it is. */
export function openPrevious(ring: KeyRing, logId: string, row: PreviousValues): PreviousValues {
  const opened = {} as PreviousValues;
  for (const column of PREVIOUS_COLUMNS) {
    const value = row[column];
    const context = valueContext(column, logId);
    if (value === null || ring.classify(value, context).kind === 'plaintext') {
      opened[column] = value;
      continue;
    }
    try {
      opened[column] = ring.decrypt(value, context);
    } catch (error) {
      if (error instanceof EnvelopeError) throw new UnreadablePreviousValueError(column, error.code);
      throw error;
    }
  }
  return opened;
}

export type OpenedValue =
  | { kind: 'plaintext' }
  | { kind: 'encrypted'; keyId: string; role: 'primary' | 'previous'; plaintext: Buffer }
  | { kind: 'undecryptable'; reason: 'malformed' | 'unknown_key_id' | 'authentication_failed'; keyId: string };

/**
 * One value as the jobs see it. The magic is checked first so that plaintext, all of a legacy
 * table, costs no thrown error.
 */
export function openValue(ring: KeyRing, value: string, context: ReturnType<typeof valueContext>): OpenedValue {
  if (!isEnvelope(value)) return { kind: 'plaintext' };
  try {
    const plaintext = ring.decryptBuffer(value, context);
    const keyId = keyIdOf(value);
    return { kind: 'encrypted', keyId, role: ring.roleOf(keyId) === 'primary' ? 'primary' : 'previous', plaintext };
  } catch (error) {
    return unopened(error);
  }
}

/** What an error of the key ring says about a value it could not open; any other error is thrown again. */
export function unopened(error: unknown): Exclude<OpenedValue, { kind: 'encrypted' }> {
  if (!(error instanceof EnvelopeError)) throw error;
  if (error instanceof NotEncryptedError) return { kind: 'plaintext' };
  if (error instanceof UnknownKeyError) return { kind: 'undecryptable', reason: 'unknown_key_id', keyId: error.keyId };
  if (error instanceof AuthenticationError)
    return { kind: 'undecryptable', reason: 'authentication_failed', keyId: error.keyId };
  if (error instanceof MalformedEnvelopeError) return { kind: 'undecryptable', reason: 'malformed', keyId: 'none' };
  throw error;
}
