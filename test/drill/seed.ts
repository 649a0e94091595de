// What a deployment of the drill holds before its pods start: a migrated database (the services'
// tables, operational_job_runs, the knex session table: the migrations create them all), one tenant and its synthetic admins,
// each with a password, an enrolled authenticator and recovery codes, written as the services
// write them (argon2id hash, TOTP secret encrypted under MFA_SECRET_ENCRYPTION_KEY).
import { randomBytes, randomUUID } from 'node:crypto';
import knexFactory from 'knex';
import { createKeyRing, createPasswordHasher } from '@portcullis/crypto';
import { migrateLatest } from '@portcullis/migrations';
import { hashRecoveryCode } from '../../services/auth-session/src/libraries/recovery-codes.js';

export interface SeededAdmin {
  id: string;
  email: string;
  password: string;
  totpSecret: string;
  /** Unused recovery codes: the second factor when this admin's TOTP step is spent. */
  recoveryCodes: string[];
}

export interface Seeded {
  tenant: string;
  admins: SeededAdmin[];
}

/** Base32 of 160 bits (32 characters), as authenticator apps take it. */
const totpSecret = () => Array.from(randomBytes(32), (byte) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[byte % 32]).join('');
const recoveryCode = () => {
  const raw = randomBytes(9).toString('hex').slice(0, 12);
  return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}`;
};

export async function seedDeployment(options: {
  databaseUrl: string;
  mfaKey: string;
  admins: number;
}): Promise<Seeded> {
  const db = knexFactory({ client: 'pg', connection: options.databaseUrl, pool: { min: 0, max: 2 } });
  try {
    await migrateLatest(db);
    const keys = createKeyRing({ primary: { name: 'MFA_SECRET_ENCRYPTION_KEY', value: options.mfaKey } });
    const password = `Drill ${randomUUID()}`;
    // One hash for every admin (argon2id salts it; the services only verify).
    const passwordHash = await createPasswordHasher().hash(password);
    const tenant = `drill-${randomUUID().slice(0, 8)}`;
    const tenantId = randomUUID();
    const now = new Date();
    await db('tenants').insert({
      id: tenantId,
      slug: tenant,
      name: tenant,
      status: 'active',
      created_at: now,
      updated_at: now,
    });
    const admins: SeededAdmin[] = Array.from({ length: options.admins }, (_, index) => ({
      id: randomUUID(),
      email: `admin-${index}@${tenant}.example`,
      password,
      totpSecret: totpSecret(),
      recoveryCodes: Array.from({ length: 150 }, recoveryCode),
    }));
    await db('tenant_admins').insert(
      admins.map((admin) => ({
        id: admin.id,
        tenant_id: tenantId,
        email: admin.email,
        password_hash: passwordHash,
        totp_secret: keys.encrypt(admin.totpSecret, { table: 'tenant_admins', column: 'totp_secret', rowId: admin.id }),
        mfa_enabled: true,
        mfa_enrolled_at: now,
        recovery_code_hashes: JSON.stringify(admin.recoveryCodes.map(hashRecoveryCode)),
        failed_attempts: 0,
        must_change_password: false,
        created_at: now,
        updated_at: now,
      })),
    );
    return { tenant, admins };
  } finally {
    await db.destroy();
  }
}
