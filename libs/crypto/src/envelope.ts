// The envelope format: header + IV + AES-256-GCM ciphertext + tag, stored as standard base64.
//
//   offset  bytes  field
//   0       2      magic 0x3C 0x2B
//   2       1      format version, 0xF5 = v1 (so every v1 value's text starts with "PCv1")
//   3       6      key id (first 6 bytes of SHA-256 of the key)
//   9       4      plaintext length, uint32 big-endian (truncation is told apart from tampering)
//   13      12     IV, random per value
//   25      n      ciphertext
//   25+n    16     GCM tag
//
// Associated data = the 13 header bytes + length-prefixed table, column and row id, so a changed
// header or a value copied to another table, column or row fails authentication.
import { createCipheriv, createDecipheriv, randomFillSync, type KeyObject } from 'node:crypto';
import { MalformedEnvelopeError, NotEncryptedError } from './errors.js';
import { KEY_ID_BYTES } from './keys.js';

/** Where a value lives. Row ids compare as text: 42 and '42' are the same row. */
export interface EnvelopeContext {
  table: string;
  column: string;
  rowId: string | number | bigint;
}

const MAGIC = [0x3c, 0x2b] as const;
const VERSION_1 = 0xf5;
/** The first 3 bytes (magic + version) are exactly the first 4 base64 characters. */
export const ENVELOPE_PREFIX = 'PCv1';
const KEY_ID_OFFSET = 3;
const LENGTH_OFFSET = KEY_ID_OFFSET + KEY_ID_BYTES;
const HEADER_LENGTH = LENGTH_OFFSET + 4;
/** Base64 characters that hold magic + version + key id (4 characters per 3 bytes). */
const KEY_ID_CHARS = Math.ceil(LENGTH_OFFSET / 3) * 4;
const IV_LENGTH = 12;
const BODY_OFFSET = HEADER_LENGTH + IV_LENGTH;
const TAG_LENGTH = 16;
export const ENVELOPE_OVERHEAD = BODY_OFFSET + TAG_LENGTH;
const ALGORITHM = 'aes-256-gcm';
const BASE64_GROUP = /^[A-Za-z0-9+/]{4}/;

// IVs come from a 6 KiB pool of CSPRNG bytes refilled when used up (as crypto.randomUUID does);
// every 12-byte slice is used once. A randomFillSync call per value cost ~3.6 µs of a 15 µs
// encrypt on the shared 2-core box; with the pool `npm run bench -- crypto` went from
// envelope/raw 0.74 to 0.87-0.93. IVs are public, so keeping the pool in memory leaks nothing.
const ivPool = Buffer.allocUnsafeSlow(IV_LENGTH * 512);
let ivPoolOffset = ivPool.length;

function writeIv(target: Buffer, at: number): void {
  if (ivPoolOffset === ivPool.length) {
    randomFillSync(ivPool);
    ivPoolOffset = 0;
  }
  ivPool.copy(target, at, ivPoolOffset, ivPoolOffset + IV_LENGTH);
  ivPoolOffset += IV_LENGTH;
}

/** Magic + version + key id: computed once per key so encrypt only copies it. */
export function headerPrefix(idBytes: Buffer): Buffer {
  return Buffer.from([...MAGIC, VERSION_1, ...idBytes]);
}

/** Encrypts under one key. Hot path: one output buffer, precomputed header, pooled IV, no JSON. */
export function seal(aesKey: KeyObject, prefix: Buffer, plaintext: string | Uint8Array, ctx: EnvelopeContext): string {
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const out = Buffer.allocUnsafe(ENVELOPE_OVERHEAD + data.length);
  prefix.copy(out, 0);
  out.writeUInt32BE(data.length, LENGTH_OFFSET);
  writeIv(out, HEADER_LENGTH);
  const cipher = createCipheriv(ALGORITHM, aesKey, out.subarray(HEADER_LENGTH, BODY_OFFSET), {
    authTagLength: TAG_LENGTH,
  });
  cipher.setAAD(associatedData(out, ctx));
  // GCM is a stream mode: update() returns every ciphertext byte and final() returns none.
  cipher.update(data).copy(out, BODY_OFFSET);
  cipher.final();
  cipher.getAuthTag().copy(out, BODY_OFFSET + data.length);
  return out.toString('base64');
}

/**
 * Structural checks only (no key needed): returns the decoded bytes of a well-formed v1 envelope,
 * throws NotEncryptedError without the magic, MalformedEnvelopeError when it cannot be intact.
 */
export function parseEnvelope(value: string): Buffer {
  if (!value.startsWith(ENVELOPE_PREFIX)) {
    throw hasMagic(value) ? new MalformedEnvelopeError('unsupported format version') : new NotEncryptedError();
  }
  const bytes = Buffer.from(value, 'base64');
  // Buffer.from skips stray characters; the round trip makes decoding strict.
  if (bytes.toString('base64') !== value)
    throw new MalformedEnvelopeError('not canonical base64 (truncated or altered text)');
  if (bytes.length < ENVELOPE_OVERHEAD) throw new MalformedEnvelopeError('shorter than an empty envelope (truncated)');
  if (bytes.length !== ENVELOPE_OVERHEAD + bytes.readUInt32BE(LENGTH_OFFSET)) {
    throw new MalformedEnvelopeError('length does not match its header (truncated or extended)');
  }
  return bytes;
}

/**
 * True when the value starts with the envelope magic (decoded, not guessed from the alphabet),
 * whatever the version byte says: exactly the values a key ring does not call plaintext. No
 * throw, so a plaintext value costs no error (a throw with its stack trace costs ~3 µs).
 */
export function isEnvelope(value: string): boolean {
  return value.startsWith(ENVELOPE_PREFIX) || hasMagic(value);
}

/** The header's key id as hex, read from its first base64 characters (no full decode). */
export function keyIdOf(value: string): string {
  return Buffer.from(value.slice(0, KEY_ID_CHARS), 'base64').toString('hex', KEY_ID_OFFSET, LENGTH_OFFSET);
}

export function envelopeKeyId(bytes: Buffer): string {
  return bytes.toString('hex', KEY_ID_OFFSET, LENGTH_OFFSET);
}

/** Compares in place: no slice, no hex string on the hot path. */
export function hasKeyId(bytes: Buffer, idBytes: Buffer): boolean {
  return bytes.compare(idBytes, 0, KEY_ID_BYTES, KEY_ID_OFFSET, LENGTH_OFFSET) === 0;
}

/** Decrypts a parsed envelope; null when GCM authentication fails. */
export function open(aesKey: KeyObject, bytes: Buffer, ctx: EnvelopeContext): Buffer | null {
  const tagOffset = bytes.length - TAG_LENGTH;
  const decipher = createDecipheriv(ALGORITHM, aesKey, bytes.subarray(HEADER_LENGTH, BODY_OFFSET), {
    authTagLength: TAG_LENGTH,
  });
  decipher.setAuthTag(bytes.subarray(tagOffset));
  decipher.setAAD(associatedData(bytes, ctx));
  const plaintext = decipher.update(bytes.subarray(BODY_OFFSET, tagOffset));
  try {
    decipher.final();
  } catch {
    return null;
  }
  return plaintext;
}

/** Header bytes, then table, column and row id each as uint32 length + UTF-8 (unambiguous). */
function associatedData(envelope: Buffer, ctx: EnvelopeContext): Buffer {
  const { table, column } = ctx;
  const rowId = typeof ctx.rowId === 'string' ? ctx.rowId : String(ctx.rowId ?? '');
  if (!table || !column || !rowId) throw new TypeError('An envelope context needs a table, a column and a row id.');
  const tableLength = Buffer.byteLength(table);
  const columnLength = Buffer.byteLength(column);
  const rowIdLength = Buffer.byteLength(rowId);
  const aad = Buffer.allocUnsafe(HEADER_LENGTH + 12 + tableLength + columnLength + rowIdLength);
  envelope.copy(aad, 0, 0, HEADER_LENGTH);
  let at = aad.writeUInt32BE(tableLength, HEADER_LENGTH);
  at += aad.write(table, at);
  at = aad.writeUInt32BE(columnLength, at);
  at += aad.write(column, at);
  at = aad.writeUInt32BE(rowIdLength, at);
  aad.write(rowId, at);
  return aad;
}

/** True when the first 16 bits are the magic, whatever the version byte says. */
function hasMagic(value: string): boolean {
  if (!BASE64_GROUP.test(value)) return false;
  const head = Buffer.from(value.slice(0, 4), 'base64');
  return head[0] === MAGIC[0] && head[1] === MAGIC[1];
}
