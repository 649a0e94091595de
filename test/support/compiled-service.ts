// The compiled entry points as the image runs them: `node services/<name>/dist/main.js`, resolved
// through the packages' `default` exports (dist), NODE_ENV=production and a complete
// configuration against the test servers. Shared by test/e2e/compiled-services.test.ts and
// test/e2e/proxy.test.ts.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { testPostgres, testRedis, type TestDatabase } from './index.js';

export const repoRoot = join(import.meta.dirname, '..', '..');

export type EntryPoint = 'auth-session' | 'mfa-admin' | 'audit-log' | 'cli';

/** Path of a compiled entry point; a missing build is an error that says what to run. */
export function compiledEntryPoint(name: EntryPoint): string {
  const path = join(repoRoot, 'services', name, 'dist', 'main.js');
  if (!existsSync(path)) {
    throw new Error(
      `services/${name}/dist/main.js does not exist: run \`npm run build\` first (these tests run the compiled entry points, as the image does).`,
    );
  }
  return path;
}

export interface ProductionBackends {
  /** Every variable a production pod gets, ports aside (startCompiledService binds loopback, port 0). */
  env: Record<string, string>;
  database: TestDatabase;
  /** The default platform admin auth-session creates at start-up. */
  admin: { email: string; password: string };
  close(): Promise<void>;
}

const key = () => randomBytes(32).toString('base64');

/**
 * A migrated database of its own on the shared PostgreSQL, a key prefix on the shared Redis
 * (session store and login throttle) and fresh keys: what the chart's ConfigMap and Secret give
 * a pod in production.
 */
export async function productionBackends(): Promise<ProductionBackends> {
  const database = await testPostgres();
  const { default: knex } = await import('knex');
  const { migrateLatest } = await import('@portcullis/migrations');
  const db = knex({ client: 'pg', connection: database.url, pool: { min: 0, max: 2 } });
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
  const redis = testRedis();
  const admin = { email: 'root@portcullis.example', password: `Pw-${randomBytes(12).toString('base64url')}` };
  const env = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    DATABASE_URL: database.url,
    DATABASE_POOL_MAX: '4',
    SESSION_SECRET: randomBytes(48).toString('base64url'),
    SESSION_STORE_DRIVER: 'redis',
    RATE_LIMIT_STORE: 'redis',
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.prefix,
    MFA_SECRET_ENCRYPTION_KEY: key(),
    MFA_RESET_LOG_ENCRYPTION_KEY: key(),
    AUDIT_DETAILS_ENCRYPTION_KEY: key(),
    DEFAULT_PLATFORM_ADMIN_EMAIL: admin.email,
    DEFAULT_PLATFORM_ADMIN_PASSWORD: admin.password,
    SHUTDOWN_GRACE_MS: '1000',
  };
  return { env, database, admin, close: () => database.drop() };
}

export interface CompiledService {
  pid: number;
  /** Public port, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Admin port: /healthz, /readyz, /metrics */
  adminUrl: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM by pid; SIGKILL if it has not exited within 10 s. Resolves with the exit code. */
  stop(): Promise<number | null>;
}

const READY_TIMEOUT_MS = 30_000;

/**
 * Starts a compiled service with exactly `env` (plus PATH: a developer's shell must not change
 * the outcome) on loopback port 0, reads the bound ports from its "listening" log line and waits
 * until /readyz answers 200.
 */
export async function startCompiledService(
  name: Exclude<EntryPoint, 'cli'>,
  env: Record<string, string>,
): Promise<CompiledService> {
  const child = spawn(process.execPath, [compiledEntryPoint(name)], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      ...env,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      ADMIN_HOST: '127.0.0.1',
      ADMIN_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve((exitCode = code ?? (signal ? -1 : null)))),
  );
  child.stderr.on('data', (chunk) => (output += chunk));
  const listening = new Promise<{ url: string; adminUrl: string }>((resolve) => {
    let pending = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const parsed = parseJson(line);
        if (
          parsed?.msg === `${name} listening` &&
          typeof parsed.url === 'string' &&
          typeof parsed.adminUrl === 'string'
        )
          resolve({ url: parsed.url, adminUrl: parsed.adminUrl });
      }
    });
  });

  const stop = async (): Promise<number | null> => {
    if (exitCode !== undefined) return exitCode;
    process.kill(child.pid!, 'SIGTERM');
    const timer = setTimeout(() => exitCode === undefined && process.kill(child.pid!, 'SIGKILL'), 10_000);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  const failure = (why: string) => new Error(`${name} (compiled) ${why}; its output:\n${output.slice(-4000)}`);
  try {
    const ports = await Promise.race([
      listening,
      exited.then((code) => Promise.reject(failure(`exited with ${code} before listening`))),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(failure(`did not listen within ${READY_TIMEOUT_MS / 1000} s`)),
          READY_TIMEOUT_MS,
        ).unref(),
      ),
    ]);
    for (;;) {
      if (exitCode !== undefined) throw failure(`exited with ${exitCode} before it was ready`);
      const status = await fetch(`${ports.adminUrl}/readyz`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return { pid: child.pid!, ...ports, output: () => output, stop };
      if (Date.now() > deadline)
        throw failure(`was not ready within ${READY_TIMEOUT_MS / 1000} s (last /readyz: ${status})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a compiled entry point to its end (at most 30 s) with exactly `env` (plus PATH). */
export function runEntryPoint(name: EntryPoint, args: string[], env: Record<string, string>): Promise<NodeRun> {
  return runNode([compiledEntryPoint(name), ...args], env);
}

export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node <args>` to its end (at most 30 s) with exactly `env` (plus PATH): a developer's
 * shell must not change the outcome. Killed and reported with its output past the limit.
 */
export function runNode(args: string[], env: Record<string, string>): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      process.kill(child.pid!, 'SIGKILL');
      reject(new Error(`node ${args.join(' ')} did not exit within 30 s; its output:\n${stdout}${stderr}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
