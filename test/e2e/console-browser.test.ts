// The console as administrators use it, in a real browser: Debian's Chromium driven headless by
// playwright-core against the three apps behind one in-process gateway on loopback (real
// PostgreSQL and Redis from the test infrastructure). One journey from a platform admin's first
// sign-in to an exported audit log that checks out offline and every chain verified; axe-core
// looks at every page on the way, and each step leaves a screenshot in test-results/console/
// (git-ignored) for a person.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createLogger, createMetrics } from '@portcullis/observability';
import { createApp as createAuditApp } from '../../services/audit-log/src/app.js';
import { verifyExportText } from '../../services/cli/src/commands/audit-export.js';
import { defaultSettings, SESSION_SECRET, totpCode } from '../support/auth-harness.js';
import { createAdminHarness, type AdminHarness, type Built } from '../support/admin-harness.js';

const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((path) => existsSync(path));
const SHOTS = new URL('../../test-results/console/', import.meta.url).pathname;
const AXE = readFileSync(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
const NEW_PASSWORD = 'Portcullis console journey 2026!';

let h: AdminHarness;
let built: Built;
let base: string;
let browser: Browser;
const contexts: BrowserContext[] = [];
const violations: string[] = [];
let shot = 0;

beforeAll(async () => {
  if (!CHROMIUM) throw new Error("Chromium is missing: scripts/setup.sh installs Debian's chromium package");
  // Numbered files from an older run would sit beside this run's as if they were its steps.
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  h = await createAdminHarness();
  built = h.build({
    extraApps: (store) => ({
      '/audit': createAuditApp({
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
  await new Promise<void>((resolve) => built.server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(built.server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}, 60_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await h?.close();
});

/** A browser profile of its own (cookies, history). axe is injected past the strict CSP, which allows no script. */
async function person(): Promise<Page> {
  const context = await browser.newContext({ baseURL: base, bypassCSP: true, acceptDownloads: true });
  contexts.push(context);
  return context.newPage();
}

/** After each step: axe-core on the page (serious and critical violations are collected), and a screenshot. */
async function look(page: Page, step: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}${String(++shot).padStart(2, '0')}-${step}.png`, fullPage: true });
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
  for (const violation of found) violations.push(`${step} (${new URL(page.url()).pathname}): ${violation}`);
}

const heading = (page: Page) => page.locator('h1').textContent();
const nextWindow = () => h.clock.advance(30_000);

async function signInForm(page: Page, who: { tenant?: string; email: string; password: string }) {
  if (!new URL(page.url()).pathname.startsWith('/auth/login')) await page.goto('/auth/login');
  await page.fill('#tenant', who.tenant ?? '');
  await page.fill('#email', who.email);
  await page.fill('#password', who.password);
  await page.click('button:has-text("Sign in")');
}

/** First sign-in: enrol the authenticator shown on the page, keep the recovery codes, choose a password. */
async function firstSignIn(
  page: Page,
  who: { tenant?: string; email: string; password: string },
  name: string,
): Promise<{ secret: string; recoveryCodes: string[] }> {
  await signInForm(page, who);
  expect(await heading(page)).toBe('Set up your authenticator');
  await look(page, `${name}-enrol`);
  const secret = (await page.locator('main p code').textContent())!.trim();
  await page.fill('#code', await totpCode(secret, h.clock));
  await page.click('button:has-text("Activate")');
  expect(await heading(page)).toBe('Your recovery codes');
  await look(page, `${name}-recovery-codes`);
  const recoveryCodes = (await page.locator('li code').allTextContents()).map((code) => code.trim());
  await page.click('a:has-text("Continue")');
  expect(await heading(page)).toBe('Change your password');
  await look(page, `${name}-password`);
  await page.fill('#currentPassword', who.password);
  await page.fill('#newPassword', NEW_PASSWORD);
  await page.click('button:has-text("Change password")');
  return { secret, recoveryCodes };
}

/**
 * The Back button. Chromium sometimes answers the history lookup right after a navigation with
 * "Not attached to an active page" (seen once in CI after the sign-out's redirect); the lookup is
 * tried again, the assertion after it is unchanged.
 */
async function goBack(page: Page) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await page.goBack({ waitUntil: 'load' });
    } catch (error) {
      if (attempt >= 3 || !/Not attached to an active page/.test(String(error))) throw error;
      await page.waitForTimeout(250);
    }
  }
}

/** Through the console nav, from whatever console page is open. */
async function signOut(page: Page) {
  await page.click('nav a:has-text("Sign out")');
  expect(await heading(page)).toBe('Sign out');
  await page.click('main button:has-text("Sign out")');
  expect(new URL(page.url()).pathname).toBe('/auth/login');
}

/** Submits a destructive form and checks that a confirmation page comes first and names the action. */
async function confirm(page: Page, title: RegExp, step: string) {
  // A recent re-authentication may be asked for first (the detour returns to the form's page).
  expect(await heading(page)).toMatch(title);
  await look(page, step);
  await page.click('main form button[type=submit]');
}

it('runs the whole console journey in Chromium, every page accessible and every destructive action confirmed', async () => {
  // A new platform admin as the first start leaves them: a password to change and no authenticator yet.
  const platformId = randomUUID();
  const platform = { email: `root-${platformId.slice(0, 8)}@example.com`, password: `Initial pass ${randomUUID()}` };
  const now = new Date(h.clock.now());
  await h.db('platform_admins').insert({
    id: platformId,
    email: platform.email,
    password_hash: await h.passwords.hash(platform.password),
    mfa_enabled: false,
    failed_attempts: 0,
    must_change_password: true,
    created_at: now,
    updated_at: now,
  });

  const operator = await person();
  await operator.goto('/admin/tenants');
  expect(new URL(operator.url()).pathname).toBe('/auth/login');
  await look(operator, 'sign-in');
  await firstSignIn(operator, platform, 'platform');
  // The page first asked for, now signed in fully.
  expect(new URL(operator.url()).pathname).toBe('/admin/tenants');
  await look(operator, 'tenants');

  // A tenant and its admin.
  const slug = `acme-${randomUUID().slice(0, 6)}`;
  await operator.fill('#slug', slug);
  await operator.fill('#name', 'Acme Corporation');
  await operator.click('button:has-text("Create tenant")');
  expect(await heading(operator)).toBe(`Tenant ${slug}`);
  const tenantPath = new URL(operator.url()).pathname;
  const adminEmail = `alice-${randomUUID().slice(0, 6)}@example.com`;
  await operator.fill('#email', adminEmail);
  await operator.click('button:has-text("Create admin")');
  expect(await heading(operator)).toBe('Tenant admin created');
  await look(operator, 'admin-created');
  const temporaryPassword = (await operator.locator('main p code').textContent())!.trim();

  // The tenant admin enrols, signs out, and signs in with a code and with a recovery code.
  const alice = await person();
  await alice.goto('/auth/login');
  const enrolled = await firstSignIn(
    alice,
    { tenant: slug, email: adminEmail, password: temporaryPassword },
    'tenant-admin',
  );
  expect(await heading(alice)).toBe('Signed in');
  // Her nav offers only what she may open: no tenant list.
  expect(await alice.locator('nav a').allTextContents()).toEqual(['Audit log', 'Account', 'Sessions', 'Sign out']);
  await look(alice, 'tenant-admin-home');
  await signOut(alice);
  const aliceNow = { tenant: slug, email: adminEmail, password: NEW_PASSWORD };
  await signInForm(alice, aliceNow);
  expect(await heading(alice)).toBe('Two-factor check');
  await look(alice, 'two-factor');
  nextWindow();
  await alice.fill('#code', await totpCode(enrolled.secret, h.clock));
  await alice.click('button:has-text("Verify")');
  expect(await heading(alice)).toBe('Signed in');
  await signOut(alice);
  await signInForm(alice, aliceNow);
  await alice.fill('#code', enrolled.recoveryCodes[0]!);
  await alice.click('button:has-text("Verify")');
  expect(await heading(alice)).toBe('Signed in');

  // Disable asks first; cancelling changes nothing.
  await operator.goto(tenantPath);
  await operator.click('button:has-text("Disable")');
  expect(await heading(operator)).toBe(`Disable ${adminEmail}?`);
  await look(operator, 'confirm-disable');
  await operator.click('a:has-text("Cancel")');
  expect(await operator.locator('main').textContent()).not.toContain('(disabled)');

  // The platform admin resets her MFA: her open page loses its session and she must enrol again.
  await operator.click('summary:has-text("Reset MFA")');
  await operator.locator('textarea[name=reason]').first().fill('Lost phone, ticket by phone call');
  await operator.click('button:has-text("Reset MFA and sign them out")');
  // The title may name the admin ("Reset alice@…’s MFA?"): what it must say is that MFA is reset.
  await confirm(operator, /^Reset .*MFA\?$/, 'confirm-reset');
  expect(await operator.locator('.notice').textContent()).toContain('MFA reset.');
  expect(await operator.locator('.notice').textContent()).toContain('Their sessions have been ended.');
  await look(operator, 'reset-done');
  await alice.reload();
  expect(new URL(alice.url()).pathname).toBe('/auth/login');
  await signInForm(alice, aliceNow);
  expect(await heading(alice)).toBe('Set up your authenticator');
  // She is told why she is here, and what to do if she did not ask for it.
  expect(await alice.locator('main .notice').textContent()).toContain('A platform admin reset your authenticator');
  await look(alice, 'enrol-after-reset');

  // The platform admin rolls the reset back: her original authenticator signs her in again.
  await operator.click('summary:has-text("Roll back")');
  await operator.locator('textarea[name=reason]').first().fill('The call was not from her');
  await operator.click('button:has-text("Restore the previous authenticator")');
  await confirm(operator, /Restore the authenticator from before the reset\?/, 'confirm-rollback');
  expect(await operator.locator('.notice').textContent()).toContain('Reset rolled back');
  await look(operator, 'rollback-done');
  nextWindow();
  await signInForm(alice, aliceNow);
  await alice.fill('#code', await totpCode(enrolled.secret, h.clock));
  await alice.click('button:has-text("Verify")');
  expect(await heading(alice)).toBe('Signed in');

  // The audit log shows both; the filter form works as the browser sends it (empty fields).
  await operator.goto('/audit/events');
  await look(operator, 'audit-log');
  await operator.click('button:has-text("Filter")');
  expect(new URL(operator.url()).search).toContain('from=&to=');
  const log = await operator.locator('main table').textContent();
  // Cell by cell: "mfa.reset" is also a prefix of "mfa.reset_rolled_back".
  const cells = (await operator.locator('main table td').allTextContents()).map((cell) => cell.trim());
  expect(cells).toContain('mfa.reset_rolled_back');
  expect(cells).toContain('mfa.reset');
  expect(log).toContain(adminEmail);
  // Pick the tenant by name, then export: the file links up as a chain without the database.
  await operator.selectOption('#tenant', { label: `${slug} (Acme Corporation)` });
  await operator.click('button:has-text("Filter")');
  await look(operator, 'audit-log-tenant');
  const [download] = await Promise.all([operator.waitForEvent('download'), operator.click('button:has-text("JSON")')]);
  const file = readFileSync((await download.path())!, 'utf8');
  const exported = JSON.parse(file) as { action: string }[];
  expect(exported.map((event) => event.action)).toEqual(expect.arrayContaining(['mfa.reset', 'mfa.reset_rolled_back']));
  // The file checks out offline: verify-export's own check (the CLI command's), with the services' audit key ring.
  expect(verifyExportText(file, { keys: h.detailsKeys })).toMatchObject({
    format: 'json',
    events: exported.length,
    broken: 0,
    reports: [{ ok: true, notCheckable: [] }],
  });
  // And every chain in the database, from the audit log's link.
  await operator.click('a:has-text("Verify all chains")');
  expect(await heading(operator)).toBe('Verify all chains');
  expect(await operator.locator('main').textContent()).toMatch(/All \d+ chains checked here are intact\./);
  await look(operator, 'verify-all-chains');

  // Back after sign-out shows no tenant data: the pages were never cached.
  await operator.goto(tenantPath);
  await signOut(operator);
  await operator.waitForLoadState('load');
  for (let i = 0; i < 2; i++) {
    await goBack(operator);
    expect(await operator.locator('body').textContent()).not.toContain(adminEmail);
  }
  await look(operator, 'back-after-sign-out');

  expect(violations).toEqual([]);
}, 180_000);
