// API fuzzing: schemathesis (scripts/setup.sh installs the pinned `st`) generates requests from
// each service's own OpenAPI document, served by the compiled service in production mode, and
// sends them with a fully signed-in (level 2) platform admin's cookie, as through the ingress
// (TRUSTED_PROXY_HOPS=1, X-Forwarded-Proto: https). It fails on any 5xx and on any response
// whose status, content type or body the document does not declare. docs/testing.md describes it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  productionBackends,
  startCompiledService,
  type CompiledService,
  type ProductionBackends,
} from '../support/compiled-service.js';
import { totpNow } from '../support/authenticator.js';

type Service = 'auth-session' | 'mfa-admin' | 'audit-log';

/**
 * Operations that end sessions: sign-out, a password change, ending one session by id (the
 * fuzzer finds real ids in GET /auth/sessions) or all the others. The main runs, which share one
 * session, leave them out; the last test fuzzes each group on a level-2 session of its own,
 * signed in before any fuzzing (fuzzing re-authentication with wrong passwords locks the
 * account), and revoke-others last.
 */
const SESSION_ENDING = [
  ['POST /auth/logout'],
  ['POST /auth/password'],
  ['DELETE /auth/sessions/{id}', 'POST /auth/sessions/{id}/revoke', 'POST /auth/sessions/revoke-others'],
];
const PREFIX: Record<Service, string> = { 'auth-session': '/auth', 'mfa-admin': '/admin', 'audit-log': '/audit' };

/** Test cases per operation and phase: enough to reach odd input, small enough for ~40 s in all. */
const MAX_EXAMPLES = 8;
// Generous against a loaded machine (the whole suite runs beside it): unloaded, each run takes 5–15 s.
const ST_TIMEOUT_MS = 150_000;

/**
 * Loaded into schemathesis (SCHEMATHESIS_HOOKS). CPython before 3.11.8 and 3.12.2 can raise
 * "SystemError: AST constructor recursion depth mismatch" (CPython gh-106905) from ast.parse deep
 * in a stack, and hypothesis parses its own source there only to describe a filter lambda for a
 * repr; that aborted whole operations. The description falls back to a plain one instead.
 */
const PYTHON_AST_WORKAROUND = `import hypothesis.internal.lambda_sources as sources
_describe = sources.lambda_description
def _lambda_description(f):
    try:
        return _describe(f)
    except SystemError:
        return "lambda: ..."
sources.lambda_description = _lambda_description
`;

let backends: ProductionBackends;
const services = new Map<Service, CompiledService>();
let cookie = '';
/** One level-2 session per SESSION_ENDING group. */
const ownSessions: string[] = [];
let workDir: string;

beforeAll(async () => {
  backends = await productionBackends();
  workDir = mkdtempSync(join(tmpdir(), 'portcullis-fuzz-'));
  writeFileSync(join(workDir, 'hooks.py'), PYTHON_AST_WORKAROUND);
  for (const name of ['auth-session', 'mfa-admin', 'audit-log'] as const) {
    services.set(name, await startCompiledService(name, { ...backends.env, TRUSTED_PROXY_HOPS: '1' }));
  }
  const { cookie: first, password, recoveryCodes } = await signInFully(services.get('auth-session')!.url);
  cookie = first;
  for (const code of recoveryCodes.slice(0, SESSION_ENDING.length))
    ownSessions.push(await signInWithRecoveryCode(services.get('auth-session')!.url, password, code));
  expect(await sessionStatus()).toBe(200);
}, 60_000);

afterAll(async () => {
  for (const service of services.values()) await service.stop();
  await backends?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const viaIngress = (ip: string) => ({ 'x-forwarded-proto': 'https', 'x-forwarded-for': ip });

/** A JSON client of auth-session through the ingress, with a cookie jar. */
function browser(url: string) {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  const send = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...viaIngress('198.51.100.7'),
        accept: 'application/json',
        'content-type': 'application/json',
        cookie: cookieHeader(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    const json = (await response.json()) as Record<string, unknown>;
    if (response.status !== 200)
      throw new Error(`sign-in step ${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
    return json;
  };
  return { send, cookieHeader };
}

/** The default platform admin through every step: password, TOTP enrolment, the required password change. */
async function signInFully(url: string): Promise<{ cookie: string; password: string; recoveryCodes: string[] }> {
  const { send, cookieHeader } = browser(url);
  await send('POST', '/auth/login', { email: backends.admin.email, password: backends.admin.password });
  const { secret } = await send('GET', '/auth/mfa/enroll');
  const { recoveryCodes } = await send('POST', '/auth/mfa/enroll', { code: totpNow(secret as string) });
  const password = `Fuzz-${backends.admin.password}-new`;
  const changed = await send('POST', '/auth/password', {
    currentPassword: backends.admin.password,
    newPassword: password,
  });
  expect(changed).toEqual({ passwordChanged: true, next: 'done' });
  return { cookie: cookieHeader(), password, recoveryCodes: recoveryCodes as string[] };
}

/** Another level-2 session of the same admin (a recovery code: a TOTP code cannot be used twice in its window). */
async function signInWithRecoveryCode(url: string, password: string, code: string): Promise<string> {
  const { send, cookieHeader } = browser(url);
  await send('POST', '/auth/login', { email: backends.admin.email, password });
  expect(await send('POST', '/auth/mfa/verify', { code })).toMatchObject({ assurance: 2, next: 'done' });
  return cookieHeader();
}

/** GET /auth/me with a session (the main one by default): 200 while it is a live level-2 session. */
async function sessionStatus(session = cookie): Promise<number> {
  const response = await fetch(`${services.get('auth-session')!.url}/auth/me`, {
    headers: { ...viaIngress('198.51.100.7'), accept: 'application/json', cookie: session },
  });
  await response.body?.cancel();
  return response.status;
}

/** The failures schemathesis printed (each with its curl reproduction), else the end of its output. */
function summaryOf({ output }: StResult): string {
  const start = output.search(/^=+ (ERRORS|FAILURES) =+$/m);
  return (start >= 0 ? output.slice(start) : output).slice(0, 12_000);
}

interface StResult {
  code: number | null;
  output: string;
  junit: string;
}

/** One `st run` on a service's document; `filter` narrows the operations (st's --include/--exclude flags). */
function runSchemathesis(
  name: Service,
  url: string,
  session: string,
  filter: string[],
  report: string,
): Promise<StResult> {
  const junitPath = join(workDir, `${report}.xml`);
  const args = [
    'run',
    `${url}${PREFIX[name]}/openapi.json`,
    '--url',
    url,
    '--checks',
    'not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance',
    '--max-examples',
    String(MAX_EXAMPLES),
    '--phases',
    'examples,coverage,fuzzing',
    '--seed',
    '20261203',
    '--workers',
    '2',
    '--request-timeout',
    '30',
    '--suppress-health-check',
    'all',
    '--no-color',
    '--report',
    'junit',
    '--report-junit-path',
    junitPath,
    '-H',
    `Cookie: ${session}`,
    '-H',
    'X-Forwarded-Proto: https',
    '-H',
    'X-Forwarded-For: 198.51.100.9',
    '-H',
    'Accept: application/json',
    // The CSRF rule wants JSON on every unsafe request, body or not; without this header the
    // body-less operations (suspend, revoke, sign-out) would only ever answer 415.
    '-H',
    'Content-Type: application/json',
    ...filter,
  ];
  return new Promise((resolve, reject) => {
    execFile(
      'st',
      args,
      {
        timeout: ST_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
        cwd: workDir,
        env: { ...process.env, SCHEMATHESIS_HOOKS: join(workDir, 'hooks.py') },
      },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT')
          return reject(new Error('`st` (schemathesis) is not on PATH: run bash scripts/setup.sh.'));
        if (error?.killed)
          return reject(
            new Error(
              `st run against ${name} did not finish within ${ST_TIMEOUT_MS / 1000} s:\n${stdout.slice(-3000)}`,
            ),
          );
        let junit = '';
        try {
          junit = readFileSync(junitPath, 'utf8');
        } catch {
          // No report: the output below says why (schema not loaded, bad flag).
        }
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: `${stdout}${stderr}`, junit });
      },
    );
  });
}

it.each(['auth-session', 'mfa-admin', 'audit-log'] as const)(
  '%s: no 5xx, and every response documented (status, content type, schema)',
  async (name) => {
    const service = services.get(name)!;
    const filter =
      name === 'auth-session' ? SESSION_ENDING.flat().flatMap((operation) => ['--exclude-name', operation]) : [];
    const result = await runSchemathesis(name, service.url, cookie, filter, name);
    if (result.code !== 0)
      throw new Error(`schemathesis found problems in ${name} (exit ${result.code}):\n${summaryOf(result)}`);
    expect(result.junit).toMatch(/<testcase /);
    // Every request rode a level-2 session, and it is still alive: nothing fuzzed ended it.
    expect(await sessionStatus()).toBe(200);
  },
  180_000,
);

it('auth-session, the operations that end sessions, each group on a session of its own: no 5xx, every response documented', async () => {
  const url = services.get('auth-session')!.url;
  for (const [index, operations] of SESSION_ENDING.entries()) {
    const result = await runSchemathesis(
      'auth-session',
      url,
      ownSessions[index]!,
      operations.flatMap((operation) => ['--include-name', operation]),
      `session-ending-${index}`,
    );
    if (result.code !== 0)
      throw new Error(
        `schemathesis found problems in ${operations.join(', ')} (exit ${result.code}):\n${summaryOf(result)}`,
      );
    expect(result.junit).toMatch(/<testcase /);
  }
  // They ran signed in: sign-out ended its own session, revoke-others the main one.
  expect(await sessionStatus(ownSessions[0]!)).toBe(401);
  expect(await sessionStatus()).toBe(401);
}, 180_000);
