// @portcullis/crypto: key ring, AES-256-GCM envelope with key id + AAD, rewrap, HMAC helpers, password hashing (argon2id), TOTP (RFC 6238).
export { generateKey, listedKeys, parseKey, MIN_KEY_BYTES, type Key, type KeySource } from './keys.js';
export {
  createKeyRing,
  type Classification,
  type KeyRing,
  type KeyRingOptions,
  type KeyRole,
  type RewrapOptions,
} from './key-ring.js';
export { ENVELOPE_OVERHEAD, ENVELOPE_PREFIX, isEnvelope, keyIdOf, type EnvelopeContext } from './envelope.js';
export { createKeyUsageReport, type KeyUsageReport, type KeyUsageRow, type KeyUsageState } from './usage-report.js';
export { constantTimeEqual, createSessionIdHasher, rememberRecent } from './hashing.js';
export {
  ARGON2_PARAMETERS,
  createPasswordHasher,
  type Argon2Parameters,
  type PasswordHasher,
  type PasswordHasherOptions,
  type PasswordWorkLimits,
} from './passwords.js';
export { createTotp, totpCodeAt, totpStepAt, TotpSecretError, TOTP_PERIOD_SECONDS, type Totp } from './totp.js';
// Every error of the lib is part of its surface: callers tell them apart by class.
export * from './errors.js';
