// The authenticator after a platform admin's MFA reset, with the real mfa-admin behind one
// gateway: the enrolment page names the reset (its time, nothing else of the log), and a
// self-service replacement and a rollback stay exact with each other: rolling back a reset done
// after a replacement restores the replacement; rolling back a reset the admin has since
// re-enrolled and replaced after is refused unless forced, and then restores the factor from
// before the reset.
import type request from 'supertest';
import {
  createAdminHarness,
  createTenant,
  createTenantAdmin,
  json,
  signIn,
  totpCode,
  type AdminHarness,
  type Built,
  type SeededAdmin,
} from '../../../test/support/admin-harness.js';

let h: AdminHarness;
let built: Built;
let operator: ReturnType<typeof request.agent>;

beforeAll(async () => {
  h = await createAdminHarness();
  built = h.build();
  operator = await signIn(built.agent(), h.clock, await h.seedPlatformAdmin());
});
afterAll(() => h.close());

const next30s = () => h.clock.advance(30_000);

async function resetOf(tenantId: string, admin: SeededAdmin): Promise<string> {
  const reset = await operator
    .post(`/admin/tenants/${tenantId}/admins/${admin.id}/mfa/reset`)
    .set(json)
    .send({ reason: 'Lost phone' })
    .expect(200);
  return String(reset.body.reset.id);
}

/** Password only: the agent is at the second step (or enrolment). */
async function passwordStep(slug: string, admin: SeededAdmin, next: string) {
  const agent = built.agent();
  await agent
    .post('/auth/login')
    .set(json)
    .send({ tenant: slug, email: admin.email, password: admin.password })
    .expect(200, { assurance: 1, next });
  return agent;
}

/** Does a fresh sign-in with a code of `secret` (at the next time-step) succeed? */
async function signsInWith(slug: string, admin: SeededAdmin, secret: string): Promise<boolean> {
  next30s();
  const agent = await passwordStep(slug, admin, 'verify-mfa');
  const verified = await agent
    .post('/auth/mfa/verify')
    .set(json)
    .send({ code: await totpCode(secret, h.clock) });
  return verified.status === 200;
}

/** Starts and confirms a replacement in a level-2 session; returns the new secret. */
async function replace(agent: ReturnType<typeof request.agent>): Promise<string> {
  const fresh = (await agent.post('/auth/authenticator/replacement').set(json).expect(200)).body.secret as string;
  await agent
    .post('/auth/authenticator/replacement/confirm')
    .set(json)
    .send({ code: await totpCode(fresh, h.clock) })
    .expect(200);
  return fresh;
}

describe('the enrolment page after a reset', () => {
  it('tells a reset tenant admin that a platform admin reset it, when, and what to do; nothing of the log beyond that', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const logId = await resetOf(tenant.id, admin);
    const log = await h.db('tenant_admin_mfa_reset_logs').where({ id: logId }).first();
    const at = new Date(log.created_at).toISOString();

    const agent = await passwordStep(tenant.slug, admin, 'enroll-mfa');
    const offer = await agent.get('/auth/mfa/enroll').set(json).expect(200);
    expect(offer.body.mfaResetAt).toBe(at);
    const page = await agent.get('/auth/mfa/enroll').set('Accept', 'text/html').expect(200);
    expect(page.text).toContain('A platform admin reset your authenticator on');
    expect(page.text).toContain(`datetime="${at}"`);
    expect(page.text).toContain('If you did not, do not set one up');
    expect(page.text).toContain('They can undo the reset');
    // Neither the reason nor any previous_* value (the old secret's ciphertext) reaches the page.
    for (const value of [log.reason, log.previous_totp_secret, log.previous_recovery_code_hashes])
      if (value) expect(page.text).not.toContain(value);
  });

  it('does not name a reset that was rolled back, nor one that never happened', async () => {
    const tenant = await createTenant(h.db);
    const fresh = await createTenantAdmin(h, tenant.id, { mfa: false });
    const first = await passwordStep(tenant.slug, fresh, 'enroll-mfa');
    const plain = await first.get('/auth/mfa/enroll').set('Accept', 'text/html').expect(200);
    expect(plain.text).not.toContain('A platform admin reset');
    expect((await first.get('/auth/mfa/enroll').set(json).expect(200)).body.mfaResetAt).toBeUndefined();

    // Reset, rolled back, then the factor cleared again by a second reset: only the open one is named.
    const admin = await createTenantAdmin(h, tenant.id);
    const older = await resetOf(tenant.id, admin);
    await operator.post(`/admin/mfa-resets/${older}/rollback`).set(json).send({ reason: 'Mistake' }).expect(200);
    h.clock.advance(60_000);
    const newer = await resetOf(tenant.id, admin);
    const newerAt = new Date((await h.db('tenant_admin_mfa_reset_logs').where({ id: newer }).first()).created_at);
    const agent = await passwordStep(tenant.slug, admin, 'enroll-mfa');
    expect((await agent.get('/auth/mfa/enroll').set(json).expect(200)).body.mfaResetAt).toBe(newerAt.toISOString());
    await operator.post(`/admin/mfa-resets/${newer}/rollback`).set(json).send({ reason: 'Mistake' }).expect(200);
  });
});

describe('a platform admin', () => {
  it('replaces their own authenticator the same way', async () => {
    const platform = await h.seedPlatformAdmin();
    const own = await signIn(built.agent(), h.clock, platform);
    const fresh = await replace(own);
    const row = await h.db('platform_admins').where({ id: platform.id }).first();
    expect(
      h.totpKeys.decrypt(row.totp_secret, { table: 'platform_admins', column: 'totp_secret', rowId: platform.id }),
    ).toBe(fresh);
    next30s();
    const again = built.agent();
    await again.post('/auth/login').set(json).send({ email: platform.email, password: platform.password }).expect(200);
    await again
      .post('/auth/mfa/verify')
      .set(json)
      .send({ code: await totpCode(fresh, h.clock) })
      .expect(200);
    expect(
      await h.db('audit_events').where({ action: 'auth.authenticator_replaced', actor_id: platform.id }),
    ).toHaveLength(1);
  });
});

describe('replacement and rollback', () => {
  it('a reset after a replacement rolls back to the replacement, exactly', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const own = await signIn(built.agent(), h.clock, admin, tenant.slug);
    const replacement = await replace(own);

    const logId = await resetOf(tenant.id, admin);
    await operator.post(`/admin/mfa-resets/${logId}/rollback`).set(json).send({ reason: 'Found it' }).expect(200);
    expect(await signsInWith(tenant.slug, admin, replacement)).toBe(true);
    expect(await signsInWith(tenant.slug, admin, admin.totpSecret!)).toBe(false);
  });

  it('a replacement after a reset counts as a new factor: rollback refused unless forced, then the factor from before the reset', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const logId = await resetOf(tenant.id, admin);

    // The admin enrols again, then replaces that one.
    const agent = await passwordStep(tenant.slug, admin, 'enroll-mfa');
    const enrolled = (await agent.get('/auth/mfa/enroll').set(json).expect(200)).body.secret as string;
    await agent
      .post('/auth/mfa/enroll')
      .set(json)
      .send({ code: await totpCode(enrolled, h.clock) })
      .expect(200);
    next30s();
    const replacement = await replace(agent);

    const refused = await operator
      .post(`/admin/mfa-resets/${logId}/rollback`)
      .set(json)
      .send({ reason: 'Mistake' })
      .expect(409);
    expect(refused.body.code).toBe('mfa.new_factor_enrolled');
    expect(await signsInWith(tenant.slug, admin, replacement)).toBe(true);

    await operator
      .post(`/admin/mfa-resets/${logId}/rollback`)
      .set(json)
      .send({ reason: 'Mistake', force: true, forceReason: 'She did not ask for the reset' })
      .expect(200);
    expect(await signsInWith(tenant.slug, admin, admin.totpSecret!)).toBe(true);
    expect(await signsInWith(tenant.slug, admin, replacement)).toBe(false);
    // The replacing session was ended by the rollback.
    await agent.get('/auth/me').set(json).expect(401);
  });
});
