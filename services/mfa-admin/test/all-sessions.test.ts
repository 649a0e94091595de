// Platform-wide "who is signed in": every admin's live sessions with their tenant, in bounded
// pages, and ending one (confirmed in a browser, audited), on the harness's PostgreSQL and Redis.
import { randomUUID } from 'node:crypto';
import type request from 'supertest';
import {
  type AdminHarness,
  type Built,
  createAdminHarness,
  createTenant,
  createTenantAdmin,
  csrfTokenIn,
  json,
  signIn,
} from '../../../test/support/admin-harness.js';
import { MAX_LOOKUPS } from '../src/libraries/live-sessions.js';

const html = { Accept: 'text/html' };

let h: AdminHarness;
let built: Built;
let operator: ReturnType<typeof request.agent>;
let operatorId: string;
beforeAll(async () => {
  h = await createAdminHarness();
  built = h.build();
  const platform = await h.seedPlatformAdmin();
  operatorId = platform.id;
  operator = await signIn(built.agent().set('user-agent', 'Operator browser'), h.clock, platform);
});
afterAll(() => h.close());

interface Listed {
  id: string;
  adminId: string;
  adminKind: string;
  tenantSlug: string | null;
}

/** Every page from the first, with the store lookups each page cost. */
async function walk(limit: number) {
  const lookups: number[] = [];
  const pages: Listed[][] = [];
  const listByUser = built.store.listByUser.bind(built.store);
  let calls = 0;
  built.store.listByUser = (userId: string) => (calls++, listByUser(userId));
  try {
    let after: string | undefined;
    for (let page = 0; page < 100; page++) {
      calls = 0;
      const response = await operator
        .get('/admin/sessions')
        .query({ limit, ...(after ? { after } : {}) })
        .set(json)
        .expect(200);
      lookups.push(calls);
      pages.push(response.body.sessions);
      if (!response.body.hasNext) break;
      after = response.body.nextCursor;
    }
  } finally {
    built.store.listByUser = listByUser;
  }
  return { pages, lookups, all: pages.flat() };
}

describe('platform-wide sessions', () => {
  it('lists the sessions of platform admins and of every tenant’s admins, with the tenant', async () => {
    const [north, south] = [await createTenant(h.db), await createTenant(h.db)];
    const alice = await createTenantAdmin(h, north.id);
    const bob = await createTenantAdmin(h, south.id);
    await signIn(built.agent().set('user-agent', 'Alice browser'), h.clock, alice, north.slug);
    await signIn(built.agent(), h.clock, bob, south.slug);
    const { all } = await walk(50);
    const mine = all.filter((session) => [operatorId, alice.id, bob.id].includes(session.adminId));
    expect(mine).toHaveLength(3);
    expect(all.find((session) => session.adminId === alice.id)).toMatchObject({
      adminKind: 'tenant',
      adminEmail: alice.email,
      tenantId: north.id,
      tenantSlug: north.slug,
      tenantName: north.slug,
      userAgent: 'Alice browser',
      ip: expect.any(String),
      assurance: 2,
    });
    expect(all.find((session) => session.adminId === operatorId)).toMatchObject({
      adminKind: 'platform',
      tenantId: null,
      tenantSlug: null,
      userAgent: 'Operator browser',
    });
    // Platform admins first, then by tenant slug.
    const slugs = all.map((session) => session.tenantSlug ?? '');
    expect(slugs).toEqual([...slugs].sort());
    expect(slugs[0]).toBe('');
  });

  it('pages through many admins: every session once, and no page looks up more than the bound', async () => {
    const m = randomUUID().slice(0, 6);
    // More admins without a session than one page may look up, then admins who are signed in.
    const quiet = await createTenant(h.db, `a0-${m}`);
    const now = new Date();
    await h.db('tenant_admins').insert(
      Array.from({ length: MAX_LOOKUPS + 50 }, (_, index) => ({
        id: randomUUID(),
        tenant_id: quiet.id,
        email: `quiet-${index}@example.com`,
        password_hash: 'not-a-hash',
        mfa_enabled: false,
        must_change_password: true,
        failed_attempts: 0,
        created_at: now,
        updated_at: now,
      })),
    );
    const busy = await createTenant(h.db, `a1-${m}`);
    const signedIn: string[] = [];
    for (let index = 0; index < 5; index++) {
      const admin = await createTenantAdmin(h, busy.id);
      // Two sessions for the first admin: one admin's sessions stay on one page.
      for (let session = 0; session < (index === 0 ? 2 : 1); session++) {
        await signIn(built.agent(), h.clock, admin, busy.slug);
        h.clock.advance(30_000); // the next code: each TOTP code is accepted once
      }
      signedIn.push(admin.id);
    }
    const { pages, lookups, all } = await walk(2);
    expect(Math.max(...lookups)).toBeLessThanOrEqual(MAX_LOOKUPS);
    const ids = all.map((session) => session.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(all.filter((session) => signedIn.includes(session.adminId))).toHaveLength(6);
    // The quiet admins spent a page's budget: a page ended short with more to come.
    expect(pages.slice(0, -1).some((page) => page.length < 2)).toBe(true);
    // And a page of the walk never splits one admin's sessions.
    const firstAdmin = pages.findIndex((page) => page.some((session) => session.adminId === signedIn[0]));
    expect(pages[firstAdmin]!.filter((session) => session.adminId === signedIn[0])).toHaveLength(2);
  });

  it('ends a tenant admin’s session after a confirmation page, and audits it', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const session = await signIn(built.agent(), h.clock, admin, tenant.slug);
    // Through the pages as a browser follows them ("Next page"), to the one that lists her.
    let page = await operator.get('/admin/sessions').set(html).expect(200);
    for (let hops = 0; !page.text.includes(admin.email) && hops < 20; hops++) {
      const next = /<a rel="next" href="([^"]+)"/.exec(page.text)![1]!.replaceAll('&amp;', '&');
      page = await operator.get(next).set(html).expect(200);
      expect(page.text).toContain('<a href="/admin/sessions">First page</a>');
    }
    expect(page.headers['cache-control']).toContain('no-store');
    expect(page.text).toContain(`<a href="/admin/tenants/${tenant.id}/sessions">${tenant.slug}</a>`);
    const action = new RegExp(`action="(/admin/admins/${admin.id}/sessions/[0-9a-f]{64}/end)"`).exec(page.text)![1]!;
    const ask = await operator
      .post(action)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(page.text) })
      .expect(200);
    expect(ask.text).toContain(`<h1>End this session of ${admin.email}?</h1>`);
    expect(ask.text).toContain(`(tenant ${tenant.slug})`);
    expect(ask.text).toContain('name="confirm" value="yes"');
    await session.get('/auth/me').set(json).expect(200);
    const done = await operator
      .post(action)
      .type('form')
      .set(html)
      .send({ _csrf: csrfTokenIn(ask.text), confirm: 'yes' })
      .expect(303);
    expect(done.headers.location).toBe('/admin/sessions?done=ended');
    await session.get('/auth/me').set(json).expect(401);
    const after = await operator.get(done.headers.location!).set(html).expect(200);
    expect(after.text).toContain('Session ended: that browser is signed out.');
    const events = await h.db('audit_events').where({ action: 'session.ended_by_platform_admin', target_id: admin.id });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ tenant_id: tenant.id, target_type: 'tenant_admin', actor_id: operatorId });
  });

  it('ends another platform admin’s session through the API (audited without a tenant); unknown ones are 404', async () => {
    const other = await h.seedPlatformAdmin();
    const otherAgent = await signIn(built.agent(), h.clock, other);
    const { all } = await walk(100);
    const target = all.find((session) => session.adminId === other.id)!;
    // A session id under the wrong admin, an admin who does not exist: both unknown.
    await operator
      .post(`/admin/admins/${operatorId}/sessions/${target.id}/end`)
      .set(json)
      .expect(404, /session.not_found/);
    await operator.post(`/admin/admins/${randomUUID()}/sessions/${target.id}/end`).set(json).expect(404);
    await otherAgent.get('/auth/me').set(json).expect(200);
    const ended = await operator.post(`/admin/admins/${other.id}/sessions/${target.id}/end`).set(json).expect(200);
    expect(ended.body.ended).toMatchObject({ id: target.id, adminKind: 'platform', tenantId: null });
    await otherAgent.get('/auth/me').set(json).expect(401);
    const event = await h
      .db('audit_events')
      .where({ action: 'session.ended_by_platform_admin', target_id: other.id })
      .first();
    expect(event).toMatchObject({ tenant_id: null, target_type: 'platform_admin' });
    await operator.post(`/admin/admins/${other.id}/sessions/${target.id}/end`).set(json).expect(404);
  });

  it('is for platform admins only: a tenant admin gets 403, as a page in a browser', async () => {
    const tenant = await createTenant(h.db);
    const admin = await createTenantAdmin(h, tenant.id);
    const agent = await signIn(built.agent(), h.clock, admin, tenant.slug);
    await agent
      .get('/admin/sessions')
      .set(json)
      .expect(403, /auth.forbidden/);
    const page = await agent.get('/admin/sessions').set(html).expect(403);
    expect(page.type).toBe('text/html');
    await agent
      .post(`/admin/admins/${admin.id}/sessions/${'0'.repeat(64)}/end`)
      .set(json)
      .expect(403);
  });

  it('answers bad parameters with 400 and takes empty fields as not given', async () => {
    await operator.get('/admin/sessions?limit=&after=').set(json).expect(200);
    const cases: [string, RegExp][] = [
      ['limit=0', /limit: must be at least 1/],
      ['limit=101', /limit: must be at most 100/],
      ['after=nope', /after: must be a cursor from a previous page/],
      [
        `after=${Buffer.from(JSON.stringify(['', 'a@example.com', 'x'])).toString('base64url')}`,
        /after: must be a cursor/,
      ],
    ];
    for (const [query, message] of cases) {
      const response = await operator.get(`/admin/sessions?${query}`).set(json).expect(400);
      expect(response.body.message).toMatch(message);
    }
    await operator
      .post(`/admin/admins/not-a-uuid/sessions/${'0'.repeat(64)}/end`)
      .set(json)
      .expect(400, /id: must be an id/);
  });
});
