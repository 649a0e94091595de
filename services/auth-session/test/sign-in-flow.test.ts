import request from 'supertest';
import { generate } from 'otplib';
import {
  createHarness,
  createTenant,
  createTenantAdmin,
  json,
  totpCode,
  type Harness,
} from '../../../test/support/auth-harness.js';
import { ensureDefaultPlatformAdmin } from '../src/libraries/default-admin.js';
import { createAuditWriter } from '@portcullis/audit';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('the default platform admin', () => {
  it('signs in, must enrol TOTP with a real code and change the password, then reaches /auth/me', async () => {
    const bootstrap = { db: h.db, passwords: h.passwords, audit: createAuditWriter({ db: h.db }), clock: h.clock };
    expect(await ensureDefaultPlatformAdmin(bootstrap, 'root@example.com', 'initial-Bootstrap-pass-91')).toBe(
      'created',
    );
    expect(await ensureDefaultPlatformAdmin(bootstrap, 'root@example.com', 'initial-Bootstrap-pass-91')).toBe('exists');

    const { app } = h.build();
    const agent = request.agent(app.callback());
    await agent
      .post('/auth/login')
      .set(json)
      .send({ email: 'ROOT@example.com', password: 'initial-Bootstrap-pass-91' })
      .expect(200, { assurance: 1, next: 'enroll-mfa' });
    await agent.get('/auth/me').set(json).expect(403);

    const offer = await agent.get('/auth/mfa/enroll').set(json).expect(200);
    expect(offer.body.otpauthUri).toMatch(
      /^otpauth:\/\/totp\/Portcullis:root%40example\.com\?secret=[A-Z2-7]+&issuer=Portcullis$/,
    );
    expect(offer.body.qrCodeDataUrl).toMatch(/^data:image\/png;base64,/);
    // Reloading the enrolment keeps the same secret, so a scanned QR stays valid.
    expect((await agent.get('/auth/mfa/enroll').set(json).expect(200)).body.secret).toBe(offer.body.secret);

    await agent.post('/auth/mfa/enroll').set(json).send({ code: '000000' }).expect(401);
    const enrolled = await agent
      .post('/auth/mfa/enroll')
      .set(json)
      .send({ code: await totpCode(offer.body.secret, h.clock) })
      .expect(200);
    expect(enrolled.body.recoveryCodes).toHaveLength(10);
    expect(new Set(enrolled.body.recoveryCodes).size).toBe(10);
    expect(enrolled.body.next).toBe('change-password');

    await agent
      .get('/auth/me')
      .set(json)
      .expect(403, /password_change_required/);
    const weak = await agent
      .post('/auth/password')
      .set(json)
      .send({ currentPassword: 'initial-Bootstrap-pass-91', newPassword: 'password1234' })
      .expect(400);
    expect(weak.body.message).toContain('commonly used');
    await agent
      .post('/auth/password')
      .set(json)
      .send({ currentPassword: 'initial-Bootstrap-pass-91', newPassword: 'a much Better passphrase 2026' })
      .expect(200);
    const me = await agent.get('/auth/me').set(json).expect(200);
    expect(me.body).toMatchObject({ kind: 'platform', email: 'root@example.com', assurance: 2, mfaEnrolled: true });

    const stored = await h.db('platform_admins').where({ email: 'root@example.com' }).first();
    expect(stored.totp_secret).not.toContain(offer.body.secret);
    expect(
      h.totpKeys.classify(stored.totp_secret, { table: 'platform_admins', column: 'totp_secret', rowId: stored.id })
        .kind,
    ).toBe('encrypted');
  });

  it('is created exactly once when several replicas bootstrap at the same moment', async () => {
    await h.db('platform_admins').del();
    const bootstrap = { db: h.db, passwords: h.passwords, audit: createAuditWriter({ db: h.db }), clock: h.clock };
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () =>
        ensureDefaultPlatformAdmin(bootstrap, 'first@example.com', 'initial-Bootstrap-pass-91'),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'created')).toHaveLength(1);
    expect(await h.db('platform_admins').count({ n: '*' }).first()).toEqual({ n: '1' });
  });
});

describe('a tenant admin with TOTP', () => {
  it('refuses a code that was already used in its time-step', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    h.clock.advance(30_000);
    const code = await totpCode(admin.totpSecret!, h.clock);
    const first = request.agent(app.callback());
    await first
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200);
    await first
      .post('/auth/mfa/verify')
      .set(json)
      .send({ code })
      .expect(200, { assurance: 2, next: 'done', method: 'totp' });

    const second = request.agent(app.callback());
    await second
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200);
    await second
      .post('/auth/mfa/verify')
      .set(json)
      .send({ code })
      .expect(401, /auth.invalid_code/);
    // The next time-step's code is fine.
    await second
      .post('/auth/mfa/verify')
      .set(json)
      .send({ code: await totpCode(admin.totpSecret!, h.clock, 1) })
      .expect(200);
  });

  it('accepts a code once even when two replicas receive it at the same moment', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const replicaA = h.build().app;
    const replicaB = h.build().app;
    h.clock.advance(30_000);
    const agents = [request.agent(replicaA.callback()), request.agent(replicaB.callback())];
    for (const agent of agents)
      await agent
        .post('/auth/login')
        .set(json)
        .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
        .expect(200);
    const code = await totpCode(admin.totpSecret!, h.clock);
    const statuses = (
      await Promise.all(agents.map((agent) => agent.post('/auth/mfa/verify').set(json).send({ code })))
    ).map((response) => response.status);
    expect(statuses.sort()).toEqual([200, 401]);
  });

  it('accepts each recovery code once', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id, { recoveryCodes: ['abcd-efgh-jkmn', 'pqrs-tuvw-xyz2'] });
    const { app } = h.build();
    const agent = request.agent(app.callback());
    await agent
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200);
    await agent
      .post('/auth/mfa/verify')
      .set(json)
      .send({ code: 'ABCD EFGH JKMN' })
      .expect(200, { assurance: 2, next: 'done', method: 'recovery_code', remainingRecoveryCodes: 1 });

    const again = request.agent(app.callback());
    await again
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200);
    await again.post('/auth/mfa/verify').set(json).send({ code: 'abcd-efgh-jkmn' }).expect(401);
    const events = await h.db('audit_events').where({ action: 'auth.recovery_code_used', actor_id: admin.id });
    expect(events).toHaveLength(1);
  });

  it('gives a level-1 session nothing but the second factor', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const agent = request.agent(app.callback());
    await agent
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200);
    await agent
      .get('/auth/me')
      .set(json)
      .expect(403, /auth.mfa_required/);
    await agent.get('/auth/sessions').set(json).expect(403);
    await agent.post('/auth/sessions/revoke-others').set(json).expect(403);
    await agent
      .post('/auth/password')
      .set(json)
      .send({ currentPassword: admin.password, newPassword: 'another Long passphrase 77' })
      .expect(403);
    await agent
      .get('/auth/mfa/enroll')
      .set(json)
      .expect(409, /mfa.already_enrolled/);
  });

  it('answers unknown account, wrong password and wrong tenant alike', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const attempts = [
      { tenant: tenant.slug, email: 'nobody@example.com', password: admin.password },
      { tenant: tenant.slug, email: admin.email, password: 'wrong password here' },
      { tenant: 'no-such-tenant', email: admin.email, password: admin.password },
    ];
    const bodies = [];
    for (const attempt of attempts) {
      const response = await request(app.callback()).post('/auth/login').set(json).send(attempt).expect(401);
      bodies.push({ code: response.body.code, message: response.body.message });
    }
    expect(new Set(bodies.map((body) => JSON.stringify(body))).size).toBe(1);
  });
});

it('verifies codes of an authenticator app configured from the otpauth URI (RFC 6238, 30 s, 6 digits)', async () => {
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits) → the 6-digit code is its last six.
  expect(await generate({ secret, epoch: 59 })).toBe('287082');
});
