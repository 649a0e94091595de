// mfa-admin as it runs in production, per test file (imported directly, not through index.ts): the auth harness (migrated PostgreSQL,
// Redis session store, TestClock, real TOTP) plus the mfa-admin app on the SAME store and
// session secret, both behind one in-process gateway, so one cookie jar signs in at /auth and
// acts at /admin exactly as a browser would through the ingress.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import type Koa from 'koa';
import request from 'supertest';
import { createAuditWriter, type AuditWriter } from '@portcullis/audit';
import { createKeyRing, createPasswordHasher, type KeyRing } from '@portcullis/crypto';
import { createLogger, createMetrics, type ServiceMetrics } from '@portcullis/observability';
import type { SessionStore } from '@portcullis/session-store';
import { createApp } from '../../services/mfa-admin/src/app.js';
import { createSessionRevoker, type SessionRevoker } from '../../services/mfa-admin/src/libraries/session-revoker.js';
import { createRevocationQueries } from '../../services/mfa-admin/src/queries/revocations.js';
import {
  createHarness,
  createTenantAdmin as createAuthTenantAdmin,
  defaultSettings,
  json,
  SESSION_SECRET,
  totpCode,
  type Harness,
  type SeededAdmin,
} from './auth-harness.js';

export { createTenant, csrfTokenIn, json, totpCode, type SeededAdmin } from './auth-harness.js';

/** auth-session's seeded tenant admin: a real TOTP secret, encrypted at rest as the service stores it. */
export const createTenantAdmin = (
  h: AdminHarness,
  tenantId: string,
  options: { mfa?: boolean; recoveryCodes?: string[] } = {},
) => createAuthTenantAdmin(h.auth, tenantId, options);

export const newKey = () => randomBytes(32).toString('base64');

export interface AdminHarness extends Omit<Harness, 'build'> {
  /** auth-session's own harness underneath. */
  auth: Harness;
  resetLogKeys: KeyRing;
  detailsKeys: KeyRing;
  audit: AuditWriter;
  /** Extra apps mounted on the gateway by prefix (audit-log adds `/audit`). */
  build(options?: BuildOptions): Built;
  seedPlatformAdmin(): Promise<SeededAdmin>;
}

export interface BuildOptions {
  /** The store the revoker calls: wrap the real one to inject failures. */
  revokeStore?: (store: SessionStore) => Pick<SessionStore, 'destroyByUser' | 'revoke'>;
  resetLogKeys?: KeyRing;
  totpKeys?: KeyRing;
  audit?: AuditWriter;
  extraApps?: (store: SessionStore) => Record<string, Koa>;
  /** mfa-admin's registry, for tests that read its counters. */
  metrics?: ServiceMetrics;
}

export interface Built {
  server: Server;
  mfaApp: Koa;
  store: SessionStore;
  revoker: SessionRevoker;
  /** auth-session's registry. */
  authMetrics: ServiceMetrics;
  agent(): ReturnType<typeof request.agent>;
}

/** Routes by path prefix like the ingress, in process. */
export function gateway(apps: Record<string, Koa>): Server {
  const handlers = Object.entries(apps).map(([prefix, app]) => [prefix, app.callback()] as const);
  return createServer((incoming, outgoing) => {
    const url = incoming.url ?? '';
    const match = handlers.find(
      ([prefix]) => url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`),
    );
    if (!match) return void outgoing.writeHead(404).end();
    void match[1](incoming, outgoing);
  });
}

export async function createAdminHarness(): Promise<AdminHarness> {
  const base = await createHarness();
  const resetLogKeys = createKeyRing({ primary: { name: 'MFA_RESET_LOG_ENCRYPTION_KEY', value: newKey() } });
  const detailsKeys = base.auditKeys;
  const audit = createAuditWriter({ db: base.db, clock: base.clock, keys: detailsKeys });
  const revokers: SessionRevoker[] = [];
  const servers: Server[] = [];

  const harness: AdminHarness = {
    ...base,
    auth: base,
    resetLogKeys,
    detailsKeys,
    audit,
    build(options: BuildOptions = {}): Built {
      const { app: authApp, store, metrics: authMetrics } = base.build();
      const revoker = createSessionRevoker({
        queries: createRevocationQueries(base.db),
        store: options.revokeStore ? options.revokeStore(store) : store,
        clock: base.clock,
        logger: createLogger({ service: 'mfa-admin', destination: logSink(base.logLines) }),
        storeTimeoutMs: 500,
        attemptDelaysMs: [0, 10],
        absoluteTimeoutMs: 12 * 3600_000,
      });
      revokers.push(revoker);
      const mfaApp = createApp({
        db: base.db,
        store,
        resetLogKeys: options.resetLogKeys ?? resetLogKeys,
        totpKeys: options.totpKeys ?? base.totpKeys,
        audit: options.audit ?? audit,
        revoker,
        // Cheap argon2 for tests; production uses auth-session's parameters.
        passwords: createPasswordHasher({
          parameters: { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 },
        }),
        logger: createLogger({ service: 'mfa-admin', destination: logSink(base.logLines) }),
        metrics: options.metrics ?? createMetrics('mfa-admin'),
        clock: base.clock,
        settings: { ...defaultSettings, secrets: [SESSION_SECRET] },
        trustedProxyHops: 1,
      });
      const server = gateway({ '/auth': authApp, '/admin': mfaApp, ...(options.extraApps?.(store) ?? {}) });
      servers.push(server);
      return { server, mfaApp, store, revoker, authMetrics, agent: () => request.agent(server) };
    },
    async seedPlatformAdmin(): Promise<SeededAdmin> {
      const id = randomUUID();
      const email = `platform-${id.slice(0, 8)}@example.com`;
      const password = `Platform pass ${randomUUID()}`;
      const totpSecret = base32Secret();
      const now = new Date(base.clock.now());
      await base.db('platform_admins').insert({
        id,
        email,
        password_hash: await base.passwords.hash(password),
        totp_secret: base.totpKeys.encrypt(totpSecret, { table: 'platform_admins', column: 'totp_secret', rowId: id }),
        mfa_enabled: true,
        mfa_enrolled_at: now,
        failed_attempts: 0,
        must_change_password: false,
        created_at: now,
        updated_at: now,
      });
      return { id, email, password, totpSecret };
    },
    async close() {
      for (const revoker of revokers) await revoker.stop();
      for (const server of servers) {
        server.close();
        server.closeAllConnections();
      }
      await base.close();
    },
  };
  return harness;
}

/** A random 160-bit TOTP secret in base32, as an authenticator app is given it. */
function base32Secret(): string {
  const bits = [...randomBytes(20)].map((byte) => byte.toString(2).padStart(8, '0')).join('');
  return (bits.match(/.{5}/g) ?? []).map((chunk) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[parseInt(chunk, 2)]).join('');
}

const logSink = (lines: string[]) =>
  new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });

/** Password + TOTP at /auth (no tenant: a platform admin, or `tenant` for a tenant admin); the agent then holds a level-2 session. */
export async function signIn(
  agent: ReturnType<typeof request.agent>,
  clock: Harness['clock'],
  admin: SeededAdmin,
  tenant?: string,
) {
  await agent
    .post('/auth/login')
    .set(json)
    .send({ ...(tenant ? { tenant } : {}), email: admin.email, password: admin.password })
    .expect(200);
  await agent
    .post('/auth/mfa/verify')
    .set(json)
    .send({ code: await totpCode(admin.totpSecret!, clock) })
    .expect(200);
  return agent;
}
