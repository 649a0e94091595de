// Portcullis as production runs it, for the benches: a migrated PostgreSQL database with a
// tenant and admins who have an authenticator (seeded as enrolment leaves them), the complete
// production environment of auth-session, the compiled entry point started as its own pinned
// process (logs at info to /dev/null), and a real sign-in (password, then TOTP) through the
// ingress headers (TRUSTED_PROXY_HOPS=1, X-Forwarded-Proto: https for the Secure cookie).
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import createKnex, { type Knex } from 'knex';
import { keyRingOf } from '@portcullis/config';
import { migrateLatest } from '@portcullis/migrations';
import { createPasswordHasher, createTotp } from '@portcullis/crypto';
import { totpCode } from '../../test/support/authenticator.js';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../test/infra/moto-account.js';
import { round } from '../harness.js';
import { BENCH_CORE, pin, startServer, type ServerProcess } from './processes.js';

export const repoRoot = join(import.meta.dirname, '..', '..');
/**
 * The tree whose compiled auth-session runs: this one, or BENCH_PORTCULLIS_ROOT (e.g. a clean
 * export of an older commit, built there, for a before/after comparison in one run).
 */
export const portcullisRoot = process.env.BENCH_PORTCULLIS_ROOT || repoRoot;
const entryPointOf = (root: string) => join(root, 'services', 'auth-session', 'dist', 'main.js');

const STEP_MS = 30_000;

export class BenchAdmin {
  /** Last TOTP step used: the service accepts each step once per admin. */
  lastStep = 0;
  constructor(
    readonly id: string,
    readonly email: string,
    readonly secret: string,
    /** Its own client address behind the ingress. */
    readonly ip: string,
  ) {}

  /** A code of a step this admin has not used yet, or undefined when the current one is spent. */
  freshCode(): string | undefined {
    const step = Math.floor(Date.now() / STEP_MS);
    if (step <= this.lastStep) return undefined;
    this.lastStep = step;
    return totpCode(this.secret, step);
  }
}

export interface Seeded {
  tenant: string;
  password: string;
  admins: BenchAdmin[];
  /** MFA_SECRET_ENCRYPTION_KEY the seeded secrets are encrypted with. */
  mfaKey: string;
}

/**
 * Migrates `db` and adds one tenant with `count` tenant admins, all with the same password (hashed
 * once: argon2id at the production parameters) and each with its own TOTP secret, encrypted and
 * bound to its row as enrolment stores it.
 */
export async function seedPortcullis(db: Knex, count: number): Promise<Seeded> {
  await migrateLatest(db);
  const mfaKey = randomBytes(32).toString('base64');
  const ring = keyRingOf({ MFA_SECRET_ENCRYPTION_KEY: mfaKey }, 'MFA_SECRET_ENCRYPTION_KEY')!;
  const totp = createTotp({ now: () => Date.now() });
  const tenantId = randomUUID();
  const tenant = 'bench';
  const password = `bench passphrase ${randomUUID()}`;
  const passwordHash = await createPasswordHasher().hash(password);
  const now = new Date();
  await db('tenants').insert({
    id: tenantId,
    slug: tenant,
    name: 'Bench',
    status: 'active',
    created_at: now,
    updated_at: now,
  });
  const admins = Array.from(
    { length: count },
    (_, i) =>
      new BenchAdmin(
        randomUUID(),
        `admin${i}@bench.example`,
        totp.newSecret(),
        `198.51.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`,
      ),
  );
  const rows = admins.map((admin) => ({
    id: admin.id,
    tenant_id: tenantId,
    email: admin.email,
    password_hash: passwordHash,
    totp_secret: ring.encrypt(admin.secret, { table: 'tenant_admins', column: 'totp_secret', rowId: admin.id }),
    mfa_enabled: true,
    mfa_enrolled_at: now,
    failed_attempts: 0,
    must_change_password: false,
    created_at: now,
    updated_at: now,
  }));
  for (let i = 0; i < rows.length; i += 500) await db('tenant_admins').insert(rows.slice(i, i + 500));
  return { tenant, password, admins, mfaKey };
}

/** A fresh `bench` database on the PostgreSQL server at `serverUrl`; returns its URL. */
export async function createBenchDatabase(serverUrl: string): Promise<string> {
  const admin = createKnex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw('create database bench');
  } finally {
    await admin.destroy();
  }
  return `${serverUrl.replace(/\/[^/]*$/, '')}/bench`;
}

/** A fresh `bench` database with `count` signed-up admins (seedPortcullis). */
export async function seededBenchDatabase(
  serverUrl: string,
  count: number,
): Promise<{ databaseUrl: string; seeded: Seeded }> {
  const databaseUrl = await createBenchDatabase(serverUrl);
  const db = createKnex({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 2 } });
  try {
    return { databaseUrl, seeded: await seedPortcullis(db, count) };
  } finally {
    await db.destroy();
  }
}

/**
 * The start of a bench of the compiled auth-session: the bench process pinned to its core, a
 * warning when the build is older than the sources; the clock and load average for its JSON.
 */
export function beginBench(): { began: number; loadBefore: number[]; stale: boolean } {
  const began = performance.now();
  const loadBefore = loadavg().map((value) => round(value));
  pin(process.pid, BENCH_CORE);
  const stale = compiledIsStale();
  if (stale)
    console.error(
      `warning: ${portcullisRoot}/services/auth-session/dist is older than its sources: run \`npm run build\` to measure the current code`,
    );
  return { began, loadBefore, stale };
}

export type PortcullisDriver = 'redis' | 'knex' | 'dynamodb' | 'dual';

export interface Infrastructure {
  databaseUrl: string;
  redisUrl: string;
  /** moto's endpoint, for the dynamodb driver. */
  dynamoEndpoint?: string;
}

const key = () => randomBytes(32).toString('base64');

/**
 * What a production pod gets (as test/support/compiled-service.ts's productionBackends), on the
 * given driver; `dual` is redis → knex. `overrides` last (the sign-in bench loosens limits).
 */
export function productionEnv(
  infra: Infrastructure,
  seeded: Seeded,
  driver: PortcullisDriver,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const stores: Record<PortcullisDriver, Record<string, string>> = {
    redis: { SESSION_STORE_DRIVER: 'redis' },
    knex: { SESSION_STORE_DRIVER: 'knex' },
    dynamodb: {
      SESSION_STORE_DRIVER: 'dynamodb',
      DYNAMODB_ENDPOINT: infra.dynamoEndpoint ?? '',
      AWS_REGION: MOTO_REGION,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    },
    // The first dual phase (dual-write, redis → knex): reads redis alone, writes both. Spelled with
    // the variables every build reads (newer builds also take SESSION_STORE_PHASE=dual-write).
    dual: {
      SESSION_STORE_DRIVER: 'dual',
      SESSION_STORE_PRIMARY: 'redis',
      SESSION_STORE_SECONDARY: 'knex',
      SESSION_DUAL_FALLBACK_ON_MISS: 'false',
    },
  };
  if (driver === 'dynamodb' && !infra.dynamoEndpoint)
    throw new Error('the dynamodb driver needs moto: no endpoint given');
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    TRUSTED_PROXY_HOPS: '1',
    DATABASE_URL: infra.databaseUrl,
    SESSION_SECRET: randomBytes(48).toString('base64url'),
    RATE_LIMIT_STORE: 'redis',
    REDIS_URL: infra.redisUrl,
    REDIS_KEY_PREFIX: `bench-${driver}:`,
    MFA_SECRET_ENCRYPTION_KEY: seeded.mfaKey,
    MFA_RESET_LOG_ENCRYPTION_KEY: key(),
    AUDIT_DETAILS_ENCRYPTION_KEY: key(),
    SHUTDOWN_GRACE_MS: '1000',
    ...stores[driver],
    ...overrides,
  };
}

/** The newest modification time of a file ending in `extension` under `dir` (recursively), 0 if none. */
function newestFile(dir: string, extension: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(extension) && !entry.parentPath.includes('node_modules'))
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * Whether the auth-session `root` holds is missing, or any of its projects (its own and the
 * libs') has a source newer than its own build: `tsc -b` rewrites only the projects whose
 * sources changed, so one entry point's time says nothing about the libs.
 */
export function compiledIsStale(root = portcullisRoot): boolean {
  if (!existsSync(entryPointOf(root))) return true;
  const projects = [
    join(root, 'services', 'auth-session'),
    ...readdirSync(join(root, 'libs')).map((lib) => join(root, 'libs', lib)),
  ].filter((project) => existsSync(join(project, 'src')));
  return projects.some((project) => newestFile(join(project, 'src'), '.ts') > newestFile(join(project, 'dist'), '.js'));
}

/** Starts the compiled auth-session of `root` with `env`, pinned, and waits for /readyz. */
export function startAuthSession(env: Record<string, string>, root = portcullisRoot): Promise<ServerProcess> {
  const entryPoint = entryPointOf(root);
  if (!existsSync(entryPoint))
    throw new Error(
      `${entryPoint} does not exist: run \`npm run build\` there first (the bench runs the compiled service, as production does).`,
    );
  return startServer({ args: [entryPoint], env, portcullis: true, readyPath: '/readyz', readyStatus: 200, cwd: root });
}

/** The headers the ingress adds, for a client at `ip`. */
export const viaIngress = (ip: string): Record<string, string> => ({
  'x-forwarded-proto': 'https',
  'x-forwarded-for': ip,
});

/** Cookies (name → value) from a response, merged into `jar`. */
function takeCookies(jar: Map<string, string>, response: Response): void {
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';')[0]!;
    const at = pair.indexOf('=');
    jar.set(pair.slice(0, at), pair.slice(at + 1));
  }
}

const cookieHeader = (jar: Map<string, string>) =>
  [...jar]
    .filter(([, value]) => value !== '')
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');

export class SignInError extends Error {}

/**
 * Password, then TOTP, through the JSON API; returns the Cookie header of the level-2 session.
 * `code` is a fresh TOTP code of the admin (BenchAdmin.freshCode).
 */
export async function signIn(url: string, seeded: Seeded, admin: BenchAdmin, code: string): Promise<string> {
  const jar = new Map<string, string>();
  const headers = { ...viaIngress(admin.ip), accept: 'application/json', 'content-type': 'application/json' };
  const login = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ tenant: seeded.tenant, email: admin.email, password: seeded.password }),
  });
  const loginBody = await login.text();
  if (login.status !== 200) throw new SignInError(`password step: ${login.status} ${loginBody.slice(0, 300)}`);
  takeCookies(jar, login);
  const verify = await fetch(`${url}/auth/mfa/verify`, {
    method: 'POST',
    headers: { ...headers, cookie: cookieHeader(jar) },
    body: JSON.stringify({ code }),
  });
  const verifyBody = await verify.text();
  if (verify.status !== 200) throw new SignInError(`second factor: ${verify.status} ${verifyBody.slice(0, 300)}`);
  takeCookies(jar, verify);
  return cookieHeader(jar);
}

/** The headers of `GET /auth/me` for a signed-in admin. */
export const meHeaders = (admin: BenchAdmin, cookie: string): Record<string, string> => ({
  ...viaIngress(admin.ip),
  accept: 'application/json',
  cookie,
});

/** One GET /auth/me, which must answer 200 with this admin: the load after it is then meaningful. */
export async function checkMe(url: string, admin: BenchAdmin, cookie: string): Promise<void> {
  const response = await fetch(`${url}/auth/me`, { headers: meHeaders(admin, cookie) });
  const body = await response.text();
  if (response.status !== 200 || !body.includes(admin.id))
    throw new Error(`GET /auth/me with the new session answered ${response.status}: ${body.slice(0, 300)}`);
}
