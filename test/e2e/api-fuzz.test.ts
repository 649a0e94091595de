// API fuzzing: schemathesis (scripts/setup.sh installs the pinned `st`) generates requests from
// each service's own OpenAPI document, served by the compiled service in production mode, and
// sends them with a fully signed-in (level 2) platform admin's cookie, as through the ingress
// (TRUSTED_PROXY_HOPS=1, X-Forwarded-Proto: https). It fails on any 5xx and on any response
// whose status, content type or body the document does not declare. docs/testing.md describes it.
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { productionBackends, startCompiledService, type CompiledService, type ProductionBackends } from '../support/compiled-service.js';

type Service = 'auth-session' | 'mfa-admin' | 'audit-log';

/**
 * Operations left out of the fuzzing, and why: each would end the one session every other
 * request rides on (sign-out, ending the admin's other sessions, a password change voids them).
 * The routes' own tests cover them.
 */
const EXCLUDED: Record<Service, string[]> = {
  'auth-session': ['POST /auth/logout', 'POST /auth/sessions/revoke-others', 'POST /auth/password'],
  'mfa-admin': [],
  'audit-log': [],
};
const PREFIX: Record<Service, string> = { 'auth-session': '/auth', 'mfa-admin': '/admin', 'audit-log': '/audit' };

/** Test cases per operation and phase: enough to reach odd input, small enough for < 90 s in all. */
const MAX_EXAMPLES = 8;
const ST_TIMEOUT_MS = 60_000;

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
let workDir: string;

beforeAll(async () => {
  backends = await productionBackends();
  workDir = mkdtempSync(join(tmpdir(), 'portcullis-fuzz-'));
  writeFileSync(join(workDir, 'hooks.py'), PYTHON_AST_WORKAROUND);
  for (const name of ['auth-session', 'mfa-admin', 'audit-log'] as const) {
    services.set(name, await startCompiledService(name, { ...backends.env, TRUSTED_PROXY_HOPS: '1' }));
  }
  cookie = await signInFully(services.get('auth-session')!.url);
  expect(await sessionStatus()).toBe(200);
}, 60_000);

afterAll(async () => {
  for (const service of services.values()) await service.stop();
  await backends?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const viaIngress = (ip: string) => ({ 'x-forwarded-proto': 'https', 'x-forwarded-for': ip });

/** The default platform admin through every step: password, TOTP enrolment, the required password change. */
async function signInFully(url: string): Promise<string> {
  const jar = new Map<string, string>();
  const send = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { ...viaIngress('198.51.100.7'), accept: 'application/json', 'content-type': 'application/json', cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    const json = (await response.json()) as Record<string, unknown>;
    if (response.status !== 200) throw new Error(`sign-in step ${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
    return json;
  };
  await send('POST', '/auth/login', { email: backends.admin.email, password: backends.admin.password });
  const { secret } = await send('GET', '/auth/mfa/enroll');
  await send('POST', '/auth/mfa/enroll', { code: totpNow(secret as string) });
  const changed = await send('POST', '/auth/password', { currentPassword: backends.admin.password, newPassword: `Fuzz-${backends.admin.password}-new` });
  expect(changed).toEqual({ passwordChanged: true, next: 'done' });
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

/** RFC 6238 (SHA-1, 6 digits, 30 s), as an authenticator app computes it. */
function totpNow(base32Secret: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bits = [...base32Secret.replace(/=+$/, '').toUpperCase()].map((char) => alphabet.indexOf(char).toString(2).padStart(5, '0')).join('');
  const key = Buffer.from(bits.match(/.{8}/g)!.map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** GET /auth/me with the fuzzing session: 200 while it is a live level-2 session. */
async function sessionStatus(): Promise<number> {
  const response = await fetch(`${services.get('auth-session')!.url}/auth/me`, { headers: { ...viaIngress('198.51.100.7'), accept: 'application/json', cookie } });
  await response.body?.cancel();
  return response.status;
}

/** The failures schemathesis printed (each with its curl reproduction), else the end of its output. */
function summaryOf({ output }: StResult): string {
  const start = output.search(/^=+ (ERRORS|FAILURES) =+$/m);
  return (start >= 0 ? output.slice(start) : output).slice(0, 12_000);
}

interface StResult { code: number | null; output: string; junit: string }

function runSchemathesis(name: Service, url: string): Promise<StResult> {
  const junitPath = join(workDir, `${name}.xml`);
  const args = [
    'run', `${url}${PREFIX[name]}/openapi.json`,
    '--url', url,
    '--checks', 'not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance',
    '--max-examples', String(MAX_EXAMPLES),
    '--phases', 'examples,coverage,fuzzing',
    '--seed', '20261203',
    '--workers', '2',
    '--request-timeout', '10',
    '--suppress-health-check', 'all',
    '--no-color',
    '--report', 'junit', '--report-junit-path', junitPath,
    '-H', `Cookie: ${cookie}`,
    '-H', 'X-Forwarded-Proto: https',
    '-H', 'X-Forwarded-For: 198.51.100.9',
    '-H', 'Accept: application/json',
    ...EXCLUDED[name].flatMap((operation) => ['--exclude-name', operation]),
  ];
  return new Promise((resolve, reject) => {
    execFile('st', args, { timeout: ST_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, cwd: workDir, env: { ...process.env, SCHEMATHESIS_HOOKS: join(workDir, 'hooks.py') } }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error('`st` (schemathesis) is not on PATH: run bash scripts/setup.sh.'));
      if (error?.killed) return reject(new Error(`st run against ${name} did not finish within ${ST_TIMEOUT_MS / 1000} s:\n${stdout.slice(-3000)}`));
      let junit = '';
      try {
        junit = readFileSync(junitPath, 'utf8');
      } catch {
        // No report: the output below says why (schema not loaded, bad flag).
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: `${stdout}${stderr}`, junit });
    });
  });
}

it.each(['auth-session', 'mfa-admin', 'audit-log'] as const)('%s: no 5xx, and every response documented (status, content type, schema)', async (name) => {
  const service = services.get(name)!;
  const result = await runSchemathesis(name, service.url);
  if (result.code !== 0) throw new Error(`schemathesis found problems in ${name} (exit ${result.code}):\n${summaryOf(result)}`);
  expect(result.junit).toMatch(/<testcase /);
  // Every request rode a level-2 session, and it is still alive: nothing fuzzed ended it.
  expect(await sessionStatus()).toBe(200);
}, 90_000);
