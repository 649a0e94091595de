import fc from 'fast-check';
import { AuthenticationError, createKeyRing, generateKey, type EnvelopeContext } from '@portcullis/crypto';

const ring = createKeyRing({
  primary: { name: 'KEY', value: generateKey() },
  previous: [{ name: 'OLD', value: generateKey() }],
});
const name = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
const context: fc.Arbitrary<EnvelopeContext> = fc.record({
  table: name,
  column: name,
  rowId: fc.oneof(name, fc.nat(), fc.bigInt({ min: 0n, max: 2n ** 64n })),
});
const sameContext = (a: EnvelopeContext, b: EnvelopeContext): boolean =>
  a.table === b.table && a.column === b.column && String(a.rowId) === String(b.rowId);

describe('envelope properties', () => {
  it('round-trips arbitrary bytes in arbitrary contexts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), context, (bytes, ctx) => {
        expect(ring.decryptBuffer(ring.encrypt(bytes, ctx), ctx)).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), context, (text, ctx) => {
        expect(ring.decrypt(ring.encrypt(text, ctx), ctx)).toBe(text);
      }),
    );
  });

  it('fails authentication under any other context', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), context, context, (bytes, ctx, other) => {
        fc.pre(!sameContext(ctx, other));
        expect(() => ring.decryptBuffer(ring.encrypt(bytes, ctx), other)).toThrow(AuthenticationError);
      }),
      { numRuns: 500 },
    );
  });
});

describe('classify properties', () => {
  const strings = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.base64String({ maxLength: 200 }),
    fc.stringMatching(/^[A-Z2-7]{16,64}$/), // base32 TOTP secrets
    fc.json(),
    // Looks like an envelope: the prefix followed by arbitrary bytes, valid base64 throughout.
    fc.uint8Array({ minLength: 41, maxLength: 200 }).map((bytes) => {
      bytes.set([0x3c, 0x2b, 0xf5]);
      return Buffer.from(bytes).toString('base64');
    }),
  );

  it('never calls an arbitrary non-envelope string encrypted', () => {
    fc.assert(
      fc.property(strings, context, (value, ctx) => {
        expect(ring.classify(value, ctx).kind).not.toBe('encrypted');
      }),
      { numRuns: 2000 },
    );
  });

  it('calls every string without the envelope magic plaintext', () => {
    fc.assert(
      fc.property(strings, context, (value, ctx) => {
        fc.pre(!/^PC[s-v]/.test(value));
        expect(ring.classify(value, ctx)).toEqual({ kind: 'plaintext' });
      }),
      { numRuns: 2000 },
    );
  });

  it('calls every real envelope encrypted in its own context', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), context, (bytes, ctx) => {
        expect(ring.classify(ring.encrypt(bytes, ctx), ctx)).toEqual({
          kind: 'encrypted',
          keyId: ring.primaryKeyId,
          role: 'primary',
        });
      }),
    );
  });
});
