// The story end to end on real PostgreSQL and Redis: a tenant admin with a real TOTP
// secret signs in; a platform admin resets their MFA (sessions end, the old code no longer
// signs in); the platform admin rolls it back and the same authenticator's codes work again.
import { userIdOf } from '@portcullis/session-auth';
import {
  createAdminHarness,
  createTenant,
  createTenantAdmin,
  json,
  signIn,
  totpCode,
  type AdminHarness,
} from '../../../test/support/admin-harness.js';

let h: AdminHarness;
beforeAll(async () => {
  h = await createAdminHarness();
});
afterAll(() => h.close());

const FACTOR_COLUMNS = [
  'totp_secret',
  'mfa_enabled',
  'mfa_enrolled_at',
  'totp_last_used_step',
  'recovery_code_hashes',
] as const;
const factorOf = async (id: string) => {
  const row = await h.db('tenant_admins').where({ id }).first(FACTOR_COLUMNS);
  return row as Record<(typeof FACTOR_COLUMNS)[number], unknown>;
};

describe('MFA reset and rollback', () => {
  it('signs the admin out and refuses the old code after a reset, then a rollback makes the same authenticator work again', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id, { recoveryCodes: ['abcd-efgh-jkmn', 'pqrs-tuvw-xyz2'] });
    const platform = await h.seedPlatformAdmin();
    const built = h.build();
    const operator = await signIn(built.agent(), h.clock, platform);
    const victim = await signIn(built.agent(), h.clock, admin, tenant.slug);
    await victim.get('/auth/me').set(json).expect(200);
    const before = await factorOf(admin.id);
    expect(before.mfa_enabled).toBe(true);

    const reset = await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
      .set(json)
      .send({ reason: 'Lost phone, verified by video call', ticket: 'SUP-1042' })
      .expect(200);
    expect(reset.body).toMatchObject({
      sessionsRevoked: 'done',
      reset: {
        tenantId: tenant.id,
        adminId: admin.id,
        adminEmail: admin.email,
        resetBy: platform.id,
        reason: 'Lost phone, verified by video call',
        ticket: 'SUP-1042',
        rolledBack: false,
      },
    });
    expect(Object.keys(reset.body.reset).some((key) => key.startsWith('previous'))).toBe(false);
    // Signed out: the database cut-off refuses the session, and the store no longer holds it.
    await victim.get('/auth/me').set(json).expect(401);
    expect(await built.store.listByUser(userIdOf('tenant', admin.id))).toEqual([]);
    expect(await factorOf(admin.id)).toEqual({
      totp_secret: null,
      mfa_enabled: false,
      mfa_enrolled_at: null,
      totp_last_used_step: null,
      recovery_code_hashes: null,
    });

    // The old authenticator no longer signs in: the password leads to enrolment, and the code is refused.
    h.clock.advance(30_000);
    const afterReset = built.agent();
    await afterReset
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200, { assurance: 1, next: 'enroll-mfa' });
    await afterReset
      .post('/auth/mfa/verify')
      .set(json)
      .send({ code: await totpCode(admin.totpSecret!, h.clock) })
      .expect(409, /mfa.not_enrolled/);
    await afterReset
      .post('/auth/mfa/verify')
      .set(json)
      .send({ code: 'abcd-efgh-jkmn' })
      .expect(409, /mfa.not_enrolled/);

    const rolled = await operator
      .post(`/admin/mfa-resets/${reset.body.reset.id}/rollback`)
      .set(json)
      .send({ reason: 'The caller was not the admin' })
      .expect(200);
    expect(rolled.body).toMatchObject({
      sessionsRevoked: 'done',
      reset: {
        id: reset.body.reset.id,
        rolledBack: true,
        rolledBackBy: platform.id,
        rollbackReason: 'The caller was not the admin',
        rollbackForced: false,
      },
    });
    // Exactly as before: the same stored secret, enrolment time, replay guard and recovery codes.
    expect(await factorOf(admin.id)).toEqual(before);
    // The session opened while the factor was cleared is gone too.
    await afterReset.get('/auth/me').set(json).expect(401);

    h.clock.advance(30_000);
    const restored = await signIn(built.agent(), h.clock, admin, tenant.slug);
    await restored.get('/auth/me').set(json).expect(200);
    // The recovery codes came back as well.
    const withCode = built.agent();
    await withCode
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password })
      .expect(200);
    await withCode.post('/auth/mfa/verify').set(json).send({ code: 'pqrs-tuvw-xyz2' }).expect(200);

    const events = await h
      .db('audit_events')
      .where({ tenant_id: tenant.id })
      .whereIn('action', ['mfa.reset', 'mfa.reset_rolled_back'])
      .orderBy('seq');
    expect(events.map((event) => [event.action, event.actor_id, event.target_id, event.details.logId])).toEqual([
      ['mfa.reset', platform.id, admin.id, reset.body.reset.id],
      ['mfa.reset_rolled_back', platform.id, admin.id, reset.body.reset.id],
    ]);
    expect(JSON.stringify(events)).not.toContain('Lost phone');
  });

  it('never writes a previous_* value in plaintext: the table, the audit log, the responses and the logs hold no trace of the factor', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id, { recoveryCodes: ['abcd-efgh-jkmn'] });
    const platform = await h.seedPlatformAdmin();
    const built = h.build();
    const operator = await signIn(built.agent(), h.clock, platform);
    const victim = await signIn(built.agent(), h.clock, admin, tenant.slug);
    await victim.get('/auth/me').set(json).expect(200);
    const before = await h.db('tenant_admins').where({ id: admin.id }).first();
    const responses: string[] = [];
    const reset = await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
      .set(json)
      .send({ reason: 'Lost phone' })
      .expect(200);
    responses.push(reset.text);
    responses.push((await operator.get(`/admin/tenants/${tenant.id}/mfa-resets`).set(json).expect(200)).text);
    responses.push((await operator.get(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa-resets`).expect(200)).text);
    responses.push(
      (
        await operator
          .post(`/admin/mfa-resets/${reset.body.reset.id}/rollback`)
          .set(json)
          .send({ reason: 'Mistake' })
          .expect(200)
      ).text,
    );

    const row = await h.db('tenant_admin_mfa_reset_logs').where({ id: reset.body.reset.id }).first();
    for (const column of [
      'previous_totp_secret',
      'previous_mfa_enabled',
      'previous_mfa_enrolled_at',
      'previous_totp_last_used_step',
      'previous_recovery_code_hashes',
    ]) {
      expect(
        h.resetLogKeys.classify(row[column], { table: 'tenant_admin_mfa_reset_logs', column, rowId: row.id }),
      ).toMatchObject({ kind: 'encrypted', role: 'primary' });
    }
    const secrets = [
      admin.totpSecret!,
      before.totp_secret as string, // the live envelope itself is only ever stored wrapped
      ...(JSON.parse(before.recovery_code_hashes as string) as string[]),
      before.mfa_enrolled_at.toISOString(),
    ];
    const everything = [
      JSON.stringify(await h.db('tenant_admin_mfa_reset_logs').select()),
      JSON.stringify(await h.db('audit_events').select()),
      JSON.stringify(await h.db('session_revocations').select()),
      ...responses,
      ...h.logLines,
    ].join('\n');
    for (const secret of secrets) expect(everything).not.toContain(secret);
    expect(h.logLines.length).toBeGreaterThan(0);
  });
});
