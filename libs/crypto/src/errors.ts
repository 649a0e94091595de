// Typed errors. Every message names what went wrong and where, never a key or a plaintext.

export type KeyRule = 'missing' | 'encoding' | 'too_short' | 'non_random' | 'duplicate_id';

export interface KeyProblem {
  /** The variable (or list entry) that holds the bad key, e.g. `MFA_RESET_LOG_ENCRYPTION_KEY`. */
  variable: string;
  rule: KeyRule;
  message: string;
}

/** A key failed start-up checks. Lists every problem at once; never contains a key value. */
export class KeyConfigError extends Error {
  readonly code = 'crypto.key_config';
  readonly problems: readonly KeyProblem[];

  constructor(problems: readonly KeyProblem[]) {
    super(problems.map((problem) => `${problem.variable} ${problem.message}`).join('; '));
    this.name = 'KeyConfigError';
    this.problems = problems;
  }
}

export type EnvelopeErrorCode =
  'crypto.not_encrypted' | 'crypto.malformed' | 'crypto.unknown_key_id' | 'crypto.authentication_failed';

/** Base of the four envelope failures; `code` tells them apart as well as the class does. */
export abstract class EnvelopeError extends Error {
  abstract readonly code: EnvelopeErrorCode;
}

/** The value carries no envelope header: it is (legacy) plaintext or something else entirely. */
export class NotEncryptedError extends EnvelopeError {
  readonly code = 'crypto.not_encrypted';
  constructor() {
    super('The value is not an encrypted envelope (no envelope header).');
    this.name = 'NotEncryptedError';
  }
}

/** The value has the envelope magic but cannot be an intact envelope (truncated, bad base64, unknown version). */
export class MalformedEnvelopeError extends EnvelopeError {
  readonly code = 'crypto.malformed';
  constructor(readonly reason: string) {
    super(`The encrypted value is malformed: ${reason}.`);
    this.name = 'MalformedEnvelopeError';
  }
}

/** The envelope names a key id that is not in the key ring (key removed too early, or wrong ring). */
export class UnknownKeyError extends EnvelopeError {
  readonly code = 'crypto.unknown_key_id';
  constructor(readonly keyId: string) {
    super(`The encrypted value names key id ${keyId}, which is not in the key ring.`);
    this.name = 'UnknownKeyError';
  }
}

/** GCM authentication failed: the value was tampered with, or belongs to another table/column/row. */
export class AuthenticationError extends EnvelopeError {
  readonly code = 'crypto.authentication_failed';
  constructor(readonly keyId: string) {
    super(
      `The encrypted value failed authentication under key id ${keyId} (tampered, or another table, column or row).`,
    );
    this.name = 'AuthenticationError';
  }
}
