import { randomBytes } from 'node:crypto';
import {
  AuthenticationError,
  createKeyRing,
  createKeyUsageReport,
  generateKey,
  NotEncryptedError,
  UnknownKeyError,
  type EnvelopeContext,
  type KeyRing,
} from '@portcullis/crypto';

const [oldKey, newKey] = [generateKey(), generateKey()];
const oldRing = createKeyRing({ primary: { name: 'MFA_RESET_LOG_ENCRYPTION_KEY', value: oldKey } });
// After the rotation deploy: the new key encrypts, the old one still decrypts.
const ring = createKeyRing({
  primary: { name: 'MFA_RESET_LOG_ENCRYPTION_KEY', value: newKey },
  previous: [{ name: 'MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS (entry 1)', value: oldKey }],
});
const strangerRing: KeyRing = createKeyRing({ primary: { name: 'OTHER', value: generateKey() } });
const ctx: EnvelopeContext = { table: 'tenant_admin_mfa_reset_logs', column: 'previous_totp_secret', rowId: 7 };

function base32(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
  return bits
    .match(/.{1,5}/g)!
    .map((chunk) => alphabet[parseInt(chunk.padEnd(5, '0'), 2)])
    .join('');
}

describe('classify', () => {
  const base32Secrets = [
    'JBSWY3DPEHPK3PXP',
    'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
    'KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF',
    'AAAAAAAAAAAAAAAA',
    'PCV1PCV1PCV1PCV1', // an uppercase look-alike of the envelope prefix
    ...Array.from({ length: 50 }, () => base32(randomBytes(20))),
  ];

  it('treats base32 TOTP secrets as plaintext even though they are valid base64', () => {
    expect(Buffer.from('JBSWY3DPEHPK3PXP', 'base64').toString('base64')).toBe('JBSWY3DPEHPK3PXP');
    for (const secret of base32Secrets)
      expect([secret, ring.classify(secret, ctx)]).toEqual([secret, { kind: 'plaintext' }]);
  });

  it.each(['', '{}', '{"secret":"JBSWY3DPEHPK3PXP","digits":6}', '[1,2]', 'null', '"PCv1"'])(
    'treats %j as plaintext',
    (value) => {
      expect(ring.classify(value, ctx)).toEqual({ kind: 'plaintext' });
    },
  );

  it('recognises real envelopes by authenticating them, under the primary or a previous key', () => {
    expect(ring.classify(ring.encrypt('JBSWY3DPEHPK3PXP', ctx), ctx)).toEqual({
      kind: 'encrypted',
      keyId: ring.primaryKeyId,
      role: 'primary',
    });
    expect(ring.classify(oldRing.encrypt('JBSWY3DPEHPK3PXP', ctx), ctx)).toEqual({
      kind: 'encrypted',
      keyId: oldRing.primaryKeyId,
      role: 'previous',
    });
    expect(ring.classify(ring.encrypt('', ctx), ctx)).toMatchObject({ kind: 'encrypted' });
  });

  it('calls an envelope it cannot open undecryptable, with the reason and the key id when readable', () => {
    const value = ring.encrypt('secret', ctx);
    expect(ring.classify(value, { ...ctx, rowId: 8 })).toEqual({
      kind: 'undecryptable',
      reason: 'authentication_failed',
      keyId: ring.primaryKeyId,
    });
    expect(ring.classify(strangerRing.encrypt('secret', ctx), ctx)).toEqual({
      kind: 'undecryptable',
      reason: 'unknown_key_id',
      keyId: strangerRing.primaryKeyId,
    });
    expect(ring.classify(value.slice(0, -4), ctx)).toEqual({ kind: 'undecryptable', reason: 'malformed' });
    const nextVersion = Buffer.from(value, 'base64');
    nextVersion[2] = 0xf6; // "PCv2"
    expect(ring.classify(nextVersion.toString('base64'), ctx)).toEqual({ kind: 'undecryptable', reason: 'malformed' });
    // Plaintext that happens to start like an envelope is never served as plaintext nor as encrypted.
    expect(ring.classify('PCv1 is our prefix', ctx)).toEqual({ kind: 'undecryptable', reason: 'malformed' });
  });
});

describe('rewrap', () => {
  it('decrypts a value under a previous key and re-encrypts it under the primary key', () => {
    const before = oldRing.encrypt('JBSWY3DPEHPK3PXP', ctx);
    expect(ring.decrypt(before, ctx)).toBe('JBSWY3DPEHPK3PXP');
    const after = ring.rewrap(before, ctx);
    expect(after).not.toBe(before);
    expect(ring.classify(after, ctx)).toEqual({ kind: 'encrypted', keyId: ring.primaryKeyId, role: 'primary' });
    expect(ring.decrypt(after, ctx)).toBe('JBSWY3DPEHPK3PXP');
    expect(() => oldRing.decrypt(after, ctx)).toThrow(UnknownKeyError);
  });

  it('returns the identical string for a value already under the primary key', () => {
    const value = ring.encrypt('JBSWY3DPEHPK3PXP', ctx);
    expect(ring.rewrap(value, ctx)).toBe(value);
  });

  it('authenticates before leaving a value alone, so a tampered or moved value is not waved through', () => {
    const value = ring.encrypt('secret', ctx);
    expect(() => ring.rewrap(value, { ...ctx, rowId: 8 })).toThrow(AuthenticationError);
    expect(() => ring.rewrap(strangerRing.encrypt('secret', ctx), ctx)).toThrow(UnknownKeyError);
  });

  it('refuses legacy plaintext unless asked to encrypt it', () => {
    expect(() => ring.rewrap('JBSWY3DPEHPK3PXP', ctx)).toThrow(NotEncryptedError);
    const encrypted = ring.rewrap('JBSWY3DPEHPK3PXP', ctx, { encryptPlaintext: true });
    expect(ring.decrypt(encrypted, ctx)).toBe('JBSWY3DPEHPK3PXP');
  });
});

describe('key usage report', () => {
  it('counts values by key id and state, and reads zero for the old key once everything is rewrapped', () => {
    const rows = Array.from({ length: 6 }, (_, i) => ({ ...ctx, rowId: i }));
    const stored = [
      oldRing.encrypt('a', rows[0]!),
      oldRing.encrypt('b', rows[1]!),
      ring.encrypt('c', rows[2]!),
      'JBSWY3DPEHPK3PXP',
      strangerRing.encrypt('e', rows[4]!),
      ring.encrypt('f', rows[0]!), // stored in the wrong row
    ];
    const before = createKeyUsageReport(ring);
    stored.forEach((value, i) => before.add(value, rows[i]!));
    expect(before.rows().sort(byState)).toEqual(
      [
        { keyId: ring.primaryKeyId, state: 'primary', count: 1 },
        { keyId: oldRing.primaryKeyId, state: 'previous', count: 2 },
        { keyId: 'none', state: 'plaintext', count: 1 },
        { keyId: ring.primaryKeyId, state: 'undecryptable', count: 1 },
        { keyId: 'none', state: 'undecryptable', count: 0 },
        { keyId: strangerRing.primaryKeyId, state: 'unknown', count: 1 },
      ].sort(byState),
    );
    expect([before.total, before.remaining]).toEqual([6, 5]);

    const after = createKeyUsageReport(ring);
    stored
      .slice(0, 4)
      .forEach((value, i) => after.add(ring.rewrap(value, rows[i]!, { encryptPlaintext: true }), rows[i]!));
    expect(after.rows().sort(byState)).toEqual(
      [
        { keyId: ring.primaryKeyId, state: 'primary', count: 4 },
        { keyId: oldRing.primaryKeyId, state: 'previous', count: 0 },
        { keyId: 'none', state: 'plaintext', count: 0 },
        { keyId: 'none', state: 'undecryptable', count: 0 },
      ].sort(byState),
    );
    expect(after.remaining).toBe(0);
  });
});

function byState(a: { state: string; keyId: string }, b: { state: string; keyId: string }): number {
  return a.state.localeCompare(b.state) || a.keyId.localeCompare(b.keyId);
}
