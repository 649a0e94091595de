// The audit log as its readers use it: the events of real resets (made through mfa-admin),
// filters, cursor pages, exports, who sees what, and the chain check through HTTP.
import { randomUUID } from 'node:crypto';
import type { KeyRing } from '@portcullis/crypto';
import { createLogger, createMetrics } from '@portcullis/observability';
import type request from 'supertest';
import { createApp } from '../src/app.js';
import { csrfTokenIn, defaultSettings, SESSION_SECRET } from '../../../test/support/index.js';
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

const auditApp = (detailsKeys: KeyRing | undefined) => (store: Built['store']) => ({
  '/audit': createApp({
    db: h.db,
    store,
    audit: h.audit,
    detailsKeys,
    logger: createLogger({ service: 'audit-log', level: 'silent' }),
    metrics: createMetrics('audit-log'),
    clock: h.clock,
    settings: { ...defaultSettings, secrets: [SESSION_SECRET] },
  }),
});

beforeAll(async () => {
  h = await createAdminHarness();
  built = h.build({ extraApps: auditApp(h.detailsKeys) });
  platform = await h.seedPlatformAdmin();
  operator = await signIn(built.agent(), h.clock, platform);
});
afterAll(() => h.close());

async function tenantWithResets(resets: number) {
  const tenant = await createTenant(h.db);
  const admin = await createTenantAdmin(h, tenant.id);
  for (let i = 0; i < resets; i++) {
    const reset = await operator
      .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
      .set(json)
      .send({ reason: `Lost phone #${i}`, ticket: `=HYPERLINK("x")` })
      .expect(200);
    h.clock.advance(1000);
    await operator
      .post(`/admin/mfa-resets/${reset.body.reset.id}/rollback`)
      .set(json)
      .send({ reason: `Mistake #${i}` })
      .expect(200);
    h.clock.advance(1000);
  }
  return { tenant, admin };
}

describe('reading the audit log', () => {
  it('lists a tenant’s events newest first with the sealed reasons opened, filters them, and pages with a cursor', async () => {
    const { tenant, admin } = await tenantWithResets(3);
    const all = await operator.get(`/audit/events?tenant=${tenant.id}&action=mfa.*`).set(json).expect(200);
    expect(all.body.events.map((event: { action: string }) => event.action)).toEqual([
      'mfa.reset_rolled_back',
      'mfa.reset',
      'mfa.reset_rolled_back',
      'mfa.reset',
      'mfa.reset_rolled_back',
      'mfa.reset',
    ]);
    expect(all.body.events[1]).toMatchObject({
      tenantId: tenant.id,
      actorType: 'platform_admin',
      actorId: platform.id,
      targetId: admin.id,
      details: { reason: 'Lost phone #2', ticket: '=HYPERLINK("x")' },
    });
    expect(all.body.nextCursor).toBeNull();

    const pages: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: { body: { events: { id: string }[]; nextCursor: string | null } } = await operator
        .get(`/audit/events?tenant=${tenant.id}&limit=4${cursor ? `&cursor=${cursor}` : ''}`)
        .set(json)
        .expect(200);
      pages.push(...page.body.events.map((event) => event.id));
      cursor = page.body.nextCursor;
    }
    const everything = await operator.get(`/audit/events?tenant=${tenant.id}&limit=500`).set(json).expect(200);
    expect(pages).toEqual(everything.body.events.map((event: { id: string }) => event.id));

    const exact = await operator
      .get(`/audit/events?tenant=${tenant.id}&action=mfa.reset&actor=${platform.id}`)
      .set(json)
      .expect(200);
    expect(exact.body.events).toHaveLength(3);
    const newest = all.body.events[0].occurredAt as string;
    const window = await operator
      .get(`/audit/events?tenant=${tenant.id}&from=${encodeURIComponent(newest)}`)
      .set(json)
      .expect(200);
    expect(window.body.events.map((event: { action: string }) => event.action)).toEqual(['mfa.reset_rolled_back']);
    await operator
      .get(`/audit/events?cursor=bogus`)
      .set(json)
      .expect(400, /cursor/);
    await operator
      .get(`/audit/events?tenant=nope`)
      .set(json)
      .expect(400, /tenant/);
  });

  it('shows tenant admins their own tenant only, and refuses other tenants and platform events with 404', async () => {
    const { tenant } = await tenantWithResets(1);
    const other = await tenantWithResets(1);
    const reader = await createTenantAdmin(h, tenant.id);
    const agent = await signIn(built.agent(), h.clock, reader, tenant.slug);
    const own = await agent.get('/audit/events?limit=500').set(json).expect(200);
    expect(own.body.events.length).toBeGreaterThan(0);
    expect(own.body.events.every((event: { tenantId: string }) => event.tenantId === tenant.id)).toBe(true);
    await agent.get(`/audit/events?tenant=${other.tenant.id}`).set(json).expect(404);
    await agent.get('/audit/events?tenant=platform').set(json).expect(404);
    await agent.post('/audit/events/export').set(json).send({ tenant: other.tenant.id }).expect(404);
    await agent.get(`/audit/verify-chain?tenant=${other.tenant.id}`).set(json).expect(404);
    expect((await agent.get('/audit/verify-chain').set(json).expect(200)).body).toMatchObject({
      chainKey: tenant.id,
      ok: true,
    });
  });

  it('refuses strangers and level-1 sessions', async () => {
    await built.agent().get('/audit/events').set(json).expect(401);
    const halfway = built.agent();
    await halfway
      .post('/auth/login')
      .set(json)
      .send({ email: platform.email, password: platform.password })
      .expect(200);
    await halfway
      .get('/audit/events')
      .set(json)
      .expect(403, /auth.mfa_required/);
  });

  it('exports CSV and JSON with every matching event, guards spreadsheet formulas, and records the export', async () => {
    const { tenant } = await tenantWithResets(2);
    const csv = await operator
      .post('/audit/events/export')
      .set(json)
      .send({ tenant: tenant.id, action: 'mfa.reset', format: 'csv' })
      .expect(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="audit-events-.*\.csv"$/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe(
      'id,occurredAt,tenantId,tenantSlug,chain,seq,actorType,actorId,actorEmail,action,targetType,targetId,targetLabel,requestId,ip,userAgent,details,storedDetails,prevHash,hash,hashKeyId',
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('Lost phone #1');
    expect(lines[1]).not.toMatch(/,=HYPERLINK/);

    const asJson = await operator
      .post('/audit/events/export')
      .set(json)
      .send({ tenant: tenant.id, format: 'json' })
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk));
        res.on('end', () => done(null, text));
      })
      .expect(200);
    const exported = JSON.parse(asJson.body as string) as { action: string }[];
    expect(exported.filter((event) => event.action.startsWith('mfa.'))).toHaveLength(4);
    const recorded = await h.db('audit_events').where({ action: 'audit.exported', actor_id: platform.id });
    expect(recorded.map((event) => event.details.format).sort()).toEqual(['csv', 'json']);
  });

  it('exports only by a POST: a GET (a cross-site link) and a form without the CSRF token record nothing', async () => {
    const { tenant } = await tenantWithResets(1);
    const exported = () =>
      h
        .db('audit_events')
        .where({ action: 'audit.exported', actor_id: platform.id })
        .count({ n: '*' })
        .first()
        .then((row) => Number(row!.n));
    const before = await exported();
    await operator.get(`/audit/events/export?tenant=${tenant.id}&format=csv`).expect(405);
    await operator
      .post('/audit/events/export')
      .type('form')
      .send({ tenant: tenant.id, format: 'csv' })
      .expect(403, /csrf.invalid/);
    expect(await exported()).toBe(before);

    // The page's own form: hidden filters, the session's token, one button per format.
    const page = await operator.get(`/audit/events?tenant=${tenant.id}`).set('Accept', 'text/html').expect(200);
    expect(page.text).toContain('<form method="post" action="/audit/events/export">');
    const token = csrfTokenIn(page.text);
    expect(page.text).toContain(`<input type="hidden" name="tenant" value="${tenant.id}">`);
    const csv = await operator
      .post('/audit/events/export')
      .type('form')
      .send({ _csrf: token, tenant: tenant.id, format: 'csv' })
      .expect(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(await exported()).toBe(before + 1);
  });

  it('shows sealed details as [sealed] where the service has no details key', async () => {
    const { tenant } = await tenantWithResets(1);
    const keyless = h.build({ extraApps: auditApp(undefined) });
    h.clock.advance(30_000); // a second sign-in of the same admin needs the next TOTP code
    const agent = await signIn(keyless.agent(), h.clock, platform);
    const events = await agent.get(`/audit/events?tenant=${tenant.id}&action=mfa.reset`).set(json).expect(200);
    expect(events.body.events[0].details).toEqual({
      logId: expect.any(String),
      reason: '[sealed]',
      ticket: '[sealed]',
    });
  });
});

describe('verify-chain over HTTP', () => {
  it('reports an intact chain, then the first break after an event was deleted behind the triggers', async () => {
    const { tenant } = await tenantWithResets(2);
    expect((await operator.get(`/audit/verify-chain?tenant=${tenant.id}`).set(json).expect(200)).body).toMatchObject({
      chainKey: tenant.id,
      ok: true,
      checked: 4,
    });
    await operator
      .get('/audit/verify-chain')
      .set(json)
      .expect(400, /tenant: is required/);
    await h.db.transaction(async (trx) => {
      await trx.raw('set local session_replication_role = replica');
      await trx('audit_events').where({ chain_key: tenant.id, seq: 2 }).del();
    });
    const broken = await operator.get(`/audit/verify-chain?tenant=${tenant.id}`).set(json).expect(200);
    expect(broken.body).toMatchObject({ ok: false, checked: 1, firstBreak: { seq: 2, reason: 'missing_event' } });
    const page = await operator.get(`/audit/verify-chain?tenant=${tenant.id}`).set('Accept', 'text/html').expect(200);
    expect(page.text).toContain('Broken at event 2 (missing_event)');
    expect((await operator.get(`/audit/verify-chain?tenant=${randomUUID()}`).set(json).expect(200)).body).toMatchObject(
      { ok: true, checked: 0 },
    );
  });

  it('serves the events page with the filter form, and an OpenAPI document of its four routes', async () => {
    const page = await operator.get('/audit/events').set('Accept', 'text/html').expect(200);
    expect(page.text).toContain('<form method="get" action="/audit/events">');
    const document = (await operator.get('/audit/openapi.json').expect(200)).body as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths).sort()).toEqual([
      '/audit/events',
      '/audit/events/export',
      '/audit/verify-chain',
      '/audit/verify-chains',
    ]);
  });
});
