// `portcullis drill mfa-reset` against a running stack: auth-session and mfa-admin behind one
// HTTP listener on loopback (the ingress's prefixes), real PostgreSQL and Redis. The evidence
// file must record every check passing, and hold no secret.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyRing, generateKey } from '@portcullis/crypto';
import {
  createAdminHarness,
  createTenant,
  createTenantAdmin,
  type AdminHarness,
  type Built,
  type SeededAdmin,
} from '../../../test/support/admin-harness.js';
import { cli } from './sessions-support.js';

let h: AdminHarness;
let built: Built;
let baseUrl: string;
let work: string;
let operator: SeededAdmin;
let admin: SeededAdmin;
let tenant: { id: string; slug: string };
const resetLogKey = generateKey();

beforeAll(async () => {
  h = await createAdminHarness();
  built = h.build({
    resetLogKeys: createKeyRing({ primary: { name: 'MFA_RESET_LOG_ENCRYPTION_KEY', value: resetLogKey } }),
  });
  await new Promise<void>((resolve) => built.server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(built.server.address() as AddressInfo).port}`;
  operator = await h.seedPlatformAdmin();
  tenant = await createTenant(h.db);
  admin = await createTenantAdmin(h, tenant.id, { mfa: true });
  work = mkdtempSync(join(tmpdir(), 'portcullis-drill-'));
});
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await h.close();
});

/** The harness's database as a URL (knex keeps it parsed). */
function databaseUrl(): string {
  const c = (
    h.db.client as {
      connectionSettings: { host: string; port: number | string; user: string; password?: string; database: string };
    }
  ).connectionSettings;
  return `postgres://${encodeURIComponent(c.user)}:${encodeURIComponent(c.password ?? '')}@${c.host}:${c.port}/${c.database}`;
}

function credentialsFile(adminSecret = admin.totpSecret!, as = operator): string {
  const file = join(work, `credentials-${Date.now()}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      operator: { email: as.email, password: as.password, totpSecret: as.totpSecret },
      admin: { password: admin.password, totpSecret: adminSecret },
    }),
  );
  return file;
}

const drill = (evidence: string, credentials = credentialsFile()) =>
  cli(
    { DATABASE_URL: databaseUrl(), MFA_RESET_LOG_ENCRYPTION_KEY: resetLogKey },
    'drill',
    'mfa-reset',
    '--base-url',
    baseUrl,
    '--tenant',
    tenant.slug,
    '--admin',
    admin.email,
    '--credentials',
    credentials,
    '--evidence',
    evidence,
  );

const evidenceIn = (dir: string) => {
  const [file] = readdirSync(dir);
  const text = readFileSync(join(dir, file!), 'utf8');
  return {
    text,
    json: JSON.parse(text) as {
      passed: boolean;
      checks: { name: string; ok: boolean; at: string }[];
      reset_log_id: string;
      current_key_id: string;
      log_row_key_ids: string[];
      admin_id: string;
      tenant_id: string;
    },
  };
};

it('resets and rolls back the drill admin through the API and writes evidence of every check, without a secret', async () => {
  const dir = join(work, 'ok');
  const run = await drill(dir);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const { text, json } = evidenceIn(dir);
  expect(JSON.parse(run.stdout)).toMatchObject({ passed: true, checks: json.checks.length });
  expect(json.checks.map((check) => [check.name, check.ok])).toEqual([
    ['operator_signed_in', true],
    ['admin_signed_in', true],
    ['drill_admin_found', true],
    ['reset', true],
    ['admin_sessions_revoked', true],
    ['log_row_encrypted_under_current_key', true],
    ['log_row_decrypts', true],
    ['rollback', true],
    ['original_authenticator_works', true],
  ]);
  expect(json).toMatchObject({
    passed: true,
    admin_id: admin.id,
    tenant_id: tenant.id,
    current_key_id: createKeyRing({ primary: { name: 'K', value: resetLogKey } }).primaryKeyId,
  });
  expect(json.log_row_key_ids).toEqual([json.current_key_id]);
  // The row the evidence names is the reset the drill made, now rolled back.
  const row = await h.db('tenant_admin_mfa_reset_logs').where({ id: json.reset_log_id }).first();
  expect(row).toMatchObject({ tenant_admin_id: admin.id });
  expect(row.rolled_back_at).not.toBeNull();
  expect(await h.db('tenant_admins').where({ id: admin.id }).first()).toMatchObject({ mfa_enabled: true });
  for (const secret of [operator.password, operator.totpSecret!, admin.password, admin.totpSecret!, resetLogKey])
    expect(text).not.toContain(secret);
}, 30_000);

it('stops at the first failed check, exits 1 and still writes the evidence of what ran', async () => {
  const dir = join(work, 'failed');
  // Any other base32 secret: the drill admin's sign-in cannot pass.
  const run = await drill(dir, credentialsFile('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'));
  expect(run.code).toBe(1);
  expect(run.stderr).toContain('Drill check "admin_signed_in" failed');
  const { json } = evidenceIn(dir);
  expect(json.passed).toBe(false);
  expect(json.checks.map((check) => [check.name, check.ok])).toEqual([
    ['operator_signed_in', true],
    ['admin_signed_in', false],
  ]);
}, 30_000);

it('has --help', async () => {
  const help = await cli({}, 'drill', 'mfa-reset', '--help');
  expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining('--evidence <dir>') });
});

it('still rolls the reset back when a check after it fails, and says which', async () => {
  const dir = join(work, 'old-key');
  // A fresh operator and drill admin: each authenticator step signs in once, and the tests above spent this one's.
  const otherOperator = await h.seedPlatformAdmin();
  admin = await createTenantAdmin(h, tenant.id, { mfa: true });
  // The drill is given another key than the services encrypt with: the log row is not under it.
  const run = await cli(
    { DATABASE_URL: databaseUrl(), MFA_RESET_LOG_ENCRYPTION_KEY: generateKey() },
    'drill',
    'mfa-reset',
    '--base-url',
    baseUrl,
    '--tenant',
    tenant.slug,
    '--admin',
    admin.email,
    '--credentials',
    credentialsFile(admin.totpSecret, otherOperator),
    '--evidence',
    dir,
  );
  expect(run.code).toBe(1);
  expect(run.stderr).toContain(
    'Drill checks failed: log_row_encrypted_under_current_key, log_row_decrypts (the reset was rolled back)',
  );
  const { json } = evidenceIn(dir);
  expect(json.checks.filter((check) => !check.ok).map((check) => check.name)).toEqual([
    'log_row_encrypted_under_current_key',
    'log_row_decrypts',
  ]);
  expect(json.checks.find((check) => check.name === 'original_authenticator_works')?.ok).toBe(true);
  expect(await h.db('tenant_admins').where({ id: admin.id }).first()).toMatchObject({ mfa_enabled: true });
}, 60_000);
