// Builds a real auth-session app per test file: real PostgreSQL (migrated), real Redis for the
// session store and the throttle, production argon2 parameters, and a clock the test moves.
// Imported directly by the service tests (not through index.ts: it loads the app and its clients).
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import knex, { type Knex } from 'knex';
import request from 'supertest';
import { createAuditWriter } from '@portcullis/audit';
import { createKeyRing, createSessionIdHasher, type KeyRing } from '@portcullis/crypto';
import { migrateLatest } from '@portcullis/migrations';
import { createLogger, createMetrics, type ServiceMetrics } from '@portcullis/observability';
import { createRedisBackend, createSessionStore, type SessionStore } from '@portcullis/session-store';
import { createApp, type AuthSettings } from '../../services/auth-session/src/app.js';
import { createLoginThrottle } from '../../services/auth-session/src/libraries/login-throttle.js';
import { createSignInPasswordHasher } from '../../services/auth-session/src/libraries/passwords.js';
import { hashRecoveryCode } from '../../services/auth-session/src/libraries/recovery-codes.js';
import { totpCode as authenticatorCode } from './authenticator.js';
import { TestClock } from './clock.js';
import { testPostgres, testRedis } from './index.js';
import { defaultSettings, json } from './service-settings.js';

export { TestClock } from './clock.js';
export { csrfTokenIn, defaultSettings, json, SESSION_SECRET } from './service-settings.js';

export interface Harness {
  db: Knex;
  redis: Redis;
  clock: TestClock;
  totpKeys: KeyRing;
  /** The audit key ring (AUDIT_DETAILS_ENCRYPTION_KEY): every service's writer keys the chain with it, as in production. */
  auditKeys: KeyRing;
  passwords: ReturnType<typeof createSignInPasswordHasher>;
  logLines: string[];
  build(settings?: Partial<AuthSettings>): {
    app: ReturnType<typeof createApp>;
    store: SessionStore;
    metrics: ServiceMetrics;
  };
  close(): Promise<void>;
}

export async function createHarness(): Promise<Harness> {
  const database = await testPostgres();
  const db = knex({ client: 'pg', connection: database.url, pool: { min: 0, max: 5 } });
  await migrateLatest(db);
  const { url, prefix } = testRedis();
  const redis = new Redis(url);
  const clock = new TestClock();
  const totpKeys = createKeyRing({
    primary: { name: 'MFA_SECRET_ENCRYPTION_KEY', value: randomBytes(32).toString('base64') },
  });
  const auditKeys = createKeyRing({
    primary: { name: 'AUDIT_DETAILS_ENCRYPTION_KEY', value: randomBytes(32).toString('base64') },
  });
  const passwords = createSignInPasswordHasher();
  const logLines: string[] = [];
  const destination = new Writable({ write: (chunk, _encoding, done) => (logLines.push(String(chunk)), done()) });
  const stores: SessionStore[] = [];

  return {
    db,
    redis,
    clock,
    totpKeys,
    auditKeys,
    passwords,
    logLines,
    build(overrides = {}) {
      const settings = { ...defaultSettings, ...overrides };
      const keyPrefix = `${prefix}${randomUUID().slice(0, 8)}:`;
      const store = createSessionStore({
        backend: createRedisBackend({ url, keyPrefix: `${keyPrefix}s:`, clock }),
        hashers: settings.secrets.map((secret) => createSessionIdHasher(secret)),
        clock,
      });
      stores.push(store);
      const metrics = createMetrics('auth-session');
      const app = createApp({
        db,
        store,
        totpKeys,
        clock,
        settings,
        passwords,
        metrics,
        audit: createAuditWriter({ db, clock, keys: auditKeys }),
        throttle: createLoginThrottle({ store: { redis }, keyPrefix }),
        logger: createLogger({ service: 'auth-session', destination }),
        trustedProxyHops: 1,
      });
      return { app, store, metrics };
    },
    async close() {
      for (const store of stores) await store.close();
      redis.disconnect();
      await db.destroy();
      await database.drop();
    },
  };
}

export async function createTenant(
  db: Knex,
  slug = `t-${randomUUID().slice(0, 8)}`,
): Promise<{ id: string; slug: string }> {
  const id = randomUUID();
  const now = new Date();
  await db('tenants').insert({ id, slug, name: slug, status: 'active', created_at: now, updated_at: now });
  return { id, slug };
}

export interface SeededAdmin {
  id: string;
  email: string;
  password: string;
  totpSecret?: string;
  recoveryCodes?: string[];
}

/** A tenant admin, optionally with TOTP enrolled (secret encrypted at rest as the service does it). */
export async function createTenantAdmin(
  h: Harness,
  tenantId: string,
  options: { mfa?: boolean; recoveryCodes?: string[] } = {},
): Promise<SeededAdmin> {
  const id = randomUUID();
  const email = `admin-${id.slice(0, 8)}@example.com`;
  const password = `Correct horse ${randomUUID()}`;
  const totpSecret = options.mfa === false ? undefined : 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
  const now = new Date();
  await h.db('tenant_admins').insert({
    id,
    tenant_id: tenantId,
    email,
    password_hash: await h.passwords.hash(password),
    totp_secret: totpSecret
      ? h.totpKeys.encrypt(totpSecret, { table: 'tenant_admins', column: 'totp_secret', rowId: id })
      : null,
    mfa_enabled: !!totpSecret,
    mfa_enrolled_at: totpSecret ? now : null,
    recovery_code_hashes: options.recoveryCodes ? JSON.stringify(options.recoveryCodes.map(hashRecoveryCode)) : null,
    failed_attempts: 0,
    must_change_password: false,
    created_at: now,
    updated_at: now,
  });
  return {
    id,
    email,
    password,
    ...(totpSecret ? { totpSecret } : {}),
    ...(options.recoveryCodes ? { recoveryCodes: options.recoveryCodes } : {}),
  };
}

/** The code an authenticator app shows at the harness clock's time (optionally `steps` periods later). */
export const totpCode = (secret: string, clock: TestClock, steps = 0) =>
  Promise.resolve(authenticatorCode(secret, Math.floor(clock.now() / 30_000) + steps));

/** Password + TOTP through the JSON API; returns the agent holding the level-2 session cookie. */
export async function signInFully(
  app: ReturnType<typeof createApp>,
  clock: TestClock,
  tenant: string,
  admin: SeededAdmin,
  steps = 0,
) {
  const agent = request.agent(app.callback());
  await agent
    .post('/auth/login')
    .set(json)
    .send({ tenant, email: admin.email, password: admin.password })
    .expect(200, { assurance: 1, next: 'verify-mfa' });
  await agent
    .post('/auth/mfa/verify')
    .set(json)
    .send({ code: await totpCode(admin.totpSecret!, clock, steps) })
    .expect(200);
  return agent;
}
