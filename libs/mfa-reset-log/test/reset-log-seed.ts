// Test data for the reset-log jobs: a migrated database with one tenant and admin, and reset-log
// rows whose previous_* values the test chooses (plaintext, or sealed as mfa-admin seals them).
import { randomBytes, randomUUID } from 'node:crypto';
import knex, { type Knex } from 'knex';
import { createKeyRing, type KeyRing } from '@portcullis/crypto';
import { migrateLatest } from '@portcullis/migrations';
import { sealPrevious, type PreviousValues } from '@portcullis/mfa-reset-log';
import { testPostgres, type TestDatabase } from '../../../test/support/index.js';

export type Previous = PreviousValues;

export const ringOf = (primary: string, ...previous: string[]): KeyRing =>
  createKeyRing({
    primary: { name: 'MFA_RESET_LOG_ENCRYPTION_KEY', value: primary },
    previous: previous.map((value, index) => ({
      name: `MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS (entry ${index + 1})`,
      value,
    })),
  });
export const newKey = () => randomBytes(32).toString('base64');

/** Legacy plaintext as production has it; base32 TOTP secrets are valid base64 too. */
export const legacyValues = (n: number): Previous => ({
  previous_totp_secret: ['JBSWY3DPEHPK3PXP', 'ABCDEFGHIJKLMNOP', 'GEZDGNBVGY3TQOJQ', 'MFRGGZDFMZTWQ2LK'][n % 4]!,
  previous_mfa_enabled: n % 5 === 0 ? 'false' : 'true',
  previous_mfa_enrolled_at: `2024-0${1 + (n % 9)}-15 10:${String(n % 60).padStart(2, '0')}:00`,
  previous_totp_last_used_step: String(57_000_000 + n),
  previous_recovery_code_hashes:
    n % 3 === 0 ? null : JSON.stringify([randomBytes(32).toString('hex'), randomBytes(32).toString('hex')]),
});

export interface Seeded {
  db: Knex;
  database: TestDatabase;
  tenantId: string;
  adminId: string;
  /** Inserts `count` rows; `values(n, id)` gives each row's previous_* (already sealed or plaintext). */
  insertRows(count: number, values: (n: number, id: string) => Previous): Promise<{ id: string; plain: Previous }[]>;
  /** Rows sealed with `ring` as mfa-admin seals them; returns the plaintext per id for comparison. */
  insertSealed(count: number, ring: KeyRing): Promise<{ id: string; plain: Previous }[]>;
  close(): Promise<void>;
}

export async function seedDatabase(): Promise<Seeded> {
  const database = await testPostgres();
  const db = knex({ client: 'pg', connection: database.url, pool: { min: 0, max: 4 } });
  await migrateLatest(db);
  const tenantId = randomUUID();
  const adminId = randomUUID();
  const now = new Date();
  await db('tenants').insert({
    id: tenantId,
    slug: `t-${tenantId.slice(0, 8)}`,
    name: 'T',
    status: 'active',
    created_at: now,
    updated_at: now,
  });
  await db('tenant_admins').insert({
    id: adminId,
    tenant_id: tenantId,
    email: 'a@example.com',
    password_hash: 'x',
    mfa_enabled: false,
    failed_attempts: 0,
    must_change_password: false,
    created_at: now,
    updated_at: now,
  });

  async function insertRows(count: number, values: (n: number, id: string) => Previous) {
    const out: { id: string; plain: Previous }[] = [];
    for (let n = 0; n < count; n++) {
      const id = (
        await db.raw<{ rows: { id: string }[] }>(
          "select nextval(pg_get_serial_sequence('tenant_admin_mfa_reset_logs', 'id'))::text as id",
        )
      ).rows[0]!.id;
      const stored = values(n, id);
      await db('tenant_admin_mfa_reset_logs').insert({
        id,
        tenant_id: tenantId,
        tenant_admin_id: adminId,
        reset_by: randomUUID(),
        reason: 'seed',
        created_at: now,
        ...stored,
      });
      out.push({ id, plain: stored });
    }
    return out;
  }

  return {
    db,
    database,
    tenantId,
    adminId,
    insertRows,
    async insertSealed(count, ring) {
      const plain: Previous[] = [];
      const rows = await insertRows(count, (n, id) => {
        plain[n] = legacyValues(n);
        return sealPrevious(ring, id, plain[n]!);
      });
      return rows.map((row, n) => ({ id: row.id, plain: plain[n]! }));
    },
    async close() {
      await db.destroy();
      await database.drop();
    },
  };
}
