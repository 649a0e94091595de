// A re-authentication is audited (and so counted) as `auth.reauthenticated`, apart from the
// second factors of sign-ins (`auth.mfa_verified`): the "Auth service" dashboard can tell a burst
// of sensitive actions from a burst of sign-ins.
import {
  createHarness,
  createTenant,
  createTenantAdmin,
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

describe('re-authentication audit', () => {
  it('records auth.reauthenticated with its method, not auth.mfa_verified, and counts it', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id, { recoveryCodes: ['abcd-efgh-jkmn'] });
    const { app, metrics } = h.build();
    const agent = await signInFully(app, h.clock, tenant.slug, admin);
    const events = async (action: string) =>
      h.db('audit_events').where({ actor_id: admin.id, action }).orderBy('id').select('details');
    const counted = async (action: string) =>
      (await metrics.registry.getSingleMetric('portcullis_audit_events_total')!.get()).values
        .filter((value) => value.labels.action === action)
        .reduce((sum, value) => sum + value.value, 0);
    expect(await events('auth.mfa_verified')).toHaveLength(1);

    h.clock.advance(30_000);
    await agent
      .post('/auth/reauthenticate')
      .set(json)
      .send({ password: admin.password, code: await totpCode(admin.totpSecret!, h.clock) })
      .expect(200);
    await agent
      .post('/auth/reauthenticate')
      .set(json)
      .send({ password: admin.password, code: 'abcd-efgh-jkmn' })
      .expect(200);
    // A wrong code is a failed factor, as at sign-in, and no re-authentication.
    await agent.post('/auth/reauthenticate').set(json).send({ password: admin.password, code: '000000' }).expect(401);

    expect(await events('auth.mfa_verified')).toHaveLength(1);
    expect((await events('auth.reauthenticated')).map((row) => row.details)).toEqual([
      { method: 'totp' },
      { method: 'recovery_code' },
    ]);
    expect(await events('auth.recovery_code_used')).toHaveLength(1);
    expect(await events('auth.mfa_verify_failed')).toHaveLength(1);
    expect(await counted('auth.reauthenticated')).toBe(2);
    expect(await counted('auth.mfa_verified')).toBe(1);
  });
});
