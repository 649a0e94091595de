// Key parsing: text from a variable → a checked Key whose id is derived from the key itself.
import { createHash, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { KeyConfigError, type KeyProblem } from './errors.js';

export const MIN_KEY_BYTES = 32;
/** Id length: 6 bytes (12 hex chars) keeps the envelope header small; collisions are checked per ring. */
export const KEY_ID_BYTES = 6;
/**
 * 32 uniformly random bytes show about 30 distinct values; fewer than 16 happens with
 * probability ~3e-17, so below that the text is a pattern or a password, not a random key.
 */
const MIN_DISTINCT_BYTES = 16;
const HEX = /^[0-9a-fA-F]+$/;
const ENVELOPE_KEY_INFO = 'portcullis/envelope/aes-256-gcm/v1';
const MAC_KEY_INFO = 'portcullis/mac/hmac-sha256/v1';

/** Where a key comes from: the variable name (used in errors) and its text (never shown). */
export interface KeySource {
  name: string;
  value: string | undefined;
}

/** A checked key. The raw bytes are not kept; `aesKey` is a KeyObject (it never prints its bytes). */
export interface Key {
  /** First 6 bytes of SHA-256 of the decoded key, as 12 hex characters. */
  readonly keyId: string;
  readonly idBytes: Buffer;
  readonly variable: string;
  /** AES-256 key derived with HKDF-SHA256, so keys longer than 32 bytes work too. */
  readonly aesKey: KeyObject;
  /** HMAC-SHA256 key derived with HKDF-SHA256 under another label: independent of `aesKey`. */
  readonly macKey: KeyObject;
}

/** A fresh random 32-byte key as base64 (the same shape `openssl rand -base64 32` prints). */
export function generateKey(): string {
  return randomBytes(MIN_KEY_BYTES).toString('base64');
}

/** Checks one key; throws KeyConfigError naming `variable` and the broken rule (never the value). */
export function parseKey(variable: string, text: string | undefined): Key {
  const result = checkKey({ name: variable, value: text });
  if ('rule' in result) throw new KeyConfigError([result]);
  return result;
}

/**
 * Names the entries of a comma-separated key list (or an already split one) so that an error
 * says which entry is bad: `MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS (entry 2)`.
 */
export function listedKeys(name: string, values: string | readonly string[] | undefined): KeySource[] {
  const list = typeof values === 'string' ? values.split(',') : (values ?? []);
  return list
    .map((value) => value.trim())
    .filter((value) => value !== '')
    .map((value, index) => ({ name: `${name} (entry ${index + 1})`, value }));
}

/** Like parseKey, but returns the problem instead of throwing, so a ring can report all at once. */
export function checkKey(source: KeySource): Key | KeyProblem {
  const variable = source.name;
  const problem = (rule: KeyProblem['rule'], message: string): KeyProblem => ({ variable, rule, message });
  const text = (source.value ?? '').trim();
  if (text === '') return problem('missing', 'is empty or not set (generate a key with: openssl rand -base64 32)');

  const raw = decodeKeyText(text);
  if (!raw) return problem('encoding', 'is neither hex nor standard padded base64');
  try {
    if (raw.length < MIN_KEY_BYTES) {
      return problem(
        'too_short',
        `is too short: ${raw.length} bytes, at least ${MIN_KEY_BYTES} random bytes are required`,
      );
    }
    const distinct = new Set(raw).size;
    if (distinct === 1) return problem('non_random', 'looks non-random: every byte has the same value');
    if (distinct < MIN_DISTINCT_BYTES) {
      return problem('non_random', `looks non-random: only ${distinct} distinct byte values in ${raw.length} bytes`);
    }
    const idBytes = createHash('sha256').update(raw).digest().subarray(0, KEY_ID_BYTES);
    const derived = Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), ENVELOPE_KEY_INFO, 32));
    const aesKey = createSecretKey(derived);
    derived.fill(0);
    const derivedMac = Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), MAC_KEY_INFO, 32));
    const macKey = createSecretKey(derivedMac);
    derivedMac.fill(0);
    return { keyId: idBytes.toString('hex'), idBytes, variable, aesKey, macKey };
  } finally {
    raw.fill(0);
  }
}

/**
 * Hex or base64, decided without ambiguity:
 * - hex when the text is only hex digits with an even length (`openssl rand -hex 32`: 64 chars).
 *   Hex digits are base64 characters too, so hex wins; a random base64 key made only of hex digits
 *   and no padding has probability < (22/64)^44 ≈ 1e-20, and would then fail the length rule.
 * - otherwise strict standard base64: the decoded bytes must re-encode to exactly the same text.
 *   That refuses base64url (-, _), missing or extra padding, inner whitespace and stray characters,
 *   which Buffer.from(text, 'base64') would silently skip.
 * Returns null when the text is neither.
 */
function decodeKeyText(text: string): Buffer | null {
  if (text.length % 2 === 0 && HEX.test(text)) return Buffer.from(text, 'hex');
  const bytes = Buffer.from(text, 'base64');
  return bytes.length > 0 && bytes.toString('base64') === text ? bytes : null;
}
