import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

// Any constant works; it only has to be the same for every replica.
const BOOTSTRAP_LOCK = 7_215_004_117;

/**
 * Inserts the first platform admin when none exists. The transaction-scoped advisory lock makes
 * replicas that start together take turns, so exactly one inserts; the others see the row.
 */
export async function insertFirstPlatformAdmin(
  db: Knex,
  fields: { email: string; passwordHash: string; now: Date },
): Promise<string | null> {
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [BOOTSTRAP_LOCK]);
    const existing = await trx('platform_admins').first('id');
    if (existing) return null;
    const id = randomUUID();
    await trx('platform_admins').insert({
      id,
      email: fields.email,
      password_hash: fields.passwordHash,
      mfa_enabled: false,
      must_change_password: true,
      failed_attempts: 0,
      created_at: fields.now,
      updated_at: fields.now,
    });
    return id;
  });
}
