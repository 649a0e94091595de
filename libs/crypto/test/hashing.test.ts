import { createHmac, hkdfSync } from 'node:crypto';
import { constantTimeEqual, createSessionIdHasher, KeyConfigError, rememberRecent } from '@portcullis/crypto';

const secret = 'a-session-secret-of-at-least-32-characters';

describe('createSessionIdHasher', () => {
  it('returns HMAC-SHA256 hex of the id under a key derived from SESSION_SECRET', () => {
    const hash = createSessionIdHasher(secret);
    const derived = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'portcullis/session-id-hash/v1', 32));
    expect(hash('session-1')).toBe(createHmac('sha256', derived).update('session-1').digest('hex'));
    expect(hash('session-1')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is stable for one id and differs between ids, secrets and from a plain HMAC of the secret', () => {
    const hash = createSessionIdHasher(secret);
    expect(hash('abc')).toBe(createSessionIdHasher(Buffer.from(secret))('abc'));
    expect(hash('abc')).not.toBe(hash('abd'));
    expect(hash('abc')).not.toBe(createSessionIdHasher(`${secret}!`)('abc'));
    expect(hash('abc')).not.toBe(createHmac('sha256', secret).update('abc').digest('hex'));
  });

  it('refuses a secret shorter than 32 bytes, naming the variable but not the value', () => {
    const short = 'short-secret-value';
    expect(() => createSessionIdHasher(short)).toThrow(KeyConfigError);
    expect(() => createSessionIdHasher(short)).toThrow(/^SESSION_SECRET is too short/);
    expect(() => createSessionIdHasher(short, 'SESSION_SECRET (entry 2)')).toThrow(/entry 2/);
    try {
      createSessionIdHasher(short);
    } catch (error) {
      expect((error as Error).message).not.toContain(short);
    }
  });
});

describe('constantTimeEqual', () => {
  it.each([
    ['equal strings', 'token-123', 'token-123', true],
    ['equal empty strings', '', '', true],
    ['a string and the same bytes', 'token', Buffer.from('token'), true],
    ['same length, last character differs', 'token-123', 'token-124', false],
    ['a prefix', 'token', 'token-123', false],
    ['empty and non-empty', '', 'x', false],
    ['different lengths of bytes', Buffer.alloc(16), Buffer.alloc(17), false],
  ])('compares %s', (_label, a, b, equal) => {
    expect(constantTimeEqual(a, b)).toBe(equal);
    expect(constantTimeEqual(b, a)).toBe(equal);
  });
});

describe('rememberRecent', () => {
  it('answers a recent input without calling again, and forgets the oldest beyond its size', () => {
    const calls: string[] = [];
    const upper = rememberRecent((input: string) => {
      calls.push(input);
      return input.toUpperCase();
    }, 2);
    expect([upper('a'), upper('b'), upper('a')]).toEqual(['A', 'B', 'A']);
    expect(calls).toEqual(['a', 'b']);
    upper('c'); // forgets 'a', the oldest
    expect([upper('b'), upper('a')]).toEqual(['B', 'A']);
    expect(calls).toEqual(['a', 'b', 'c', 'a']);
  });

  it('gives the session-id hasher the same digest for a remembered id as for a new one', () => {
    const hash = createSessionIdHasher('s'.repeat(32));
    const again = createSessionIdHasher('s'.repeat(32));
    const first = hash('id-1');
    expect(hash('id-1')).toBe(first);
    expect(again('id-1')).toBe(first);
    expect(hash('id-2')).not.toBe(first);
  });
});
