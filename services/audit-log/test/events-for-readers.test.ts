// The audit log as a reviewer reads it in a browser: the filter form sends every field, empty
// ones included; actors, targets and tenants appear by name and are picked by name; an export
// carries each event's chain links so it can be checked without the database.
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

const html = { Accept: 'text/html' };
let h: AdminHarness;
let built: Built;
let operator: ReturnType<typeof request.agent>;
let platform: SeededAdmin;
let tenant: { id: string; slug: string };
let admin: SeededAdmin & { id: string };

beforeAll(async () => {
  h = await createAdminHarness();
  built = h.build({
    extraApps: (store) => ({
      '/audit': createApp({
        db: h.db,
        store,
        audit: h.audit,
        detailsKeys: h.detailsKeys,
        logger: createLogger({ service: 'audit-log', level: 'silent' }),
        metrics: createMetrics('audit-log'),
        clock: h.clock,
        settings: { ...defaultSettings, secrets: [SESSION_SECRET] },
      }),
    }),
  });
  platform = await h.seedPlatformAdmin();
  operator = await signIn(built.agent(), h.clock, platform);
  tenant = await createTenant(h.db);
  admin = (await createTenantAdmin(h, tenant.id)) as SeededAdmin & { id: string };
  const reset = await operator
    .post(`/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`)
    .set(json)
    .send({ reason: 'Lost phone' })
    .expect(200);
  h.clock.advance(1000);
  await operator
    .post(`/admin/mfa-resets/${reset.body.reset.id}/rollback`)
    .set(json)
    .send({ reason: 'Found it' })
    .expect(200);
});
afterAll(() => h.close());

describe('the filter form', () => {
  it('takes the form as a browser sends it, empty fields included, and reads them as no filter', async () => {
    const page = await operator.get('/audit/events?tenant=&actor=&action=&from=&to=').set(html).expect(200);
    expect(page.text).toContain('mfa.reset_rolled_back');
    const api = await operator.get(`/audit/events?tenant=${tenant.id}&actor=&action=&from=&to=`).set(json).expect(200);
    expect(api.body.events.map((event: { action: string }) => event.action)).toEqual([
      'mfa.reset_rolled_back',
      'mfa.reset',
    ]);
  });

  it('takes a plain date and a time without offset as UTC, and explains a wrong one on a page', async () => {
    const today = new Date(h.clock.now()).toISOString().slice(0, 10);
    const fromToday = await operator.get(`/audit/events?tenant=${tenant.id}&from=${today}`).set(json).expect(200);
    expect(fromToday.body.events).toHaveLength(2);
    const future = await operator.get(`/audit/events?tenant=${tenant.id}&from=2999-01-01T00:00`).set(json).expect(200);
    expect(future.body.events).toHaveLength(0);
    const wrong = await operator.get('/audit/events?from=yesterday').set(html).expect(400);
    expect(wrong.headers['content-type']).toMatch(/text\/html/);
    expect(wrong.text).toContain('must be a date or an ISO 8601 time');
  });

  it('shows emails and tenant names beside the ids, a tenant column, readable times, and pickers by name', async () => {
    const page = await operator.get(`/audit/events?tenant=${tenant.id}`).set(html).expect(200);
    expect(page.text).toContain('<th>Tenant</th>');
    expect(page.text).toContain(platform.email);
    expect(page.text).toContain(admin.email);
    expect(page.text).toMatch(/<time datetime="\d{4}-\d\d-\d\dT[^"]+">\d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d UTC<\/time>/);
    // The tenant picker names the tenant by slug, the actor picker lists its admins and the platform admins by email.
    expect(page.text).toMatch(new RegExp(`<option value="${tenant.id}" selected>${tenant.slug} \\(`));
    expect(page.text).toContain(`<option value="${admin.id}">${admin.email}</option>`);
    expect(page.text).toContain(`<option value="${platform.id}">${platform.email} (platform)</option>`);
    const byActor = await operator
      .get(`/audit/events?tenant=${tenant.id}&actor=${platform.id}&action=mfa.*&from=&to=`)
      .set(json)
      .expect(200);
    expect(byActor.body.events[0]).toMatchObject({
      actorEmail: platform.email,
      targetLabel: admin.email,
      tenantSlug: tenant.slug,
    });
  });
});

describe('chain checks from the page', () => {
  it('offers a tenant admin their own chain, and following the link verifies it', async () => {
    const reader = await signIn(built.agent(), h.clock, await createTenantAdmin(h, tenant.id), tenant.slug);
    const page = await reader.get('/audit/events').set(html).expect(200);
    const link = /<a href="([^"]*)">Verify this chain<\/a>/.exec(page.text)?.[1];
    expect(link).toBe('/audit/verify-chain');
    // Every chain at once stays a platform admin's check.
    expect(page.text).not.toContain('Verify all chains');
    const verified = await reader.get(link!).set(html).expect(200);
    expect(verified.text).toContain(`Hash chain ${tenant.id}`);
    expect(verified.text).toMatch(/Intact: \d+ events checked/);
  });

  it('offers a platform admin the chain of the tenant in view and every chain', async () => {
    const all = await operator.get('/audit/events').set(html).expect(200);
    expect(all.text).not.toContain('Verify this chain');
    expect(all.text).toContain('<a href="/audit/verify-chains">Verify all chains</a>');
    const one = await operator.get(`/audit/events?tenant=${tenant.id}`).set(html).expect(200);
    expect(one.text).toContain(`<a href="/audit/verify-chain?tenant=${tenant.id}">Verify this chain</a> · <a`);
  });
});

describe('exports', () => {
  it('carries each event’s hash and previous hash, linked in chain order', async () => {
    const page = await operator.get('/audit/events').set(html).expect(200);
    const token = csrfTokenIn(page.text);
    const exported = await operator
      .post('/audit/events/export')
      .type('form')
      .send({ _csrf: token, tenant: tenant.id, actor: '', action: '', from: '', to: '', format: 'json' })
      .expect(200);
    const events = (JSON.parse(exported.text) as { seq: number; hash: string; prevHash: string; chain: string }[]).sort(
      (a, b) => a.seq - b.seq,
    );
    expect(events.length).toBeGreaterThanOrEqual(2);
    for (const event of events)
      expect(event).toMatchObject({
        chain: tenant.id,
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        prevHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    for (let i = 1; i < events.length; i++)
      expect([events[i]!.seq, events[i]!.prevHash]).toEqual([events[i - 1]!.seq + 1, events[i - 1]!.hash]);
    const csv = await operator
      .post('/audit/events/export')
      .type('form')
      .send({ _csrf: token, tenant: tenant.id, format: 'csv' })
      .expect(200);
    expect(csv.text.split('\r\n')[0]).toContain(',prevHash,hash,hashKeyId');
  });
});
