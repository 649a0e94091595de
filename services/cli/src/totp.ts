// RFC 6238 as auth-session accepts codes (HMAC-SHA1, 6 digits, 30 s steps, ±1 step), for the
// commands that act as or check an authenticator: break-glass checks an approver's code, the
// drill signs in. On node:crypto: the CLI takes no TOTP dependency for ~20 lines.
import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const STEP_MS = 30_000;

const isBase32 = (secret: string) =>
  secret.length > 0 && [...secret.replace(/=+$/, '').toUpperCase()].every((char) => BASE32.includes(char));

/** The step a time falls in. */
export const totpStepAt = (ms: number): number => Math.floor(ms / STEP_MS);

/** The code an authenticator shows for `step`. */
export function totpCodeAt(secret: string, step: number): string {
  if (!isBase32(secret)) throw new Error('the TOTP secret is not base32');
  const bits = [...secret.replace(/=+$/, '').toUpperCase()]
    .map((char) => BASE32.indexOf(char).toString(2).padStart(5, '0'))
    .join('');
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', Buffer.from((bits.match(/.{8}/g) ?? []).map((byte) => parseInt(byte, 2))))
    .update(counter)
    .digest();
  const offset = mac[mac.length - 1]! & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** The step (now, one before or one after) whose code this is, or null. Replay protection is the caller's. */
export function matchTotpStep(secret: string, code: string, nowMs: number): number | null {
  if (!/^\d{6}$/.test(code) || !isBase32(secret)) return null;
  const now = totpStepAt(nowMs);
  return [now - 1, now, now + 1].find((step) => totpCodeAt(secret, step) === code) ?? null;
}
