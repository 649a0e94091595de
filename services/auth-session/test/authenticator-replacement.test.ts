// Replacing one's own authenticator: the new one is confirmed with a code of its own before the
// old one is dropped; a wrong code, a cancel or a factor changed meanwhile leave the old one in
// place; a recent password + code is needed; the swap is audited and ends the other sessions.
import request from 'supertest';
import {
  createHarness,
  createTenant,
  createTenantAdmin,
  csrfTokenIn,
  type Harness,
  json,
  type SeededAdmin,
  signInFully,
  totpCode,
} from '../../../test/support/auth-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

const page = { Accept: 'text/html' };
const keyOf = (text: string) => /Or type this key: <code>([A-Z2-7]+)<\/code>/.exec(text)![1]!;
const secretColumn = async (id: string) => (await h.db('tenant_admins').where({ id }).first()).totp_secret as string;

/** A fresh password + code sign-in, through the JSON API, with `code`; answers the second step's status. */
async function signInWith(app: ReturnType<Harness['build']>['app'], slug: string, admin: SeededAdmin, code: string) {
  const agent = request.agent(app.callback());
  await agent
    .post('/auth/login')
    .set(json)
    .send({ tenant: slug, email: admin.email, password: admin.password })
    .expect(200);
  return (await agent.post('/auth/mfa/verify').set(json).send({ code })).status;
}

describe('authenticator replacement (JSON API)', () => {
  it('keeps the old authenticator until a code from the new one confirms it, then swaps, audits and ends the other sessions', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id, { recoveryCodes: ['abcd-efgh-jkmn', 'pqrs-tuvw-xyz2'] });
    const { app } = h.build();
    const agent = await signInFully(app, h.clock, tenant.slug, admin);
    const before = await secretColumn(admin.id);

    const started = await agent.post('/auth/authenticator/replacement').set(json).expect(200);
    expect(started.headers['cache-control']).toBe('no-store');
    const fresh = started.body.secret as string;
    expect(fresh).toMatch(/^[A-Z2-7]{16,}$/);
    expect(fresh).not.toBe(admin.totpSecret);
    expect(started.body.otpauthUri).toContain(`secret=${fresh}`);
    expect((await agent.get('/auth/authenticator').set(json).expect(200)).body).toMatchObject({
      replacementPending: true,
    });

    // Pending: nothing changed, the old authenticator still signs in (another browser, the next time-step).
    expect(await secretColumn(admin.id)).toBe(before);
    h.clock.advance(30_000);
    const other = request.agent(app.callback());
    await other
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password });
    await other
      .post('/auth/mfa/verify')
      .set(json)
      .send({ code: await totpCode(admin.totpSecret!, h.clock) })
      .expect(200);

    // A code from the OLD app is no confirmation: refused with a clear message, the old factor kept.
    h.clock.advance(30_000);
    const wrong = await agent
      .post('/auth/authenticator/replacement/confirm')
      .set(json)
      .send({ code: await totpCode(admin.totpSecret!, h.clock) })
      .expect(401);
    expect(wrong.body.code).toBe('auth.invalid_code');
    expect(wrong.body.message).toContain('not from the new authenticator');
    expect(wrong.body.message).toContain('your current authenticator still works');
    expect(await secretColumn(admin.id)).toBe(before);
    expect(await h.db('audit_events').where({ action: 'auth.authenticator_replaced' })).toHaveLength(0);

    const confirmedAt = h.clock.now();
    const confirmed = await agent
      .post('/auth/authenticator/replacement/confirm')
      .set(json)
      .send({ code: await totpCode(fresh, h.clock) })
      .expect(200);
    expect(confirmed.body).toEqual({ replaced: true, otherSessionsEnded: 1 });
    expect(await secretColumn(admin.id)).not.toBe(before);
    // This browser goes on; the other one is signed out.
    await agent.get('/auth/me').set(json).expect(200);
    await other.get('/auth/me').set(json).expect(401);
    const after = (await agent.get('/auth/authenticator').set(json).expect(200)).body;
    expect(after.replacementPending).toBe(false);
    expect(Date.parse(after.enrolledAt)).toBeGreaterThanOrEqual(confirmedAt);

    const events = await h.db('audit_events').where({ action: 'auth.authenticator_replaced', actor_id: admin.id });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ target_id: admin.id, tenant_id: tenant.id });
    expect(JSON.stringify(events[0])).not.toContain(fresh);

    // Old code refused, new code accepted (a later time-step: the confirming one is spent), recovery codes kept.
    h.clock.advance(30_000);
    expect(await signInWith(app, tenant.slug, admin, await totpCode(admin.totpSecret!, h.clock))).toBe(401);
    expect(await signInWith(app, tenant.slug, admin, await totpCode(fresh, h.clock))).toBe(200);
    expect(await signInWith(app, tenant.slug, admin, 'abcd-efgh-jkmn')).toBe(200);
  });

  it('does not accept the confirming code again at sign-in', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const agent = await signInFully(app, h.clock, tenant.slug, admin);
    const fresh = (await agent.post('/auth/authenticator/replacement').set(json).expect(200)).body.secret as string;
    const code = await totpCode(fresh, h.clock);
    await agent.post('/auth/authenticator/replacement/confirm').set(json).send({ code }).expect(200);
    expect(await signInWith(app, tenant.slug, admin, code)).toBe(401);
  });

  it('needs a recent password + code to start and to confirm; the pending one survives the detour', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const agent = await signInFully(app, h.clock, tenant.slug, admin);
    const before = await secretColumn(admin.id);
    h.clock.advance(10 * 60_000);
    await agent
      .post('/auth/authenticator/replacement')
      .set(json)
      .expect(403, /auth.reauthentication_required/);
    const reauthenticate = async () =>
      agent
        .post('/auth/reauthenticate')
        .set(json)
        .send({ password: admin.password, code: await totpCode(admin.totpSecret!, h.clock) })
        .expect(200);
    await reauthenticate();
    const fresh = (await agent.post('/auth/authenticator/replacement').set(json).expect(200)).body.secret as string;

    h.clock.advance(10 * 60_000);
    await agent
      .post('/auth/authenticator/replacement/confirm')
      .set(json)
      .send({ code: await totpCode(fresh, h.clock) })
      .expect(403, /auth.reauthentication_required/);
    expect(await secretColumn(admin.id)).toBe(before);
    await reauthenticate();
    h.clock.advance(30_000);
    await agent
      .post('/auth/authenticator/replacement/confirm')
      .set(json)
      .send({ code: await totpCode(fresh, h.clock) })
      .expect(200, { replaced: true, otherSessionsEnded: 0 });
  });

  it('changes nothing when cancelled, when nothing was started, or when the factor changed since the start', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const agent = await signInFully(app, h.clock, tenant.slug, admin);
    const before = await secretColumn(admin.id);

    const nothing = await agent.post('/auth/authenticator/replacement/confirm').set(json).send({ code: '123456' });
    expect(nothing.status).toBe(409);
    expect(nothing.body).toMatchObject({ code: 'mfa.no_enrolment' });
    expect(nothing.body.message).toContain('start the replacement again');

    const cancelled = (await agent.post('/auth/authenticator/replacement').set(json).expect(200)).body.secret;
    await agent.post('/auth/authenticator/replacement/cancel').set(json).expect(200, { cancelled: true });
    await agent
      .post('/auth/authenticator/replacement/confirm')
      .set(json)
      .send({ code: await totpCode(cancelled, h.clock) })
      .expect(409, /mfa.no_enrolment/);
    expect(await secretColumn(admin.id)).toBe(before);

    // As if a reset and a new enrolment happened in between (the enrolment time moves).
    const stale = (await agent.post('/auth/authenticator/replacement').set(json).expect(200)).body.secret;
    await h
      .db('tenant_admins')
      .where({ id: admin.id })
      .update({ mfa_enrolled_at: new Date(h.clock.now() + 1000) });
    const refused = await agent
      .post('/auth/authenticator/replacement/confirm')
      .set(json)
      .send({ code: await totpCode(stale, h.clock) })
      .expect(409);
    expect(refused.body.code).toBe('mfa.factor_changed');
    expect(refused.body.message).toContain('changed since you started');
    expect(await secretColumn(admin.id)).toBe(before);
  });

  it('is refused below level 2', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const agent = request.agent(app.callback());
    await agent
      .post('/auth/login')
      .set(json)
      .send({ tenant: tenant.slug, email: admin.email, password: admin.password });
    await agent
      .post('/auth/authenticator/replacement')
      .set(json)
      .expect(403, /auth.mfa_required/);
  });
});

describe('authenticator replacement (pages)', () => {
  it('walks a browser through start, a wrong code, cancel and confirm, from the account page', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const agent = await signInFully(app, h.clock, tenant.slug, admin);
    const before = await secretColumn(admin.id);

    const home = await agent.get('/auth/me').set(page).expect(200);
    expect(home.text).toContain('href="/auth/authenticator"');
    const status = await agent.get('/auth/authenticator').set(page).expect(200);
    expect(status.headers['cache-control']).toBe('no-store');
    expect(status.text).toContain('Your authenticator was set up on');
    expect(status.text).toContain('recovery codes stay valid');
    const token = csrfTokenIn(status.text);

    const started = await agent
      .post('/auth/authenticator/replacement')
      .type('form')
      .set(page)
      .send({ _csrf: token, _return: '/auth/authenticator' })
      .expect(200);
    expect(started.headers['cache-control']).toBe('no-store');
    expect(started.text).toContain('<img src="data:image/png;base64,');
    const fresh = keyOf(started.text);

    const wrong = await agent
      .post('/auth/authenticator/replacement/confirm')
      .type('form')
      .set(page)
      .send({ _csrf: csrfTokenIn(started.text), code: '000000' })
      .expect(401);
    expect(wrong.headers['content-type']).toMatch(/text\/html/);
    expect(wrong.text).toContain('not from the new authenticator');
    expect(keyOf(wrong.text)).toBe(fresh);
    expect(await secretColumn(admin.id)).toBe(before);

    // Back on the status page the replacement is shown as waiting (without its key), and can be cancelled.
    const waiting = await agent.get('/auth/authenticator').set(page).expect(200);
    expect(waiting.text).toContain('waiting for its first code');
    expect(waiting.text).not.toContain(fresh);
    await agent
      .post('/auth/authenticator/replacement/cancel')
      .type('form')
      .set(page)
      .send({ _csrf: csrfTokenIn(waiting.text) })
      .expect(303)
      .expect('location', '/auth/authenticator');
    const afterCancel = await agent.get('/auth/authenticator').set(page).expect(200);
    expect(afterCancel.text).not.toContain('waiting for its first code');

    const again = await agent
      .post('/auth/authenticator/replacement')
      .type('form')
      .set(page)
      .send({ _csrf: csrfTokenIn(afterCancel.text) })
      .expect(200);
    const second = keyOf(again.text);
    expect(second).not.toBe(fresh);
    const done = await agent
      .post('/auth/authenticator/replacement/confirm')
      .type('form')
      .set(page)
      .send({ _csrf: csrfTokenIn(again.text), code: await totpCode(second, h.clock) })
      .expect(200);
    expect(done.text).toContain('Authenticator replaced');
    expect(done.text).toContain('codes from the old one no longer work');
    expect(await secretColumn(admin.id)).not.toBe(before);
  });

  it('sends a late start through re-authentication and back to the authenticator page', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const { app } = h.build();
    const agent = await signInFully(app, h.clock, tenant.slug, admin);
    const status = await agent.get('/auth/authenticator').set(page).expect(200);
    h.clock.advance(10 * 60_000);
    await agent
      .post('/auth/authenticator/replacement')
      .type('form')
      .set(page)
      .send({ _csrf: csrfTokenIn(status.text), _return: '/auth/authenticator' })
      .expect(303)
      .expect('location', '/auth/reauthenticate?next=%2Fauth%2Fauthenticator');
  });
});
