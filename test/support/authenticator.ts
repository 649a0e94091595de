// The authenticator app of the end-to-end tests and the soak: RFC 6238 TOTP (HMAC-SHA1, 6 digits,
// 30 s steps) from a base32 secret. Written with node:crypto rather than borrowed from the
// services' library (otplib), so a client independent of it cannot agree with one of its mistakes.
import { createHmac } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(secret: string): Buffer {
  const bits = [...secret.replace(/=+$/, '').toUpperCase()]
    .map((char) => {
      const value = ALPHABET.indexOf(char);
      if (value < 0) throw new Error('the TOTP secret is not base32');
      return value.toString(2).padStart(5, '0');
    })
    .join('');
  return Buffer.from((bits.match(/.{8}/g) ?? []).map((byte) => parseInt(byte, 2)));
}

/** The code of time step `step` (Unix seconds / 30). */
export function totpCode(secret: string, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** The code an authenticator shows now. */
export const totpNow = (secret: string): string => totpCode(secret, Math.floor(Date.now() / 30_000));
