// The session store fails at the moment of the revoke. When it cannot take the revocation
// marker, the change is refused and nothing changes. When only the deletion of the sessions
// fails, the change stands, the sessions are refused at once through the marker, and the
// deletion stays pending until a retry gets through. Never the other way round.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAuditWriter } from '@portcullis/audit';
import { createSessionIdHasher } from '@portcullis/crypto';
import { createLogger } from '@portcullis/observability';
import { userIdOf } from '@portcullis/session-auth';
import {
  createDualBackend,
  createMemoryBackend,
  createRedisBackend,
  createSessionStore,
  type SessionStore,
} from '@portcullis/session-store';
import { createSessionRevoker } from '../src/libraries/session-revoker.js';
import { createRevocationQueries } from '../src/queries/revocations.js';
import { startRedis, type ServerHandle } from '../../../test/support/index.js';
import {
  createAdminHarness,
  createTenant,
  createTenantAdmin,
  json,
  signIn,
  type AdminHarness,
} from '../../../test/support/admin-harness.js';

let h: AdminHarness;
beforeAll(async () => {
  h = await createAdminHarness();
});
afterAll(() => h.close());

const silent = createLogger({ service: 'test', level: 'silent' });
const pendingFor = (adminId: string) => h.db('session_revocations').where({ admin_id: adminId }).whereNull('done_at');

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });

/** Wraps the real store: destroyByUser (and, with `markers`, the marker write too) fails while `down` is set. */
function faultyStore({ markers = false } = {}) {
  const state = { down: true };
  const wrap = (store: SessionStore) => ({
    destroyByUser: async (userId: string) => {
      if (state.down) throw refused();
      return store.destroyByUser(userId);
    },
    revoke: async (userId: string, cutOff: number, ttlMs: number) => {
      if (state.down && markers) throw refused();
      return store.revoke(userId, cutOff, ttlMs);
    },
  });
  return { state, wrap };
}

describe('a reset while the session store is down', () => {
  it('is refused with 503 and changes nothing when the store cannot take the revocation marker', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const platform = await h.seedPlatformAdmin();
    const fault = faultyStore({ markers: true });
    const built = h.build({ revokeStore: fault.wrap });
    const operator = await signIn(built.agent(), h.clock, platform);
    const victim = await signIn(built.agent(), h.clock, admin, tenant.slug);

    const reset = await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
      .set(json)
      .send({ reason: 'Lost phone' })
      .expect(503);
    expect(reset.body.code).toBe('service.unavailable');
    expect((await h.db('tenant_admins').where({ id: admin.id }).first()).mfa_enabled).toBe(true);
    expect(await h.db('tenant_admin_mfa_reset_logs').where({ tenant_admin_id: admin.id })).toEqual([]);
    expect(await h.db('session_revocations').where({ admin_id: admin.id })).toEqual([]);
    await victim.get('/auth/me').set(json).expect(200);
  });

  it('stands when only the deletion fails, refuses the sessions at once, keeps the deletion pending and completes it on retry', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const platform = await h.seedPlatformAdmin();
    const fault = faultyStore();
    const built = h.build({ revokeStore: fault.wrap });
    const operator = await signIn(built.agent(), h.clock, platform);
    const victim = await signIn(built.agent(), h.clock, admin, tenant.slug);

    const reset = await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
      .set(json)
      .send({ reason: 'Lost phone' })
      .expect(200);
    expect(reset.body.sessionsRevoked).toBe('pending');
    expect((await h.db('tenant_admins').where({ id: admin.id }).first()).mfa_enabled).toBe(false);
    await victim.get('/auth/me').set(json).expect(401);
    const [marker] = await pendingFor(admin.id);
    expect(marker).toMatchObject({ cause: 'mfa_reset', attempts: 2, last_error: 'ECONNREFUSED' });
    expect(h.logLines.join('')).toContain('session store revoke failed');

    // Not due yet: the backoff holds the retry back.
    fault.state.down = false;
    expect(await built.revoker.retryPending()).toEqual({ done: 0, pending: 0 });
    h.clock.advance(60_000);
    expect(await built.revoker.retryPending()).toEqual({ done: 1, pending: 0 });
    expect(await pendingFor(admin.id)).toEqual([]);
    expect(await built.store.listByUser(userIdOf('tenant', admin.id))).toEqual([]);
  });

  it('keeps a rollback that could not reach the store, and retries its revoke', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const platform = await h.seedPlatformAdmin();
    const fault = faultyStore();
    fault.state.down = false;
    const built = h.build({ revokeStore: fault.wrap });
    const operator = await signIn(built.agent(), h.clock, platform);
    const reset = await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
      .set(json)
      .send({ reason: 'Lost phone' })
      .expect(200);
    expect(reset.body.sessionsRevoked).toBe('done');
    fault.state.down = true;
    const rolled = await operator
      .post(`/admin/mfa-resets/${reset.body.reset.id}/rollback`)
      .set(json)
      .send({ reason: 'Mistake' })
      .expect(200);
    expect(rolled.body).toMatchObject({ sessionsRevoked: 'pending', reset: { rolledBack: true } });
    expect((await h.db('tenant_admins').where({ id: admin.id }).first()).mfa_enabled).toBe(true);
    fault.state.down = false;
    h.clock.advance(60_000);
    expect(await built.revoker.retryPending()).toEqual({ done: 1, pending: 0 });
  });

  it('writes nothing and revokes nothing when the reset transaction fails at its last step', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const platform = await h.seedPlatformAdmin();
    const calls: string[] = [];
    // An audit writer without the details key refuses the sealed reason: the audit event is the
    // transaction's last write, so the log row and the cleared factor must roll back with it.
    const built = h.build({
      audit: createAuditWriter({ db: h.db, clock: h.clock }),
      revokeStore: (store) => ({
        destroyByUser: (userId) => (calls.push(userId), store.destroyByUser(userId)),
        revoke: (...args) => store.revoke(...args),
      }),
    });
    const operator = await signIn(built.agent(), h.clock, platform);
    await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
      .set(json)
      .send({ reason: 'Lost phone' })
      .expect(500);
    expect(calls).toEqual([]);
    expect(await h.db('tenant_admin_mfa_reset_logs').where({ tenant_admin_id: admin.id })).toEqual([]);
    expect(await h.db('session_revocations').where({ admin_id: admin.id })).toEqual([]);
    const row = await h.db('tenant_admins').where({ id: admin.id }).first();
    expect([row.mfa_enabled, row.sessions_revoked_at]).toEqual([true, null]);
  });
});

describe('suspending a tenant while the session store is down', () => {
  it('stops calling the store after the first failure and leaves every admin’s revoke pending for the retries', async () => {
    const tenant = await createTenant(h.db);
    const admins = [
      await createTenantAdmin(h, tenant.id),
      await createTenantAdmin(h, tenant.id),
      await createTenantAdmin(h, tenant.id),
    ];
    const platform = await h.seedPlatformAdmin();
    const calls: string[] = [];
    const built = h.build({
      revokeStore: (store) => ({
        destroyByUser: async (userId) => (calls.push(userId), Promise.reject(new Error('down'))),
        revoke: (...args) => store.revoke(...args),
      }),
    });
    const operator = await signIn(built.agent(), h.clock, platform);
    const suspended = await operator.post(`/admin/tenants/${tenant.id}/suspend`).set(json).expect(200);
    expect(suspended.body).toMatchObject({ tenant: { status: 'suspended' }, sessionsRevoked: 'pending' });
    expect(calls).toHaveLength(2); // the first marker's two quick attempts, then the timer's job
    const pending = await h
      .db('session_revocations')
      .whereIn(
        'admin_id',
        admins.map((admin) => admin.id),
      )
      .whereNull('done_at');
    expect(pending.map((row) => row.cause)).toEqual(['tenant_suspended', 'tenant_suspended', 'tenant_suspended']);
  });
});

describe('the revoke retry against a real Redis outage', () => {
  let redis: ServerHandle;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.dispose());

  it('stays pending while Redis is stopped and deletes the sessions once it is back', async () => {
    const adminId = randomUUID();
    const hasher = createSessionIdHasher(`outage-secret-${'x'.repeat(32)}`);
    const store = createSessionStore({
      backend: createRedisBackend({ url: redis.url, keyPrefix: `outage:${adminId}:` }),
      hashers: [hasher],
    });
    await store.set(`sid-${randomUUID()}`, { userId: userIdOf('tenant', adminId) }, 600_000);
    const queries = createRevocationQueries(h.db);
    const revoker = createSessionRevoker({
      queries,
      store,
      clock: h.clock,
      logger: silent,
      storeTimeoutMs: 300,
      attemptDelaysMs: [0, 10],
      absoluteTimeoutMs: 3600_000,
    });
    const markers = await h.db.transaction((trx) =>
      queries.insert(trx, [{ kind: 'tenant', adminId, cause: 'mfa_reset' }], new Date(h.clock.now())),
    );

    await redis.stop();
    expect(await revoker.revokeCommitted(markers)).toBe('pending');
    expect(await pendingFor(adminId)).toHaveLength(1);

    await redis.restart();
    // ioredis reconnects with its own backoff: retry passes until one gets through.
    for (let pass = 0; pass < 50 && (await pendingFor(adminId)).length > 0; pass++) {
      h.clock.advance(10 * 60_000);
      await revoker.retryPending();
      if ((await pendingFor(adminId)).length > 0) await sleep(200);
    }
    expect(await pendingFor(adminId)).toEqual([]);
    expect(await store.listByUser(userIdOf('tenant', adminId))).toEqual([]);
    await store.close();
  });

  it('revokes in both stores of a dual store', async () => {
    const adminId = randomUUID();
    const primary = createMemoryBackend();
    const secondary = createRedisBackend({ url: redis.url, keyPrefix: `dual:${adminId}:` });
    const store = createSessionStore({
      backend: createDualBackend({ primary, secondary }),
      hashers: [createSessionIdHasher(`dual-secret-${'x'.repeat(32)}`)],
    });
    await store.set(`sid-${randomUUID()}`, { userId: userIdOf('tenant', adminId) }, 600_000);
    const queries = createRevocationQueries(h.db);
    const revoker = createSessionRevoker({
      queries,
      store,
      clock: h.clock,
      logger: silent,
      absoluteTimeoutMs: 3600_000,
    });
    const markers = await h.db.transaction((trx) =>
      queries.insert(trx, [{ kind: 'tenant', adminId, cause: 'mfa_reset' }], new Date(h.clock.now())),
    );
    expect(await revoker.revokeCommitted(markers)).toBe('done');
    expect(await primary.listByUser(userIdOf('tenant', adminId))).toEqual([]);
    expect(await secondary.listByUser(userIdOf('tenant', adminId))).toEqual([]);
    await store.close();
  });
});
