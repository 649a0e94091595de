// Key usage report: feed it every stored value; it shows how many still need an old key (or none).
import type { EnvelopeContext } from './envelope.js';
import type { Classification, KeyRing } from './key-ring.js';

/** Mirrors the labels of the `mfa_reset_log_values{key_id,state}` metric. */
export type KeyUsageState = 'primary' | 'previous' | 'unknown' | 'plaintext' | 'undecryptable';

export interface KeyUsageRow {
  /** Hex key id, or 'none' for plaintext and for values whose header cannot be read. */
  keyId: string;
  state: KeyUsageState;
  count: number;
}

export interface KeyUsageReport {
  /** Classifies (and authenticates) one value and counts it. */
  add(value: string, ctx: EnvelopeContext): Classification;
  /**
   * Every ring key appears, with count 0 when unused, so "zero rows under the old key id" is a row
   * that reads 0 rather than a missing one; likewise 'plaintext' and 'undecryptable'.
   */
  rows(): KeyUsageRow[];
  readonly total: number;
  /** Values that are not under the primary key: the rotation is finished when this is 0. */
  readonly remaining: number;
}

export function createKeyUsageReport(ring: KeyRing): KeyUsageReport {
  const counts = new Map<string, KeyUsageRow>();
  const seed = (keyId: string, state: KeyUsageState): void =>
    void counts.set(`${state}/${keyId}`, { keyId, state, count: 0 });
  const bump = (keyId: string, state: KeyUsageState): void => {
    const key = `${state}/${keyId}`;
    if (!counts.has(key)) seed(keyId, state);
    counts.get(key)!.count += 1;
  };
  seed(ring.primaryKeyId, 'primary');
  ring.previousKeyIds.forEach((keyId) => seed(keyId, 'previous'));
  seed('none', 'plaintext');
  seed('none', 'undecryptable');
  let total = 0;

  return {
    add(value, ctx) {
      const result = ring.classify(value, ctx);
      total += 1;
      if (result.kind === 'encrypted') bump(result.keyId, result.role);
      else if (result.kind === 'plaintext') bump('none', 'plaintext');
      else if (result.reason === 'unknown_key_id') bump(result.keyId ?? 'none', 'unknown');
      else bump(result.keyId ?? 'none', 'undecryptable');
      return result;
    },
    rows: () => [...counts.values()].map((row) => ({ ...row })),
    get total() {
      return total;
    },
    get remaining() {
      return total - (counts.get(`primary/${ring.primaryKeyId}`)?.count ?? 0);
    },
  };
}
