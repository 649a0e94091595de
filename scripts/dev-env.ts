// The development .env: created once with fresh random secrets, reused afterwards.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface DevEnvironment {
  values: Record<string, string>;
  created: boolean;
}

const random = (bytes: number) => randomBytes(bytes).toString('base64url');

function parseDotEnv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/.exec(line);
    if (match) values[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1');
  }
  return values;
}

export function loadOrCreateDevEnv(path: string): DevEnvironment {
  if (existsSync(path)) return { values: parseDotEnv(readFileSync(path, 'utf8')), created: false };
  const values = {
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    DEV_GATEWAY_PORT: '8080',
    DEV_POSTGRES_PORT: '54329',
    DEV_POSTGRES_PASSWORD: random(18),
    SESSION_SECRET: random(36),
    // Shared through the dev PostgreSQL (the sessions table comes with the migrations): with
    // `memory` each service had its own sessions, so a sign-in at /auth meant nothing at /admin.
    SESSION_STORE_DRIVER: 'knex',
    DEFAULT_PLATFORM_ADMIN_EMAIL: 'admin@portcullis.localhost',
    DEFAULT_PLATFORM_ADMIN_PASSWORD: random(15),
    MFA_SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    MFA_RESET_LOG_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    AUDIT_DETAILS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };
  const text = [
    '# Development settings made by `npm run dev` on first start. Never use in production.',
    ...Object.entries(values).map(([key, value]) => `${key}=${value}`),
  ].join('\n');
  writeFileSync(path, `${text}\n`, { mode: 0o600 });
  return { values, created: true };
}
