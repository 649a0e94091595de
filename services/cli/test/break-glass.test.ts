// `portcullis platform-admins reset-mfa` on real PostgreSQL with the knex session store: the
// second platform admin's live code approves once, the reset and its audit event commit
// together, and the admin's sessions are refused afterwards.
import { randomUUID } from 'node:crypto';
import createKnex, { type Knex } from 'knex';
import { migrateLatest } from '@portcullis/migrations';
import { loadConfig } from '@portcullis/config';
import { createKeyRing, generateKey } from '@portcullis/crypto';
import { createSessionStoreFromSettings, newSessionId } from '@portcullis/session-store';
import { userIdOf } from '../../../libs/session-auth/src/index.js';
import { totpCode } from '../../../test/support/authenticator.js';
import { cli, testEnvironment, type Environment } from './sessions-support.js';

let setup: Environment;
let db: Knex;
let env: Record<string, string>;
const totpKey = generateKey();
const ring = createKeyRing({ primary: { name: 'MFA_SECRET_ENCRYPTION_KEY', value: totpKey } });
const SECRETS = { target: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', approver: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' };
const ids = { target: randomUUID(), approver: randomUUID(), disabled: randomUUID() };
const nowCode = (secret: string) => totpCode(secret, Math.floor(Date.now() / 30_000));

async function insertAdmin(
  id: string,
  email: string,
  secret: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const now = new Date();
  await db('platform_admins').insert({
    id,
    email,
    password_hash: 'x',
    totp_secret: ring.encrypt(secret, { table: 'platform_admins', column: 'totp_secret', rowId: id }),
    mfa_enabled: true,
    mfa_enrolled_at: now,
    recovery_code_hashes: '["h"]',
    failed_attempts: 0,
    must_change_password: false,
    created_at: now,
    updated_at: now,
    ...extra,
  });
}

beforeAll(async () => {
  setup = await testEnvironment();
  db = createKnex({ client: 'pg', connection: setup.db.url, pool: { min: 0, max: 2 } });
  await migrateLatest(db);
  await insertAdmin(ids.target, 'lost@example.com', SECRETS.target);
  await insertAdmin(ids.approver, 'second@example.com', SECRETS.approver);
  await insertAdmin(ids.disabled, 'gone@example.com', SECRETS.approver, { disabled_at: new Date() });
  env = {
    ...setup.env,
    SESSION_STORE_DRIVER: 'knex',
    MFA_SECRET_ENCRYPTION_KEY: totpKey,
    AUDIT_DETAILS_ENCRYPTION_KEY: generateKey(),
  };
});
afterAll(async () => {
  await db.destroy();
  await setup.db.drop();
});

const reset = (overrides: Record<string, string> = {}) => {
  const flags = {
    '--email': 'lost@example.com',
    '--approver': 'second@example.com',
    '--approval-code': nowCode(SECRETS.approver),
    '--reason': 'phone lost, identity checked on a video call',
    '--ticket': 'INC-4711',
    ...overrides,
  };
  return cli(env, 'platform-admins', 'reset-mfa', ...Object.entries(flags).flat());
};

it('refuses self-approval, a disabled approver and a wrong code, changing nothing', async () => {
  expect(await reset({ '--approver': 'lost@example.com' })).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('a second platform admin must approve'),
  });
  expect(await reset({ '--approver': 'gone@example.com', '--approval-code': nowCode(SECRETS.approver) })).toMatchObject(
    { code: 2, stderr: expect.stringContaining('cannot approve') },
  );
  const wrong = String((Number(nowCode(SECRETS.approver)) + 1) % 1_000_000).padStart(6, '0');
  expect(await reset({ '--approval-code': wrong })).toMatchObject({
    code: 2,
    stderr: expect.stringContaining("is not second@example.com's current code"),
  });
  expect(await db('platform_admins').where({ id: ids.target }).first()).toMatchObject({ mfa_enabled: true });
  expect(await db('audit_events').where({ action: 'platform_admin.mfa_break_glass_reset' })).toEqual([]);
});

it("resets the admin's factor, audits who approved, revokes their sessions, and accepts a code once", async () => {
  const config = loadConfig(env);
  const sessions = createSessionStoreFromSettings(config);
  try {
    const id = newSessionId(userIdOf('platform', ids.target));
    await sessions.store.set(
      id,
      { userId: userIdOf('platform', ids.target), kind: 'platform', adminId: ids.target },
      60_000,
      { rolling: false, changed: true },
    );
    expect((await sessions.store.read(id)).session).toBeDefined();
    const code = nowCode(SECRETS.approver);

    const startedAt = Date.now();
    const run = await reset({ '--approval-code': code });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      reset: ids.target,
      approved_by: ids.approver,
      audit_action: 'platform_admin.mfa_break_glass_reset',
    });
    expect(run.stdout).not.toContain(SECRETS.target);

    expect(await db('platform_admins').where({ id: ids.target }).first()).toMatchObject({
      mfa_enabled: false,
      totp_secret: null,
      recovery_code_hashes: null,
      totp_last_used_step: null,
    });
    const [event] = await db('audit_events').where({ action: 'platform_admin.mfa_break_glass_reset' });
    expect(event).toMatchObject({ target_id: ids.target, actor_type: 'system' });
    const details = JSON.stringify(event.details);
    expect(details).toContain(ids.approver);
    // Reason and ticket are sealed with the audit key, never stored in the clear.
    expect(details).not.toContain('INC-4711');
    expect(details).not.toContain('video call');
    expect((await cli(env, 'audit', 'verify-chain')).code).toBe(0);

    // The session is gone, and a copy of it would be refused by the revocation marker.
    expect((await sessions.store.read(id)).session).toBeUndefined();
    await sessions.store.set(
      id,
      { userId: userIdOf('platform', ids.target), kind: 'platform', adminId: ids.target },
      60_000,
      { rolling: false, changed: true },
    );
    expect((await sessions.store.read(id)).revokedBefore).toBeGreaterThanOrEqual(startedAt);

    // The same code cannot approve a second time.
    const again = await reset({ '--approval-code': code });
    expect(again).toMatchObject({ code: 2, stderr: expect.stringContaining('or was already used') });
  } finally {
    await sessions.close();
  }
});

it('has --help', async () => {
  const help = await cli({}, 'platform-admins', 'reset-mfa', '--help');
  expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining('--approval-code <code>') });
});
