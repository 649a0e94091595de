// Every refused rollback (409), the forced one, and two rollbacks racing (a double click).
import type request from 'supertest';
import {
  createAdminHarness,
  createTenant,
  createTenantAdmin,
  json,
  signIn,
  type AdminHarness,
  type Built,
  type SeededAdmin,
} from '../../../test/support/admin-harness.js';

let h: AdminHarness;
let built: Built;
let operator: ReturnType<typeof request.agent>;
let platform: SeededAdmin;

beforeAll(async () => {
  h = await createAdminHarness();
  built = h.build();
  platform = await h.seedPlatformAdmin();
  operator = await signIn(built.agent(), h.clock, platform);
});
afterAll(() => h.close());

async function resetOne(): Promise<{ tenantId: string; admin: SeededAdmin; logId: string }> {
  const tenant = await createTenant(h.db);
  const admin = await createTenantAdmin(h, tenant.id);
  const reset = await operator
    .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
    .set(json)
    .send({ reason: 'Lost phone' })
    .expect(200);
  return { tenantId: tenant.id, admin, logId: reset.body.reset.id as string };
}

/** What enrolling a new authenticator leaves in the row (as auth-session's activation does). */
const enrolNewFactor = (adminId: string) =>
  h
    .db('tenant_admins')
    .where({ id: adminId })
    .update({
      totp_secret: h.totpKeys.encrypt('NEWSECRETNEWSECRETNEWSECRETNEWSE', {
        table: 'tenant_admins',
        column: 'totp_secret',
        rowId: adminId,
      }),
      mfa_enabled: true,
      mfa_enrolled_at: new Date(h.clock.now()),
      totp_last_used_step: '1',
    });

describe('refused rollbacks', () => {
  it('refuses a second rollback of the same reset', async () => {
    const { logId } = await resetOne();
    await operator.post(`/admin/mfa-resets/${logId}/rollback`).set(json).send({ reason: 'Mistake' }).expect(200);
    const again = await operator
      .post(`/admin/mfa-resets/${logId}/rollback`)
      .set(json)
      .send({ reason: 'Mistake' })
      .expect(409);
    expect(again.body).toMatchObject({
      code: 'mfa.reset_already_rolled_back',
      message: 'This reset has already been rolled back.',
    });
  });

  it('refuses to roll back a reset when a newer reset of the admin exists, and allows the newer one', async () => {
    const { tenantId, admin, logId: older } = await resetOne();
    await enrolNewFactor(admin.id);
    const newer = await operator
      .post(`/admin/tenants/${tenantId}/admins/${admin.id}/mfa/reset`)
      .set(json)
      .send({ reason: 'Lost phone again' })
      .expect(200);
    const refused = await operator
      .post(`/admin/mfa-resets/${older}/rollback`)
      .set(json)
      .send({ reason: 'Mistake', force: true, forceReason: 'Try anyway' })
      .expect(409);
    expect(refused.body.code).toBe('mfa.reset_superseded');
    await operator
      .post(`/admin/mfa-resets/${newer.body.reset.id}/rollback`)
      .set(json)
      .send({ reason: 'Mistake' })
      .expect(200);
  });

  it('refuses to replace a factor enrolled since the reset unless forced with its own reason, and records the force', async () => {
    const { tenantId, admin, logId } = await resetOne();
    await enrolNewFactor(admin.id);
    const refused = await operator
      .post(`/admin/mfa-resets/${logId}/rollback`)
      .set(json)
      .send({ reason: 'Mistake' })
      .expect(409);
    expect(refused.body.code).toBe('mfa.new_factor_enrolled');
    const noReason = await operator
      .post(`/admin/mfa-resets/${logId}/rollback`)
      .set(json)
      .send({ reason: 'Mistake', force: true })
      .expect(400);
    expect(noReason.body.fields).toEqual([{ path: 'forceReason', message: 'is required when force is set' }]);

    const forced = await operator
      .post(`/admin/mfa-resets/${logId}/rollback`)
      .set(json)
      .send({ reason: 'Mistake', force: true, forceReason: 'The new phone was the attacker’s' })
      .expect(200);
    expect(forced.body.reset).toMatchObject({
      rolledBack: true,
      rollbackForced: true,
      rollbackForceReason: 'The new phone was the attacker’s',
    });
    const restored = await h.db('tenant_admins').where({ id: admin.id }).first();
    expect(
      h.totpKeys.decrypt(restored.totp_secret, { table: 'tenant_admins', column: 'totp_secret', rowId: admin.id }),
    ).toBe(admin.totpSecret);
    const event = await h.db('audit_events').where({ tenant_id: tenantId, action: 'mfa.reset_rolled_back' }).first();
    expect(event.details).toMatchObject({
      logId,
      forced: true,
      sealed: { reason: expect.stringMatching(/^PCv1/), forceReason: expect.stringMatching(/^PCv1/) },
    });
  });

  it('answers 404 for an unknown reset and refuses a reset of an admin without a factor', async () => {
    await operator
      .post('/admin/mfa-resets/999999999/rollback')
      .set(json)
      .send({ reason: 'x' })
      .expect(404, /mfa_reset.not_found/);
    const { tenantId, admin } = await resetOne();
    const twice = await operator
      .post(`/admin/tenants/${tenantId}/admins/${admin.id}/mfa/reset`)
      .set(json)
      .send({ reason: 'again' })
      .expect(409);
    expect(twice.body.code).toBe('mfa.not_enrolled');
  });

  it('refuses an admin addressed through another tenant', async () => {
    const { admin } = await resetOne();
    const other = await createTenant(h.db);
    await operator
      .post(`/admin/tenants/${other.id}/admins/${admin.id}/mfa/reset`)
      .set(json)
      .send({ reason: 'x' })
      .expect(404, /tenant_admin.not_found/);
  });

  it('validates the reason: required, length-limited, no control characters', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const path = `/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`;
    expect((await operator.post(path).set(json).send({}).expect(400)).body.fields).toEqual([
      { path: 'reason', message: 'is required' },
    ]);
    expect((await operator.post(path).set(json).send({ reason: '   ' }).expect(400)).body.fields[0].message).toBe(
      'is required',
    );
    expect(
      (
        await operator
          .post(path)
          .set(json)
          .send({ reason: 'x'.repeat(501) })
          .expect(400)
      ).body.fields[0].message,
    ).toBe('must have at most 500 characters');
    expect((await operator.post(path).set(json).send({ reason: 'a\u0000b' }).expect(400)).body.fields[0].message).toBe(
      'must not contain control characters',
    );
    expect(
      (
        await operator
          .post(path)
          .set(json)
          .send({ reason: 'ok', ticket: 't'.repeat(101) })
          .expect(400)
      ).body.fields[0].path,
    ).toBe('ticket');
    expect((await h.db('tenant_admins').where({ id: admin.id }).first()).mfa_enabled).toBe(true);
  });
});

describe('concurrent rollbacks', () => {
  it('lets exactly one of two simultaneous rollbacks through (double click)', async () => {
    const { admin, logId } = await resetOne();
    h.clock.advance(30_000); // a second sign-in of the same admin needs the next TOTP code
    const second = await signIn(built.agent(), h.clock, platform);
    const attempts = await Promise.all(
      [operator, second, operator, second].map((agent) =>
        agent.post(`/admin/mfa-resets/${logId}/rollback`).set(json).send({ reason: 'Double click' }),
      ),
    );
    expect(attempts.map((response) => response.status).sort()).toEqual([200, 409, 409, 409]);
    expect(
      attempts
        .filter((response) => response.status === 409)
        .every((response) => response.body.code === 'mfa.reset_already_rolled_back'),
    ).toBe(true);
    const rollbacks = await h.db('audit_events').where({ action: 'mfa.reset_rolled_back', target_id: admin.id });
    expect(rollbacks).toHaveLength(1);
    expect((await h.db('tenant_admins').where({ id: admin.id }).first()).mfa_enabled).toBe(true);
  });

  it('lets exactly one of two simultaneous resets through', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const path = `/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`;
    const attempts = await Promise.all(
      [1, 2, 3].map(() => operator.post(path).set(json).send({ reason: 'Lost phone' })),
    );
    expect(attempts.map((response) => response.status).sort()).toEqual([200, 409, 409]);
    expect(await h.db('tenant_admin_mfa_reset_logs').where({ tenant_admin_id: admin.id })).toHaveLength(1);
  });
});
