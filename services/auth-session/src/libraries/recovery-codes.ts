import { createHash, randomInt } from 'node:crypto';
import { constantTimeEqual } from '@portcullis/crypto';

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'; // no 0/o, 1/l/i: read aloud and typed by hand
export const RECOVERY_CODE_COUNT = 10;

/** 10 codes of 12 characters (about 59 bits each), shown once as xxxx-xxxx-xxxx. */
export function generateRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const raw = Array.from({ length: 12 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
    return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}`;
  });
}

const normalise = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, '');

/** SHA-256 is enough here: the codes are long random strings, not passwords. */
export const hashRecoveryCode = (code: string) => createHash('sha256').update(normalise(code)).digest('hex');

/** The stored list without the used code, or null when the code is not one of them. */
export function spendRecoveryCode(storedJson: string | null, code: string): string | null {
  if (!storedJson || normalise(code).length !== 12) return null;
  const hashes = JSON.parse(storedJson) as string[];
  const candidate = hashRecoveryCode(code);
  const index = hashes.findIndex((stored) => constantTimeEqual(stored, candidate));
  if (index < 0) return null;
  return JSON.stringify(hashes.filter((_, position) => position !== index));
}

export const looksLikeRecoveryCode = (code: string) => normalise(code).length === 12;
