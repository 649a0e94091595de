import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { cookieKeys } from '@portcullis/session-auth';
import {
  createHarness,
  createTenant,
  createTenantAdmin,
  defaultSettings,
  json,
  signInFully,
  totpCode,
  type Harness,
} from '../../../test/support/auth-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

const cookieOf = (response: request.Response) =>
  ([] as string[])
    .concat(response.headers['set-cookie'] ?? [])
    .map((cookie) => cookie.split(';')[0])
    .join('; ');

it('kills a planted pre-login session id at login (no fixation) and again at the second factor', async () => {
  const tenant = await createTenant(h.db);
  const admin = await createTenantAdmin(h, tenant.id);
  const { app, store } = h.build();
  // The sign-in page writes no session any more; an attacker can still plant a cookie naming a
  // session that exists (one of their own), signed with the service's keys as any cookie is.
  const preLoginId = randomBytes(32).toString('base64url');
  await store.set(preLoginId, { csrf: 'planted' }, 60_000);
  const keys = cookieKeys(defaultSettings.secrets);
  const preLogin = `portcullis.sid=${preLoginId}; portcullis.sid.sig=${keys.sign(`portcullis.sid=${preLoginId}`)}`;
  expect(await store.get(preLoginId)).toMatchObject({ csrf: 'planted' });

  const login = await request(app.callback())
    .post('/auth/login')
    .set(json)
    .set('Cookie', preLogin)
    .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
    .expect(200);
  const levelOne = cookieOf(login);
  expect(await store.get(preLoginId)).toBeUndefined();
  const levelOneId = /portcullis\.sid=([^;]+)/.exec(levelOne)![1]!;
  expect(levelOneId).not.toBe(preLoginId);

  const verified = await request(app.callback())
    .post('/auth/mfa/verify')
    .set(json)
    .set('Cookie', levelOne)
    .send({ code: await totpCode(admin.totpSecret!, h.clock) })
    .expect(200);
  expect(await store.get(levelOneId)).toBeUndefined();
  await request(app.callback()).get('/auth/me').set(json).set('Cookie', levelOne).expect(401);
  await request(app.callback()).get('/auth/me').set(json).set('Cookie', cookieOf(verified)).expect(200);
});

it('ends a session after the idle timeout, and an active one at the absolute timeout', async () => {
  const tenant = await createTenant(h.db);
  const admin = await createTenantAdmin(h, tenant.id);
  const { app } = h.build({ idleTimeoutMs: 10 * 60_000, absoluteTimeoutMs: 60 * 60_000 });
  h.clock.advance(60_000);
  const idle = await signInFully(app, h.clock, tenant.slug, admin);
  h.clock.advance(11 * 60_000);
  await idle.get('/auth/me').set(json).expect(401);

  const active = await signInFully(app, h.clock, tenant.slug, admin);
  for (let minute = 0; minute < 50; minute += 9) {
    h.clock.advance(9 * 60_000);
    await active.get('/auth/me').set(json).expect(200);
  }
  h.clock.advance(9 * 60_000);
  await active
    .get('/auth/me')
    .set(json)
    .expect(401, /auth.session_expired/);
});

describe('the concurrent-session limit', () => {
  it('refuses a further full sign-in in reject mode, at the second factor', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build({ maxConcurrent: 2, concurrencyMode: 'reject' });
    h.clock.advance(60_000);
    const first = await signInFully(app, h.clock, tenant.slug, admin);
    h.clock.advance(30_000);
    await signInFully(app, h.clock, tenant.slug, admin);
    h.clock.advance(30_000);
    const third = request.agent(app.callback());
    await third
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200, { assurance: 1, next: 'verify-mfa' });
    const refused = await third
      .post('/auth/mfa/verify')
      .set(json)
      .send({ code: await totpCode(admin.totpSecret!, h.clock) })
      .expect(409);
    expect(refused.body.code).toBe('session.limit_reached');
    await first.get('/auth/me').set(json).expect(200);
  });

  it('counts full sessions only: password-only sign-ins neither evict nor lock out a signed-in admin', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    for (const concurrencyMode of ['evict-oldest', 'reject'] as const) {
      const { app, store } = h.build({ maxConcurrent: 2, concurrencyMode });
      h.clock.advance(60_000);
      const signedIn = await signInFully(app, h.clock, tenant.slug, admin);
      for (let attempt = 0; attempt < 6; attempt++) {
        await request(app.callback())
          .post('/auth/login')
          .set(json)
          .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
          .expect(200, { assurance: 1, next: 'verify-mfa' });
      }
      await signedIn.get('/auth/me').set(json).expect(200);
      const sessions = await store.listByUser(`tenant:${admin.id}`);
      // The full session and at most MAX_PENDING_SIGN_INS (3) pending ones.
      expect(sessions.filter(({ session }) => (session as { aal?: number }).aal === 2)).toHaveLength(1);
      expect(sessions.length).toBeLessThanOrEqual(4);
      await signedIn.post('/auth/logout').set(json).expect(200);
    }
    expect(await h.db('audit_events').where({ action: 'session.evicted', actor_id: admin.id })).toHaveLength(0);
  });

  it('ends a pending sign-in that has not passed its second factor within 15 minutes', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    h.clock.advance(60_000);
    const agent = request.agent(app.callback());
    await agent
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200);
    h.clock.advance(16 * 60_000);
    await agent
      .post('/auth/mfa/verify')
      .set(json)
      .send({ code: await totpCode(admin.totpSecret!, h.clock) })
      .expect(401, /auth.session_expired/);
  });

  it('ends the oldest session in evict-oldest mode', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build({ maxConcurrent: 2, concurrencyMode: 'evict-oldest' });
    h.clock.advance(60_000);
    const oldest = await signInFully(app, h.clock, tenant.slug, admin);
    h.clock.advance(30_000);
    const middle = await signInFully(app, h.clock, tenant.slug, admin);
    h.clock.advance(30_000);
    const newest = await signInFully(app, h.clock, tenant.slug, admin);
    await oldest.get('/auth/me').set(json).expect(401);
    await middle.get('/auth/me').set(json).expect(200);
    await newest.get('/auth/me').set(json).expect(200);
    expect(await h.db('audit_events').where({ action: 'session.evicted', actor_id: admin.id })).toHaveLength(1);
  });
});

describe('session management', () => {
  it('lists this admin’s sessions, revokes one and logs out, ending them in the store', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app, store } = h.build();
    h.clock.advance(60_000);
    const laptop = await signInFully(app, h.clock, tenant.slug, admin);
    h.clock.advance(30_000);
    const phone = await signInFully(app, h.clock, tenant.slug, admin);

    const listed = (await laptop.get('/auth/sessions').set(json).expect(200)).body.sessions as {
      id: string;
      current: boolean;
    }[];
    expect(listed).toHaveLength(2);
    expect(listed.filter((session) => session.current)).toHaveLength(1);
    const phoneSession = listed.find((session) => !session.current)!;

    await laptop.delete(`/auth/sessions/${phoneSession.id}`).set(json).expect(204);
    await phone.get('/auth/me').set(json).expect(401);
    await laptop
      .delete(`/auth/sessions/${'f'.repeat(64)}`)
      .set(json)
      .expect(404);
    expect(await store.listByUser(`tenant:${admin.id}`)).toHaveLength(1);

    await laptop.post('/auth/logout').set(json).expect(200, { signedOut: true });
    expect(await store.listByUser(`tenant:${admin.id}`)).toHaveLength(0);
    await laptop.get('/auth/me').set(json).expect(401);
  });

  it('ends every other session when the password changes', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    h.clock.advance(60_000);
    const other = await signInFully(app, h.clock, tenant.slug, admin);
    h.clock.advance(30_000);
    const self = await signInFully(app, h.clock, tenant.slug, admin);
    await self
      .post('/auth/password')
      .set(json)
      .send({ currentPassword: admin.password, newPassword: 'entirely New passphrase 2027' })
      .expect(200);
    await other.get('/auth/me').set(json).expect(401);
    await self.get('/auth/me').set(json).expect(200);
  });
});

describe('password change', () => {
  it('checks the current password as sign-in does: wrong guesses are audited and lock the account', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build({ lockout: { threshold: 3, baseSeconds: 60, maxSeconds: 600 } });
    h.clock.advance(60_000);
    const self = await signInFully(app, h.clock, tenant.slug, admin);
    const hashBefore = (await h.db('tenant_admins').where({ id: admin.id }).first()).password_hash;
    const change = (currentPassword: string) =>
      self.post('/auth/password').set(json).send({ currentPassword, newPassword: 'entirely New passphrase 2028' });
    for (let guess = 0; guess < 3; guess++) await change(`wrong guess ${guess}`).expect(401);
    // Locked: the right password no longer changes it either.
    expect((await change(admin.password)).status).not.toBe(200);
    expect((await h.db('tenant_admins').where({ id: admin.id }).first()).password_hash).toBe(hashBefore);
    expect(await h.db('audit_events').where({ action: 'auth.sign_in_failed', target_id: admin.id })).toHaveLength(3);
    expect(await h.db('audit_events').where({ action: 'auth.account_locked', target_id: admin.id })).toHaveLength(1);
  });

  it('needs a recent confirmation: an older session is sent to re-authenticate first', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    h.clock.advance(60_000);
    const self = await signInFully(app, h.clock, tenant.slug, admin);
    h.clock.advance(6 * 60_000); // past REAUTH_MAX_AGE (5 min), within the idle timeout
    await self
      .post('/auth/password')
      .set(json)
      .send({ currentPassword: admin.password, newPassword: 'entirely New passphrase 2029' })
      .expect(403, /auth.reauthentication_required/);
    await self
      .post('/auth/reauthenticate')
      .set(json)
      .send({ password: admin.password, code: await totpCode(admin.totpSecret!, h.clock) })
      .expect(200);
    await self
      .post('/auth/password')
      .set(json)
      .send({ currentPassword: admin.password, newPassword: 'entirely New passphrase 2029' })
      .expect(200);
  });
});

describe('lockout and known devices', () => {
  const lockout = { threshold: 3, baseSeconds: 600, maxSeconds: 3600 };
  const lockoutsCounted = async (metrics: { registry: { getSingleMetricAsString(name: string): Promise<string> } }) =>
    /auth_account_lockouts_total\{kind="tenant"[^}]*\} (\d+)/.exec(
      await metrics.registry.getSingleMetricAsString('auth_account_lockouts_total'),
    )?.[1];

  it('a stranger who knows the email locks the account, but not for a browser that signed the admin in before', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app, metrics } = h.build({ lockout });
    h.clock.advance(60_000);
    const laptop = await signInFully(app, h.clock, tenant.slug, admin);
    await laptop.post('/auth/logout').set(json).expect(200);

    const login = (password: string) =>
      request(app.callback()).post('/auth/login').set(json).send({ tenant: tenant.slug, email: admin.email, password });
    for (let guess = 0; guess < 3; guess++) await login(`stranger guess ${guess}`).expect(401);
    await login(admin.password).expect(401); // locked for a browser without the cookie
    expect(await lockoutsCounted(metrics)).toBe('1');

    h.clock.advance(30_000);
    await laptop
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200, { assurance: 1, next: 'verify-mfa' });
    await laptop
      .post('/auth/mfa/verify')
      .set(json)
      .send({ code: await totpCode(admin.totpSecret!, h.clock) })
      .expect(200);
    await laptop.get('/auth/me').set(json).expect(200);
    // Still locked for everyone else: the admin's success does not unlock it for the stranger.
    await login(admin.password).expect(401);
  });

  it('gives nothing to a known-device cookie of another admin, or to an unsigned one', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const colleague = await createTenantAdmin(h, tenant.id);
    const { app } = h.build({ lockout });
    h.clock.advance(60_000);
    const shared = await signInFully(app, h.clock, tenant.slug, colleague);
    await shared.post('/auth/logout').set(json).expect(200);
    const login = (agent: ReturnType<typeof request.agent>, password: string) =>
      agent.post('/auth/login').set(json).send({ tenant: tenant.slug, email: admin.email, password });
    for (let guess = 0; guess < 3; guess++) await login(shared, `guess ${guess}`).expect(401);
    await login(shared, admin.password).expect(401);
    const forged = request.agent(app.callback());
    await login(forged.set('Cookie', `portcullis.sid.device=abc|tenant:${admin.id}`), admin.password).expect(401);
  });
});

it('locks an account after the configured failures and releases it after the window', async () => {
  const tenant = await createTenant(h.db);
  const admin = await createTenantAdmin(h, tenant.id);
  const { app } = h.build({ lockout: { threshold: 3, baseSeconds: 60, maxSeconds: 600 } });
  const attempt = (password: string) =>
    request(app.callback()).post('/auth/login').set(json).send({ tenant: tenant.slug, email: admin.email, password });
  for (let i = 0; i < 3; i++) await attempt('not the password').expect(401);
  const locked = await attempt(admin.password).expect(401);
  expect(locked.body.code).toBe('auth.invalid_credentials');
  expect(await h.db('audit_events').where({ action: 'auth.account_locked', actor_id: admin.id })).toHaveLength(1);

  h.clock.advance(61_000);
  h.clock.advance(30_000);
  await signInFully(app, h.clock, tenant.slug, admin);
  expect(await h.db('audit_events').where({ action: 'auth.account_unlocked', actor_id: admin.id })).toHaveLength(1);
  expect((await h.db('tenant_admins').where({ id: admin.id }).first()).failed_attempts).toBe(0);
});

it('sets __Host-, Secure, HttpOnly and SameSite on the cookie in production mode', async () => {
  const tenant = await createTenant(h.db);
  const admin = await createTenantAdmin(h, tenant.id);
  const { app } = h.build({ production: true });
  const response = await request(app.callback())
    .post('/auth/login')
    .set(json)
    .set('X-Forwarded-Proto', 'https')
    .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
    .expect(200);
  const cookie = ([] as string[])
    .concat(response.headers['set-cookie'] ?? [])
    .find((line) => line.startsWith('__Host-portcullis.sid='))!;
  expect(cookie).toBeDefined();
  expect(cookie).toMatch(/; path=\//);
  expect(cookie).toMatch(/; secure/);
  expect(cookie).toMatch(/; httponly/);
  expect(cookie).toMatch(/; samesite=lax/);
  expect(cookie).not.toMatch(/domain=/);
});
