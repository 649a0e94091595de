// Sensitive detail fields of an audit event, encrypted with the audit details key ring.
// Each field is bound (AAD) to its chain position and field name, so a sealed value copied to
// another event or field fails to open. The hash chain covers the ciphertext: verifying the
// chain needs no key.
import type { KeyRing } from '@portcullis/crypto';

export const SEALED_KEY = 'sealed';
/** What readers see for a sealed field they cannot open (no key configured, or key removed). */
export const UNREADABLE = '[sealed]';

export const sealedContext = (chainKey: string, seq: number | string, field: string) => ({
  table: 'audit_events',
  column: `details.${SEALED_KEY}.${field}`,
  rowId: `${chainKey}:${seq}`,
});

export class MissingDetailsKeyError extends Error {
  constructor() {
    super('This audit event carries sealed details but no AUDIT_DETAILS_ENCRYPTION_KEY is configured.');
    this.name = 'MissingDetailsKeyError';
  }
}

/** `details` with the sealed fields encrypted under `details.sealed`; refuses to store them in clear. */
export function sealDetails(
  ring: KeyRing | undefined,
  chainKey: string,
  seq: number,
  details: Record<string, unknown>,
  sealed: Record<string, string> | undefined,
): Record<string, unknown> {
  const entries = Object.entries(sealed ?? {});
  if (entries.length === 0) return details;
  if (!ring) throw new MissingDetailsKeyError();
  const encrypted = Object.fromEntries(
    entries.map(([field, value]) => [field, ring.encrypt(value, sealedContext(chainKey, seq, field))]),
  );
  return { ...details, [SEALED_KEY]: encrypted };
}

/**
 * The details as a reader sees them: sealed fields opened when the ring can, `[sealed]` when it
 * cannot. Never throws for a bad value: an unreadable field must not hide the rest of the log.
 */
export function openDetails(
  ring: KeyRing | undefined,
  chainKey: string,
  seq: number | string,
  details: Record<string, unknown>,
): Record<string, unknown> {
  const sealed = details[SEALED_KEY];
  if (!sealed || typeof sealed !== 'object' || Array.isArray(sealed)) return details;
  const { [SEALED_KEY]: _omitted, ...rest } = details;
  for (const [field, value] of Object.entries(sealed as Record<string, unknown>)) {
    rest[field] =
      typeof value === 'string' && ring ? tryOpen(ring, value, sealedContext(chainKey, seq, field)) : UNREADABLE;
  }
  return rest;
}

function tryOpen(ring: KeyRing, value: string, context: ReturnType<typeof sealedContext>): string {
  try {
    return ring.decrypt(value, context);
  } catch {
    return UNREADABLE;
  }
}
