// The key ring: one primary key (encrypts) + previous keys (decrypt only), and what it does with values.
import { createHmac } from 'node:crypto';
import { type EnvelopeContext, envelopeKeyId, hasKeyId, headerPrefix, open, parseEnvelope, seal } from './envelope.js';
import {
  AuthenticationError,
  EnvelopeError,
  KeyConfigError,
  MalformedEnvelopeError,
  NotEncryptedError,
  UnknownKeyError,
  type KeyProblem,
} from './errors.js';
import { checkKey, type Key, type KeySource } from './keys.js';

export interface KeyRingOptions {
  /** e.g. `{ name: 'MFA_RESET_LOG_ENCRYPTION_KEY', value: config.MFA_RESET_LOG_ENCRYPTION_KEY }` */
  primary: KeySource;
  /** e.g. `listedKeys('MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS', config.MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS)` */
  previous?: readonly KeySource[];
}

export type KeyRole = 'primary' | 'previous' | 'unknown';

export type Classification =
  | { kind: 'encrypted'; keyId: string; role: 'primary' | 'previous' }
  | { kind: 'plaintext' }
  | { kind: 'undecryptable'; reason: 'malformed' | 'unknown_key_id' | 'authentication_failed'; keyId?: string };

export interface RewrapOptions {
  /** Also encrypt legacy plaintext (a value without an envelope header). Off by default: plaintext throws. */
  encryptPlaintext?: boolean;
}

export interface KeyRing {
  readonly primaryKeyId: string;
  readonly previousKeyIds: readonly string[];
  roleOf(keyId: string): KeyRole;
  /** Encrypts under the primary key; the result is bound to `ctx`. */
  encrypt(plaintext: string | Uint8Array, ctx: EnvelopeContext): string;
  /** Decrypts to UTF-8 text. Throws NotEncrypted/Malformed/UnknownKey/AuthenticationError. */
  decrypt(value: string, ctx: EnvelopeContext): string;
  /** Decrypts to bytes; same errors as decrypt. */
  decryptBuffer(value: string, ctx: EnvelopeContext): Buffer;
  /** Plaintext, encrypted (authenticated) or undecryptable; never guesses from the alphabet. */
  classify(value: string, ctx: EnvelopeContext): Classification;
  /** Re-encrypts under the primary key; returns `value` itself when it already is (after authenticating it). */
  rewrap(value: string, ctx: EnvelopeContext, options?: RewrapOptions): string;
  /** HMAC-SHA256 (hex) of `data` under the primary key's MAC key, with that key's id. */
  mac(data: string): { keyId: string; tag: string };
  /** HMAC-SHA256 (hex) under the key with this id; null when the ring does not hold it. */
  macWith(keyId: string, data: string): string | null;
}

interface RingKey {
  key: Key;
  role: 'primary' | 'previous';
  /** Precomputed magic + version + key id, copied into every envelope. */
  prefix: Buffer;
}

/** Builds the ring; every bad key is reported at once in one KeyConfigError (never with its value). */
export function createKeyRing(options: KeyRingOptions): KeyRing {
  const problems: KeyProblem[] = [];
  const entries: RingKey[] = [];
  [options.primary, ...(options.previous ?? [])].forEach((source, index) => {
    const checked = checkKey(source);
    if ('rule' in checked) return void problems.push(checked);
    const same = entries.find((entry) => entry.key.keyId === checked.keyId);
    // The same key listed twice (e.g. the primary also in the previous list) is harmless.
    if (same?.key.aesKey.equals(checked.aesKey)) return;
    if (same) {
      return void problems.push({
        variable: source.name,
        rule: 'duplicate_id',
        message: `has the same key id as ${same.key.variable}`,
      });
    }
    entries.push({ key: checked, role: index === 0 ? 'primary' : 'previous', prefix: headerPrefix(checked.idBytes) });
  });
  const primary = entries[0];
  if (problems.length > 0 || !primary) throw new KeyConfigError(problems);

  // Rings hold a handful of keys: a linear scan with in-place compares beats a Map keyed by hex.
  function openEnvelope(value: string, ctx: EnvelopeContext): { entry: RingKey; plaintext: Buffer } {
    const bytes = parseEnvelope(value);
    const entry = entries.find((candidate) => hasKeyId(bytes, candidate.key.idBytes));
    if (!entry) throw new UnknownKeyError(envelopeKeyId(bytes));
    const plaintext = open(entry.key.aesKey, bytes, ctx);
    if (!plaintext) throw new AuthenticationError(entry.key.keyId);
    return { entry, plaintext };
  }

  const encrypt = (plaintext: string | Uint8Array, ctx: EnvelopeContext): string =>
    seal(primary.key.aesKey, primary.prefix, plaintext, ctx);
  const decryptBuffer = (value: string, ctx: EnvelopeContext): Buffer => openEnvelope(value, ctx).plaintext;

  return Object.freeze({
    primaryKeyId: primary.key.keyId,
    previousKeyIds: Object.freeze(entries.slice(1).map((entry) => entry.key.keyId)),
    mac: (data: string) => ({
      keyId: primary.key.keyId,
      tag: createHmac('sha256', primary.key.macKey).update(data).digest('hex'),
    }),
    macWith(keyId: string, data: string): string | null {
      const entry = entries.find((candidate) => candidate.key.keyId === keyId);
      return entry ? createHmac('sha256', entry.key.macKey).update(data).digest('hex') : null;
    },
    roleOf: (keyId: string): KeyRole => entries.find((entry) => entry.key.keyId === keyId)?.role ?? 'unknown',
    encrypt,
    decryptBuffer,
    decrypt: (value: string, ctx: EnvelopeContext): string => decryptBuffer(value, ctx).toString('utf8'),

    classify(value: string, ctx: EnvelopeContext): Classification {
      try {
        const { entry } = openEnvelope(value, ctx);
        return { kind: 'encrypted', keyId: entry.key.keyId, role: entry.role };
      } catch (error) {
        if (!(error instanceof EnvelopeError)) throw error;
        if (error instanceof NotEncryptedError) return { kind: 'plaintext' };
        if (error instanceof MalformedEnvelopeError) return { kind: 'undecryptable', reason: 'malformed' };
        if (error instanceof UnknownKeyError)
          return { kind: 'undecryptable', reason: 'unknown_key_id', keyId: error.keyId };
        if (error instanceof AuthenticationError) {
          return { kind: 'undecryptable', reason: 'authentication_failed', keyId: error.keyId };
        }
        throw error;
      }
    },

    rewrap(value: string, ctx: EnvelopeContext, rewrapOptions: RewrapOptions = {}): string {
      let opened;
      try {
        opened = openEnvelope(value, ctx);
      } catch (error) {
        if (error instanceof NotEncryptedError && rewrapOptions.encryptPlaintext) return encrypt(value, ctx);
        throw error;
      }
      return opened.entry === primary ? value : encrypt(opened.plaintext, ctx);
    },
  });
}
