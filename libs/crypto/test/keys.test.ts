import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { createKeyRing, generateKey, KeyConfigError, listedKeys, parseKey, type KeyRule } from '@portcullis/crypto';

const VARIABLE = 'MFA_RESET_LOG_ENCRYPTION_KEY';

function refusal(text: string | undefined, variable = VARIABLE): KeyConfigError {
  try {
    parseKey(variable, text);
  } catch (error) {
    if (error instanceof KeyConfigError) return error;
    throw error;
  }
  throw new Error('the key was accepted');
}

/** Valid base64 whose unused trailing bits are set: Buffer.from decodes it, strict parsing must not. */
function nonCanonicalBase64(bytes: Buffer): string {
  const text = bytes.toString('base64'); // 32 bytes → 43 characters + '='; the 43rd has 2 unused bits
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const last = alphabet.indexOf(text[42]!);
  return text.slice(0, 42) + alphabet[last + 1] + '=';
}

describe('parseKey', () => {
  it('accepts a 32-byte base64 key and derives its id from the key (first 6 bytes of SHA-256)', () => {
    const bytes = randomBytes(32);
    const key = parseKey(VARIABLE, bytes.toString('base64'));
    expect(key.keyId).toBe(createHash('sha256').update(bytes).digest('hex').slice(0, 12));
    expect(key.variable).toBe(VARIABLE);
  });

  it('reads 64 hex characters as hex, giving the same key id as the same bytes in base64', () => {
    const bytes = randomBytes(32);
    expect(parseKey(VARIABLE, bytes.toString('hex')).keyId).toBe(parseKey(VARIABLE, bytes.toString('base64')).keyId);
    expect(parseKey(VARIABLE, bytes.toString('hex').toUpperCase()).keyId).toBe(
      parseKey(VARIABLE, bytes.toString('hex')).keyId,
    );
  });

  it('accepts keys longer than 32 bytes and ignores surrounding whitespace such as a trailing newline', () => {
    const bytes = randomBytes(48);
    expect(parseKey(VARIABLE, ` ${bytes.toString('base64')}\n`).keyId).toBe(
      parseKey(VARIABLE, bytes.toString('hex')).keyId,
    );
  });

  it('never shows key material when the key object is logged', () => {
    const text = generateKey();
    const printed = inspect(parseKey(VARIABLE, text), { depth: 10 }) + JSON.stringify(parseKey(VARIABLE, text));
    expect(printed).not.toContain(text);
    expect(printed).not.toContain(Buffer.from(text, 'base64').toString('hex'));
  });

  const zeros = Buffer.alloc(32);
  const refused: [string, string | undefined, KeyRule][] = [
    ['an unset key', undefined, 'missing'],
    ['an empty key', '  ', 'missing'],
    ['a 16-byte base64 key', randomBytes(16).toString('base64'), 'too_short'],
    ['a 31-byte hex key', randomBytes(31).toString('hex'), 'too_short'],
    ['an all-zero base64 key', zeros.toString('base64'), 'non_random'],
    ['an all-zero hex key', zeros.toString('hex'), 'non_random'],
    ['a single repeated byte', Buffer.alloc(32, 0xab).toString('base64'), 'non_random'],
    ['a repeated short pattern (8 distinct bytes)', '0123456789abcdef'.repeat(4), 'non_random'],
    ['base64url', Buffer.concat([Buffer.from([0xfb, 0xff]), randomBytes(31)]).toString('base64url'), 'encoding'],
    ['base64 without its padding', randomBytes(32).toString('base64').replace(/=+$/, ''), 'encoding'],
    ['base64 with extra padding', `${randomBytes(33).toString('base64')}==`, 'encoding'],
    ['base64 with non-zero trailing bits', nonCanonicalBase64(randomBytes(32)), 'encoding'],
    [
      'base64 with inner whitespace',
      `${randomBytes(33).toString('base64').slice(0, 20)} ${randomBytes(33).toString('base64').slice(20)}`,
      'encoding',
    ],
    ['odd-length hex with a stray character', `${randomBytes(32).toString('hex')}g`, 'encoding'],
    ['a passphrase', 'correct horse battery staple, but longer!', 'encoding'],
  ];

  it.each(refused)('refuses %s, naming the variable and the rule but not the value', (_label, text, rule) => {
    const error = refusal(text);
    expect(error.problems).toEqual([expect.objectContaining({ variable: VARIABLE, rule })]);
    expect(error.message).toContain(VARIABLE);
    expect(error.code).toBe('crypto.key_config');
    if (text?.trim()) {
      expect(error.message).not.toContain(text.trim());
      expect(error.message).not.toContain(text.trim().slice(0, 8));
    }
  });

  it('explains which rule broke in words', () => {
    expect(refusal(randomBytes(16).toString('base64')).message).toMatch(/too short: 16 bytes, at least 32/);
    expect(refusal(zeros.toString('base64')).message).toMatch(/non-random/);
    expect(refusal('not a key!').message).toMatch(/neither hex nor standard padded base64/);
  });
});

describe('generateKey', () => {
  it('returns a fresh base64 32-byte key that parseKey accepts', () => {
    const first = generateKey();
    const second = generateKey();
    expect(Buffer.from(first, 'base64')).toHaveLength(32);
    expect(first).not.toBe(second);
    expect(parseKey(VARIABLE, first).keyId).not.toBe(parseKey(VARIABLE, second).keyId);
  });
});

describe('listedKeys', () => {
  it('splits a comma-separated list, trims entries, skips empty ones and numbers them for errors', () => {
    const [a, b] = [generateKey(), generateKey()];
    expect(listedKeys('PREVIOUS', ` ${a}, ,${b} `)).toEqual([
      { name: 'PREVIOUS (entry 1)', value: a },
      { name: 'PREVIOUS (entry 2)', value: b },
    ]);
    expect(listedKeys('PREVIOUS', [a])).toEqual([{ name: 'PREVIOUS (entry 1)', value: a }]);
    expect(listedKeys('PREVIOUS', undefined)).toEqual([]);
  });
});

describe('createKeyRing', () => {
  it('has one primary key and any number of previous keys, known by their ids', () => {
    const [primary, old1, old2] = [generateKey(), generateKey(), generateKey()];
    const ring = createKeyRing({
      primary: { name: VARIABLE, value: primary },
      previous: listedKeys('PREVIOUS', `${old1},${old2}`),
    });
    expect(ring.primaryKeyId).toBe(parseKey('X', primary).keyId);
    expect(ring.previousKeyIds).toEqual([parseKey('X', old1).keyId, parseKey('X', old2).keyId]);
    expect(ring.roleOf(ring.primaryKeyId)).toBe('primary');
    expect(ring.roleOf(parseKey('X', old2).keyId)).toBe('previous');
    expect(ring.roleOf(parseKey('X', generateKey()).keyId)).toBe('unknown');
  });

  it('reports every bad key at once, each by its variable or list entry', () => {
    const short = randomBytes(8).toString('base64');
    const error = (() => {
      try {
        createKeyRing({
          primary: { name: VARIABLE, value: short },
          previous: listedKeys('PREVIOUS', [generateKey(), allZeroHex()]),
        });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(KeyConfigError);
    const { problems, message } = error as KeyConfigError;
    expect(problems.map((problem) => [problem.variable, problem.rule])).toEqual([
      [VARIABLE, 'too_short'],
      ['PREVIOUS (entry 2)', 'non_random'],
    ]);
    expect(message).not.toContain(short);
  });

  it('accepts the primary key listed again among the previous keys', () => {
    const key = generateKey();
    const ring = createKeyRing({ primary: { name: VARIABLE, value: key }, previous: listedKeys('PREVIOUS', key) });
    expect(ring.previousKeyIds).toEqual([]);
  });
});

function allZeroHex(): string {
  return Buffer.alloc(32).toString('hex');
}
