import { createHash } from 'node:crypto';
import {
  AuthenticationError,
  createKeyRing,
  ENVELOPE_OVERHEAD,
  generateKey,
  isEnvelope,
  keyIdOf,
  MalformedEnvelopeError,
  NotEncryptedError,
  UnknownKeyError,
  type EnvelopeContext,
  type KeyRing,
} from '@portcullis/crypto';

const ringOf = (key: string, previous: string[] = []): KeyRing =>
  createKeyRing({
    primary: { name: 'KEY', value: key },
    previous: previous.map((value, i) => ({ name: `OLD_${i}`, value })),
  });

const ctx: EnvelopeContext = { table: 'tenant_admin_mfa_reset_logs', column: 'previous_totp_secret', rowId: '42' };
const ring = ringOf(generateKey());
const decoded = (value: string): Buffer => Buffer.from(value, 'base64');
const encoded = (bytes: Buffer): string => bytes.toString('base64');

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

describe('envelope round trip', () => {
  it.each([
    ['a TOTP secret', 'JBSWY3DPEHPK3PXP'],
    ['unicode text', 'ünïcødé ✓ 秘密'],
    ['an empty string', ''],
  ])('decrypts %s back to the same text', (_label, plaintext) => {
    expect(ring.decrypt(ring.encrypt(plaintext, ctx), ctx)).toBe(plaintext);
  });

  it('decrypts bytes back to the same bytes, with numeric and text row ids meaning the same row', () => {
    const bytes = Buffer.from([0, 255, 1, 254, 0]);
    expect(ring.decryptBuffer(ring.encrypt(bytes, { ...ctx, rowId: 42 }), ctx)).toEqual(bytes);
    expect(ring.decryptBuffer(ring.encrypt(bytes, { ...ctx, rowId: 42n }), ctx)).toEqual(bytes);
  });

  it('lays out magic, version, key id, length, IV, ciphertext and tag as documented', () => {
    const value = ring.encrypt('0123456789', ctx);
    const bytes = decoded(value);
    expect(value.startsWith('PCv1')).toBe(true);
    expect([...bytes.subarray(0, 3)]).toEqual([0x3c, 0x2b, 0xf5]);
    expect(bytes.toString('hex', 3, 9)).toBe(ring.primaryKeyId);
    expect(bytes.readUInt32BE(9)).toBe(10);
    expect(bytes).toHaveLength(ENVELOPE_OVERHEAD + 10);
    expect(ENVELOPE_OVERHEAD).toBe(13 + 12 + 16);
    expect(value).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
  });

  it('gives 10,000 distinct ciphertexts for 10,000 encryptions of the same plaintext', () => {
    const values = new Set<string>();
    const ivs = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const value = ring.encrypt('same plaintext', ctx);
      values.add(value);
      ivs.add(decoded(value).toString('hex', 13, 25));
    }
    expect(values.size).toBe(10_000);
    expect(ivs.size).toBe(10_000);
  });
});

describe('envelope inspection without a key', () => {
  it('tells an envelope (any version) from plaintext by its magic, and reads its key id', () => {
    const value = ring.encrypt('secret', ctx);
    expect(isEnvelope(value)).toBe(true);
    expect(keyIdOf(value)).toBe(ring.primaryKeyId);
    const otherVersion = decoded(value);
    otherVersion[2] = 0xf6;
    expect(isEnvelope(encoded(otherVersion))).toBe(true);
    const otherMagic = decoded(value);
    otherMagic[1] = 0x2c;
    expect(isEnvelope(encoded(otherMagic))).toBe(false);
    // Base32 TOTP secrets, JSON and short text are valid-looking base64 but not envelopes.
    for (const plaintext of ['JBSWY3DPEHPK3PXP', '{"a":1}', '', 'PCv', 'true'])
      expect(isEnvelope(plaintext)).toBe(false);
  });
});

describe('envelope failures, each with its own typed error', () => {
  it('refuses a value encrypted under a key that is not in the ring: unknown key id', () => {
    const other = ringOf(generateKey());
    const error = thrown(() => ring.decrypt(other.encrypt('secret', ctx), ctx));
    expect(error).toBeInstanceOf(UnknownKeyError);
    expect(error).toMatchObject({ code: 'crypto.unknown_key_id', keyId: other.primaryKeyId });
  });

  it('refuses a value from another key relabelled with a ring key id: authentication failure', () => {
    const bytes = decoded(ringOf(generateKey()).encrypt('secret', ctx));
    Buffer.from(ring.primaryKeyId, 'hex').copy(bytes, 3);
    const error = thrown(() => ring.decrypt(encoded(bytes), ctx));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ code: 'crypto.authentication_failed', keyId: ring.primaryKeyId });
  });

  it('refuses a value that is not an envelope: not encrypted', () => {
    for (const value of ['', 'JBSWY3DPEHPK3PXP', '{"a":1}']) {
      expect(thrown(() => ring.decrypt(value, ctx))).toBeInstanceOf(NotEncryptedError);
    }
    expect(thrown(() => ring.decrypt('', ctx))).toMatchObject({ code: 'crypto.not_encrypted' });
  });

  it('refuses a flipped bit in every byte of the envelope, with the error that fits the field', () => {
    const bytes = decoded(ring.encrypt('a 24-byte TOTP secret!!!', ctx));
    const expected = (position: number): abstract new (...args: never[]) => Error => {
      if (position < 2) return NotEncryptedError; // magic gone: indistinguishable from plaintext
      if (position < 3) return MalformedEnvelopeError; // unsupported version
      if (position < 9) return UnknownKeyError; // key id no longer names a ring key
      if (position < 13) return MalformedEnvelopeError; // length no longer matches
      return AuthenticationError; // IV, ciphertext, tag
    };
    let checked = 0;
    for (let position = 0; position < bytes.length; position++) {
      for (let bit = 0; bit < 8; bit++) {
        const tampered = Buffer.from(bytes);
        tampered[position]! ^= 1 << bit;
        const error = thrown(() => ring.decrypt(encoded(tampered), ctx));
        expect([position, bit, error]).toEqual([position, bit, expect.any(expected(position))]);
        checked++;
      }
    }
    expect(checked).toBe(8 * (ENVELOPE_OVERHEAD + 24));
  });

  it.each([
    ['another row id', { ...ctx, rowId: '43' }],
    ['another column', { ...ctx, column: 'previous_recovery_codes' }],
    ['another table', { ...ctx, table: 'tenant_admins' }],
    ['shifted field boundaries', { table: `${ctx.table}p`, column: ctx.column.slice(1), rowId: ctx.rowId }],
  ])('refuses a value copied to %s: authentication failure', (_label, otherContext) => {
    const value = ring.encrypt('secret', ctx);
    expect(thrown(() => ring.decrypt(value, otherContext))).toBeInstanceOf(AuthenticationError);
  });

  it('refuses every truncation of the text and of the bytes, and an extended value: malformed', () => {
    const value = ring.encrypt('a value to cut short', ctx);
    for (let length = 4; length < value.length; length++) {
      expect([length, thrown(() => ring.decrypt(value.slice(0, length), ctx))]).toEqual([
        length,
        expect.any(MalformedEnvelopeError),
      ]);
    }
    const bytes = decoded(value);
    for (let length = 3; length < bytes.length; length++) {
      const cut = encoded(bytes.subarray(0, length));
      expect([length, thrown(() => ring.decrypt(cut, ctx))]).toEqual([length, expect.any(MalformedEnvelopeError)]);
    }
    const longer = encoded(Buffer.concat([bytes, Buffer.from([0])]));
    expect(thrown(() => ring.decrypt(longer, ctx))).toMatchObject({ code: 'crypto.malformed' });
  });

  it('refuses envelope text that is not strict base64: malformed', () => {
    const value = ring.encrypt('secret', ctx);
    for (const altered of [`${value}\n`, value.replace(/=*$/, ''), `${value.slice(0, 10)}-${value.slice(11)}`]) {
      expect(thrown(() => ring.decrypt(altered, ctx))).toBeInstanceOf(MalformedEnvelopeError);
    }
  });

  it('refuses an incomplete context instead of binding to it', () => {
    const value = ring.encrypt('secret', ctx);
    expect(() => ring.encrypt('secret', { ...ctx, rowId: '' })).toThrow(TypeError);
    expect(() => ring.decrypt(value, { ...ctx, table: '' })).toThrow(TypeError);
  });

  it('keeps plaintext and keys out of every error message', () => {
    const key = generateKey();
    const keyed = ringOf(key);
    const value = keyed.encrypt('TOPSECRETVALUE', ctx);
    const messages = [
      thrown(() => keyed.decrypt(value, { ...ctx, rowId: 'x' })),
      thrown(() => keyed.decrypt(value.slice(0, 30), ctx)),
      thrown(() => ring.decrypt(value, ctx)),
    ].map((error) => (error as Error).message);
    for (const message of messages) {
      expect(message).not.toContain('TOPSECRETVALUE');
      expect(message).not.toContain(key);
      expect(message).not.toContain(createHash('sha256').update(key).digest('hex'));
    }
  });
});
