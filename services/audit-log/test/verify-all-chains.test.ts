// "Verify all chains": a platform admin walks every chain at once, on a page and in the JSON API,
// page by page (limit, after); a broken chain is named with its first break; tenant admins are
// refused (403, a page for browsers).
import { randomUUID } from 'node:crypto';
import { createLogger, createMetrics } from '@portcullis/observability';
import type request from 'supertest';
import { createApp } from '../src/app.js';
import { defaultSettings, SESSION_SECRET } from '../../../test/support/index.js';
import {
  createAdminHarness,
  createTenant,
  createTenantAdmin,
  json,
  signIn,
  type AdminHarness,
  type Built,
} from '../../../test/support/admin-harness.js';

const html = { Accept: 'text/html' };
let h: AdminHarness;
let built: Built;
let operator: ReturnType<typeof request.agent>;
let tenant: { id: string; slug: string };

interface Report {
  chains: { chainKey: string; ok: boolean; checked: number; tenantSlug: string | null; firstBreak?: unknown }[];
  broken: number;
  complete: boolean;
  nextAfter: string | null;
}

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
  operator = await signIn(built.agent(), h.clock, await h.seedPlatformAdmin());
  tenant = await createTenant(h.db);
  for (const tenantId of [tenant.id, tenant.id, tenant.id, randomUUID(), null])
    await h.audit.record({ tenantId, actorType: 'system', action: 'test.event', sealed: { reason: 'kept sealed' } });
});
afterAll(() => h.close());

const allChains = async (query = '') =>
  (await operator.get(`/audit/verify-chains${query}`).set(json).expect(200)).body as Report;

it('reports every chain ok, with the tenant slug beside its key, on a page and in the JSON API', async () => {
  const report = await allChains();
  const chainKeys = ((await h.db('audit_chain_heads').select('chain_key')) as { chain_key: string }[])
    .map((row) => row.chain_key)
    .sort();
  expect(report.chains.map((chain) => chain.chainKey)).toEqual(chainKeys);
  expect(report).toMatchObject({ broken: 0, complete: true, nextAfter: null });
  expect(report.chains.every((chain) => chain.ok)).toBe(true);
  expect(report.chains.find((chain) => chain.chainKey === tenant.id)).toMatchObject({
    checked: 3,
    tenantSlug: tenant.slug,
  });

  const page = await operator.get('/audit/verify-chains').set(html).expect(200);
  expect(page.headers['content-type']).toMatch(/text\/html/);
  expect(page.headers['cache-control']).toContain('no-store');
  expect(page.text).toContain(`All ${chainKeys.length} chains checked here are intact.`);
  expect(page.text).toContain(tenant.slug);
  const events = await operator.get('/audit/events').set(html).expect(200);
  expect(events.text).toContain('<a href="/audit/verify-chains">Verify all chains</a>');
});

it('goes page by page: limit chains per answer, then on from nextAfter, each chain once', async () => {
  const seen: string[] = [];
  let query = '?limit=1';
  for (let page = 0; page < 20; page++) {
    const report = await allChains(query);
    expect(report.chains).toHaveLength(1);
    seen.push(report.chains[0]!.chainKey);
    if (report.complete) break;
    expect(report.nextAfter).toBe(report.chains[0]!.chainKey);
    query = `?limit=1&after=${report.nextAfter}`;
  }
  expect(seen).toEqual((await allChains()).chains.map((chain) => chain.chainKey));
  const page = await operator.get('/audit/verify-chains?limit=1').set(html).expect(200);
  expect(page.text).toContain(`<a href="/audit/verify-chains?after=${seen[0]}&amp;limit=1">Verify the next chains</a>`);
  await operator.get('/audit/verify-chains?limit=0').set(json).expect(400, /limit/);
  await operator.get('/audit/verify-chains?after=nope').set(json).expect(400, /after/);
});

it('names a broken chain and its first break, and keeps checking the others', async () => {
  await h.db.transaction(async (trx) => {
    await trx.raw('set local session_replication_role = replica');
    await trx('audit_events').where({ chain_key: tenant.id, seq: 2 }).update({ action: 'test.edited' });
  });
  const report = await allChains();
  expect(report.broken).toBe(1);
  expect(report.chains.filter((chain) => !chain.ok)).toEqual([
    expect.objectContaining({
      chainKey: tenant.id,
      checked: 1,
      firstBreak: expect.objectContaining({ seq: 2, reason: 'hash_mismatch' }),
    }),
  ]);
  expect(report.chains.filter((chain) => chain.ok)).toHaveLength(report.chains.length - 1);
  const page = await operator.get('/audit/verify-chains').set(html).expect(200);
  expect(page.text).toContain(`1 of ${report.chains.length} chains are broken.`);
  expect(page.text).toContain('event 2 (hash_mismatch)');
});

it('refuses tenant admins: 403, as a page for a browser', async () => {
  const reader = await createTenantAdmin(h, tenant.id);
  const agent = await signIn(built.agent(), h.clock, reader, tenant.slug);
  const refused = await agent.get('/audit/verify-chains').set(json).expect(403);
  expect(refused.body.code).toBe('auth.forbidden');
  const page = await agent.get('/audit/verify-chains').set(html).expect(403);
  expect(page.headers['content-type']).toMatch(/text\/html/);
  expect(page.text).toContain('Not available to your role');
  expect((await agent.get('/audit/events').set(html).expect(200)).text).not.toContain('Verify all chains');
  const document = (await operator.get('/audit/openapi.json').expect(200)).body as {
    paths: Record<string, { get: { responses: Record<string, unknown> } }>;
  };
  expect(Object.keys(document.paths['/audit/verify-chains']!.get.responses)).toEqual(
    expect.arrayContaining(['200', '403']),
  );
});
