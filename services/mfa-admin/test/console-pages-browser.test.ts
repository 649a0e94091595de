// The tenants list and the platform-wide sessions page in Debian's Chromium (headless, no script
// on the pages): the GET form, the page links, the end-a-session confirmation, and axe-core on
// every page (no serious or critical violation).
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  createAdminHarness,
  createTenant,
  createTenantAdmin,
  json,
  signIn,
  totpCode,
  type AdminHarness,
  type Built,
} from '../../../test/support/admin-harness.js';

const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((path) => existsSync(path));
const AXE = readFileSync(new URL('../../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

let h: AdminHarness;
let built: Built;
let browser: Browser;
let page: Page;
let base: string;
const violations: string[] = [];

beforeAll(async () => {
  if (!CHROMIUM) throw new Error("Chromium is missing: scripts/setup.sh installs Debian's chromium package");
  h = await createAdminHarness();
  built = h.build();
  await new Promise<void>((resolve) => built.server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(built.server.address() as AddressInfo).port}`;
  // A platform admin signed in through the API; the browser gets the session cookie.
  const operator = await h.seedPlatformAdmin();
  const cookies = new Map<string, string>();
  for (const [path, body] of [
    ['/auth/login', { email: operator.email, password: operator.password }],
    ['/auth/mfa/verify', { code: await totpCode(operator.totpSecret!, h.clock) }],
  ] as const) {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { ...json, cookie: [...cookies].map((c) => c.join('=')).join('; ') },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ baseURL: base, bypassCSP: true });
  await context.addCookies([...cookies].map(([name, value]) => ({ name, value, url: base })));
  page = await context.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

/** axe-core on the page as it stands (injected past the CSP, which allows no script). */
async function look(step: string): Promise<void> {
  await page.addScriptTag({ content: AXE });
  const found = await page.evaluate(async () => {
    const result = await (
      globalThis as unknown as {
        axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> };
      }
    ).axe.run();
    return result.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => `${violation.id} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  });
  for (const violation of found) violations.push(`${step}: ${violation}`);
}

const slugsOnPage = async () =>
  (await page.locator('table tbody tr td:first-child a').allTextContents()).map((text) => text.trim());

it('searches, sorts and pages the tenants list through its form and links', async () => {
  const m = randomUUID().slice(0, 6);
  for (const [slug, name] of [
    [`k1-${m}`, 'Zebra'],
    [`k2-${m}`, 'Yak'],
    [`k3-${m}`, 'Xerus'],
  ])
    await h.db('tenants').insert({
      id: randomUUID(),
      slug,
      name: `${name} ${m}`,
      status: 'active',
      created_at: new Date(),
      updated_at: new Date(),
    });
  await page.goto('/admin/tenants');
  await look('tenants');
  await page.fill('#q', m.toUpperCase());
  await page.selectOption('#sort', 'name');
  await page.selectOption('#limit', '10');
  await page.click('button:has-text("Show tenants")');
  expect(await slugsOnPage()).toEqual([`k3-${m}`, `k2-${m}`, `k1-${m}`]);
  // The form shows the query it answered.
  expect(await page.inputValue('#q')).toBe(m.toUpperCase());
  expect(await page.inputValue('#sort')).toBe('name');
  await look('tenants searched');

  // Two per page (by hand in the address, as a bookmark would): Next, then Previous.
  await page.goto(`/admin/tenants?q=${m}&sort=name&order=desc&limit=2`);
  expect(await slugsOnPage()).toEqual([`k1-${m}`, `k2-${m}`]);
  await page.click('a[rel="next"]');
  expect(await slugsOnPage()).toEqual([`k3-${m}`]);
  expect(new URL(page.url()).searchParams.get('q')).toBe(m);
  await look('tenants page 2');
  await page.click('a[rel="prev"]');
  expect(await slugsOnPage()).toEqual([`k1-${m}`, `k2-${m}`]);
  expect(violations).toEqual([]);
});

it('lists every admin’s sessions with the tenant and ends one after a confirmation page', async () => {
  const tenant = await createTenant(h.db);
  const admin = await createTenantAdmin(h, tenant.id);
  const session = await signIn(built.agent(), h.clock, admin, tenant.slug);
  await page.goto('/admin/tenants');
  await page.click('a:has-text("Who is signed in (all tenants)")');
  expect(await page.locator('h1').textContent()).toBe('Who is signed in (all tenants)');
  const row = page.locator('tr', { hasText: admin.email });
  expect(await row.locator('td').first().textContent()).toBe(tenant.slug);
  await look('all sessions');
  await row.locator('button:has-text("End this session")').click();
  expect(await page.locator('h1').textContent()).toBe(`End this session of ${admin.email}?`);
  await look('end session confirmation');
  await session.get('/auth/me').set(json).expect(200);
  await page.click('button:has-text("End this session")');
  expect(await page.locator('[role="status"]').textContent()).toBe('Session ended: that browser is signed out.');
  expect(await page.locator('tr', { hasText: admin.email }).count()).toBe(0);
  await look('session ended');
  await session.get('/auth/me').set(json).expect(401);
  expect(violations).toEqual([]);
});
