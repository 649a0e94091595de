// The one TOTP of the services and the CLI: RFC 6238's own vectors, an authenticator written
// independently (test/support/authenticator.ts), the ±1 step window, replay cut-off, and secrets
// that never reach an error message.
import { createTotp, totpCodeAt, totpStepAt, TotpSecretError, TOTP_PERIOD_SECONDS } from '@portcullis/crypto';
import { totpCode } from '../../../test/support/authenticator.js';

// RFC 6238 appendix B: the SHA-1 key "12345678901234567890" (base32 below), codes cut to 6 digits.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const RFC_VECTORS: [seconds: number, code: string][] = [
  [59, '287082'],
  [1111111109, '081804'],
  [1111111111, '050471'],
  [1234567890, '005924'],
  [2000000000, '279037'],
];
const OTHER_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

it('gives the codes of RFC 6238 (HMAC-SHA1, 6 digits, 30 s steps)', () => {
  expect(TOTP_PERIOD_SECONDS).toBe(30);
  for (const [seconds, code] of RFC_VECTORS) {
    expect(totpStepAt(seconds * 1000)).toBe(Math.floor(seconds / 30));
    expect(totpCodeAt(RFC_SECRET, totpStepAt(seconds * 1000))).toBe(code);
  }
});

it('agrees with an authenticator written without otplib, padding and case aside', () => {
  const step = totpStepAt(Date.now());
  for (const offset of [-1, 0, 1, 1000]) {
    expect(totpCodeAt(OTHER_SECRET, step + offset)).toBe(totpCode(OTHER_SECRET, step + offset));
  }
  expect(totpCodeAt(`${RFC_SECRET.toLowerCase()}====`, 1)).toBe(totpCode(RFC_SECRET, 1));
});

it('matches codes within one step either side, and only for their own secret', async () => {
  const now = Date.now();
  const step = totpStepAt(now);
  const totp = createTotp({ now: () => now });
  expect(await totp.matchStep(RFC_SECRET, totpCode(RFC_SECRET, step), undefined)).toBe(step);
  expect(await totp.matchStep(RFC_SECRET, totpCode(RFC_SECRET, step - 1))).toBe(step - 1);
  expect(await totp.matchStep(RFC_SECRET, totpCode(RFC_SECRET, step + 1))).toBe(step + 1);
  expect(await totp.matchStep(RFC_SECRET, totpCode(RFC_SECRET, step - 2))).toBeNull();
  expect(await totp.matchStep(RFC_SECRET, totpCode(RFC_SECRET, step + 2))).toBeNull();
  expect(await totp.matchStep(OTHER_SECRET, totpCode(RFC_SECRET, step))).toBeNull();
});

it('refuses a step at or before the last one used, and anything but six digits', async () => {
  const now = Date.now();
  const step = totpStepAt(now);
  const totp = createTotp({ now: () => now });
  expect(await totp.matchStep(RFC_SECRET, totpCode(RFC_SECRET, step), step)).toBeNull();
  expect(await totp.matchStep(RFC_SECRET, totpCode(RFC_SECRET, step), step - 1)).toBe(step);
  expect(await totp.matchStep(RFC_SECRET, ` ${totpCode(RFC_SECRET, step)}`)).toBeNull();
  expect(await totp.matchStep(RFC_SECRET, totpCode(RFC_SECRET, step).slice(1))).toBeNull();
});

it('makes 20-byte base32 secrets and otpauth URIs an authenticator app reads', async () => {
  const totp = createTotp({ now: () => 0 }, 'Portcullis Test');
  const secret = totp.newSecret();
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  expect(totp.newSecret()).not.toBe(secret);
  const uri = new URL(totp.uri(secret, 'ops@example.com'));
  expect(uri.protocol).toBe('otpauth:');
  expect(uri.searchParams.get('secret')).toBe(secret);
  expect(uri.searchParams.get('issuer')).toBe('Portcullis Test');
  expect(await totp.matchStep(secret, totpCode(secret, 0))).toBe(0);
});

it('says a secret is unreadable without quoting any of it', async () => {
  const totp = createTotp({ now: () => Date.now() });
  for (const secret of ['not base32 at all, QQQQ', 'JBSWY3DPEHPK3PXP' /* 10 bytes */]) {
    expect(() => totpCodeAt(secret, 1)).toThrow(TotpSecretError);
    const error = await totp.matchStep(secret, '123456').catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TotpSecretError);
    expect((error as Error).message).toBe('the TOTP secret is not base32 of at least 16 bytes');
  }
});
