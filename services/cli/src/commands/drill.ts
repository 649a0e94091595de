// `portcullis drill mfa-reset`: the staging drill of docs/mfa-reset-runbook.md as a command that
// leaves evidence. Through the real API (as a browser or script would), a designated drill
// platform admin resets a designated drill tenant admin's MFA and rolls it back; the command
// checks each promise on the way (sessions revoked, the log row encrypted under the current key
// and decrypting, the original authenticator working again) and writes one JSON file of
// timestamps, ids, key ids and check results. Never a password, code, secret or cookie.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { PREVIOUS_COLUMNS, RESET_LOG_TABLE, valueContext } from '@portcullis/mfa-reset-log';
import { totpCodeAt, totpStepAt } from '@portcullis/crypto';
import { createDatabase } from '@portcullis/db';
import { CliError, EXIT, messageOf } from '../cli-error.js';
import { readVariable, requireKeyRing } from '../env.js';
import { writeEvidence } from '../evidence.js';
import type { CliContext } from '../program.js';

interface Account {
  email: string;
  password: string;
  totpSecret: string;
}
interface Credentials {
  operator: Account;
  admin: Omit<Account, 'email'>;
}
interface Check {
  name: string;
  ok: boolean;
  at: string;
  detail: string;
}

/** --credentials: a JSON file (a mounted Secret), never flags, so no secret lands in a shell history or a process list. */
async function readCredentials(path: string): Promise<Credentials> {
  const parsed = JSON.parse(
    await readFile(path, 'utf8').catch((error: unknown) => {
      throw new CliError(`Cannot read --credentials ${path}: ${messageOf(error)}.`, EXIT.usage);
    }),
  ) as Partial<Credentials>;
  const account = (value: unknown, email: boolean) =>
    !!value &&
    typeof value === 'object' &&
    ['password', 'totpSecret', ...(email ? ['email'] : [])].every(
      (key) => typeof (value as Record<string, unknown>)[key] === 'string',
    );
  if (!account(parsed.operator, true) || !account(parsed.admin, false)) {
    throw new CliError(
      `--credentials ${path} must be {"operator":{"email","password","totpSecret"},"admin":{"password","totpSecret"}}: the drill platform admin and the drill tenant admin.`,
      EXIT.usage,
    );
  }
  return parsed as Credentials;
}

/** One actor's cookies across requests, as a browser keeps them. */
function client(baseUrl: string) {
  const jar = new Map<string, string>();
  return async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const response = await fetch(new URL(path, baseUrl), {
      method,
      redirect: 'manual',
      headers: {
        accept: 'application/json',
        'content-type': 'application/json',
        cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; '),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const at = pair!.indexOf('=');
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    const text = await response.text();
    return { status: response.status, json: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
}

/** The code of the first step after `afterStep` an authenticator would accept now: each step signs in once. */
function nextCode(secret: string, afterStep: number | undefined): { code: string; step: number } {
  const now = totpStepAt(Date.now());
  const step = Math.max(now, (afterStep ?? now - 1) + 1);
  if (step > now + 1)
    throw new CliError(
      'Both usable authenticator steps were spent; wait 30 seconds and run the drill again.',
      EXIT.failure,
    );
  try {
    return { code: totpCodeAt(secret, step), step };
  } catch {
    throw new CliError(
      'A totpSecret in the --credentials file is not base32: copy it as the authenticator was enrolled.',
      EXIT.usage,
    );
  }
}

interface Flags {
  baseUrl: string;
  tenant: string;
  admin: string;
  credentials: string;
  evidence: string;
  reason: string;
}

async function mfaResetDrill(context: CliContext, flags: Flags): Promise<void> {
  const credentials = await readCredentials(flags.credentials);
  const ring = requireKeyRing(
    context.env,
    'MFA_RESET_LOG_ENCRYPTION_KEY',
    'the drill checks the reset log row with it',
  );
  const db = createDatabase({ url: readVariable(context.env, 'DATABASE_URL'), poolMax: 1 });
  const startedAt = new Date().toISOString();
  const checks: Check[] = [];
  const evidence: Record<string, unknown> = {
    drill: 'mfa-reset',
    started_at: startedAt,
    base_url: flags.baseUrl,
    tenant: flags.tenant,
    admin_email: flags.admin,
    current_key_id: ring.primaryKeyId,
  };
  /** Records a check; a failed one stops the drill, except between reset and rollback (`soft`): the rollback must still run. */
  const check = (name: string, ok: boolean, detail: string, soft = false) => {
    checks.push({ name, ok, at: new Date().toISOString(), detail });
    if (!ok && !soft) throw new CliError(`Drill check "${name}" failed: ${detail}`, EXIT.failure);
  };
  const steps: Record<'operator' | 'admin', number | undefined> = { operator: undefined, admin: undefined };
  const signIn = async (
    as: 'operator' | 'admin',
    call: ReturnType<typeof client>,
    account: Account,
    tenant?: string,
  ) => {
    const login = await call('POST', '/auth/login', {
      ...(tenant ? { tenant } : {}),
      email: account.email,
      password: account.password,
    });
    if (login.status !== 200) return login;
    let { code, step } = nextCode(account.totpSecret, steps[as]);
    steps[as] = step;
    let verified = await call('POST', '/auth/mfa/verify', { code });
    // This step may have been spent by an earlier run (or the admin) moments ago: the next one is accepted too.
    if (verified.status === 401 && step === totpStepAt(Date.now())) {
      ({ code, step } = nextCode(account.totpSecret, step));
      steps[as] = step;
      verified = await call('POST', '/auth/mfa/verify', { code });
    }
    return verified;
  };
  const adminAccount = { ...credentials.admin, email: flags.admin };
  /** A fresh browser of the drill admin: signed in with password and code, then /auth/me. */
  const adminSession = async () => {
    const call = client(flags.baseUrl);
    const signedIn = await signIn('admin', call, adminAccount, flags.tenant);
    const me = await call('GET', '/auth/me');
    return { call, signedIn, me, ok: signedIn.status === 200 && me.status === 200 };
  };
  try {
    const operator = client(flags.baseUrl);
    const signedIn = await signIn('operator', operator, credentials.operator);
    check(
      'operator_signed_in',
      signedIn.status === 200,
      `The drill platform admin signed in with password and code (HTTP ${signedIn.status}).`,
    );

    const before = await adminSession();
    const { me } = before;
    check('admin_signed_in', before.ok, `The drill admin signed in and /auth/me answered ${me.status}.`);
    const [adminId, tenantId] = [String(me.json.id ?? ''), String(me.json.tenantId ?? '')];
    check(
      'drill_admin_found',
      me.json.kind === 'tenant' && !!adminId && !!tenantId,
      `Drill admin ${adminId || '?'} in tenant ${tenantId || '?'}.`,
    );
    Object.assign(evidence, { admin_id: adminId, tenant_id: tenantId });

    const reset = await operator('POST', `/admin/tenants/${tenantId}/admins/${adminId}/mfa/reset`, {
      reason: flags.reason,
      ticket: 'drill',
    });
    const logId = String((reset.json.reset as { id?: unknown } | undefined)?.id ?? '');
    check(
      'reset',
      reset.status === 200 && !!logId,
      `POST …/mfa/reset answered ${reset.status}; reset log row ${logId || '?'}; sessions ${String(reset.json.sessionsRevoked ?? '?')}.`,
    );
    evidence.reset_log_id = logId;

    const after = await before.call('GET', '/auth/me');
    check(
      'admin_sessions_revoked',
      after.status === 401,
      `The drill admin's session from before the reset answered ${after.status} (401 expected).`,
      true,
    );

    const row = (await db(RESET_LOG_TABLE).where({ id: logId }).first()) as Record<string, string | null> | undefined;
    const values = PREVIOUS_COLUMNS.filter((column) => row?.[column] != null).map((column) => ({
      column,
      value: row![column]!,
      kind: ring.classify(row![column]!, valueContext(column, logId)),
    }));
    const keyIds = [
      ...new Set(values.map((value) => (value.kind.kind === 'encrypted' ? value.kind.keyId : value.kind.kind))),
    ];
    evidence.log_row_key_ids = keyIds;
    check(
      'log_row_encrypted_under_current_key',
      values.length > 0 && keyIds.length === 1 && keyIds[0] === ring.primaryKeyId,
      `${values.length} previous_* values under key id(s) ${keyIds.join(', ') || 'none'}; the current key is ${ring.primaryKeyId}.`,
      true,
    );
    const decrypted = values.filter((value) => {
      try {
        ring.decrypt(value.value, valueContext(value.column, logId));
        return true;
      } catch {
        return false;
      }
    }).length;
    check(
      'log_row_decrypts',
      decrypted === values.length,
      `${decrypted} of ${values.length} previous_* values decrypt with the configured keys.`,
      true,
    );

    const rollback = await operator('POST', `/admin/mfa-resets/${logId}/rollback`, {
      reason: `${flags.reason} (rollback)`,
    });
    check('rollback', rollback.status === 200, `POST …/rollback answered ${rollback.status}.`);

    const again = await adminSession();
    check(
      'original_authenticator_works',
      again.ok,
      `The drill admin signed in with the original authenticator after the rollback (HTTP ${again.signedIn.status}, /auth/me ${again.me.status}).`,
    );
    const failed = checks.filter((c) => !c.ok).map((c) => c.name);
    if (failed.length > 0)
      throw new CliError(
        `Drill checks failed: ${failed.join(', ')} (the reset was rolled back); the evidence file has the details.`,
        EXIT.failure,
      );
  } catch (error) {
    if (!(error instanceof CliError))
      checks.push({
        name: 'drill',
        ok: false,
        at: new Date().toISOString(),
        detail: `The drill stopped: ${messageOf(error)}.`,
      });
    throw error instanceof CliError
      ? error
      : new CliError(
          `The drill stopped: ${messageOf(error)}; the evidence file lists the checks that ran.`,
          EXIT.failure,
        );
  } finally {
    await db.destroy();
    const passed =
      checks.length > 0 && checks.every((c) => c.ok) && checks.some((c) => c.name === 'original_authenticator_works');
    Object.assign(evidence, { finished_at: new Date().toISOString(), passed, checks });
    const file = await writeEvidence(flags.evidence, 'mfa-reset-drill', startedAt, evidence);
    context.stdout.write(`${JSON.stringify({ evidence: file, passed, checks: checks.length })}\n`);
  }
}

export function registerDrillCommands(program: Command, context: CliContext): void {
  program
    .command('drill')
    .description('Staging drills that leave evidence (docs/mfa-reset-runbook.md)')
    .command('mfa-reset')
    .description(
      'Reset and roll back a designated drill tenant admin through the real API; checks sessions, the encrypted log row and the original authenticator; writes JSON evidence',
    )
    .requiredOption('--base-url <url>', 'where the ingress serves /auth and /admin (staging)')
    .requiredOption('--tenant <slug>', 'the drill tenant')
    .requiredOption('--admin <email>', 'the designated drill tenant admin')
    .requiredOption(
      '--credentials <file>',
      'JSON of the drill platform admin {email,password,totpSecret} as "operator" and the drill admin {password,totpSecret} as "admin"',
    )
    .requiredOption('--evidence <dir>', 'directory for the evidence file')
    .option('--reason <text>', 'reason recorded with the reset and the rollback', 'scheduled MFA reset drill')
    .action((flags: Flags) => mfaResetDrill(context, flags));
}
