// Hashing helpers: session-id HMAC, constant-time comparison.
import { createHash, createHmac, createSecretKey, hkdfSync, timingSafeEqual } from 'node:crypto';
import { KeyConfigError } from './errors.js';

const MIN_SECRET_BYTES = 32;
const SESSION_ID_HASH_INFO = 'portcullis/session-id-hash/v1';

/**
 * Returns id → HMAC-SHA256 hex digest, keyed from one SESSION_SECRET. The HMAC key is derived with
 * HKDF (its own label) so hashing ids never uses the exact key that signs cookies. The key is
 * imported once as a KeyObject: the hot path only runs createHmac/update/digest.
 */
export function createSessionIdHasher(
  secret: string | Uint8Array,
  variable = 'SESSION_SECRET',
): (sessionId: string) => string {
  const bytes = Buffer.from(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new KeyConfigError([
      { variable, rule: 'too_short', message: `is too short: at least ${MIN_SECRET_BYTES} bytes are required` },
    ]);
  }
  const derived = Buffer.from(hkdfSync('sha256', bytes, Buffer.alloc(0), SESSION_ID_HASH_INFO, 32));
  const key = createSecretKey(derived);
  bytes.fill(0);
  derived.fill(0);
  return rememberRecent((sessionId) => createHmac('sha256', key).update(sessionId).digest('hex'));
}

/**
 * `fn` remembering its last `size` results (oldest forgotten first): a session's cookie is
 * verified and its id hashed on every request, and each HMAC (a new OpenSSL context) cost more
 * than the rest of the session read. Only for pure functions of secret-keyed input; an entry
 * holds what the process saw in a request anyway.
 */
export function rememberRecent<V>(fn: (input: string) => V, size = 4096): (input: string) => V {
  const recent = new Map<string, V>();
  return (input) => {
    const known = recent.get(input);
    if (known !== undefined) return known;
    const value = fn(input);
    if (recent.size >= size) recent.delete(recent.keys().next().value!);
    recent.set(input, value);
    return value;
  };
}

/**
 * Equality without an early exit, for inputs of any length: both sides are hashed to 32 bytes
 * first, so timingSafeEqual always compares equal lengths (it throws otherwise) and the time
 * does not depend on where the inputs differ. Only the hashing time depends on input length.
 */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

const sha256 = (input: string | Uint8Array): Buffer => createHash('sha256').update(input).digest();
