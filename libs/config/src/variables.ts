// Every environment variable the product reads, in one place. The README's configuration
// table is generated from this list and a test keeps the two in step.
import { z } from 'zod';

export interface VariableSpec<S extends z.ZodType = z.ZodType> {
  schema: S;
  description: string;
  /** Secret values are never printed: not in errors, logs or the reference table. */
  secret?: boolean;
}

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1');

/** A boolean that stays undefined when unset, where unset means something (see session-phase.ts). */
const optionalBool = () =>
  z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .optional()
    .transform((value) => (value === undefined ? undefined : value === 'true' || value === '1'));

const int = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .default(String(fallback))
    .transform((value, ctx) => {
      const parsed = Number(value);
      if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return parsed;
    });

const optionalString = () => z.string().trim().min(1).optional();
const url = (protocols: RegExp, what: string) =>
  z.string({ error: 'is required' }).refine((value) => {
    try {
      return protocols.test(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `must be a ${what} URL`);

/** Comma-separated list of signing secrets: the first signs, every one verifies. */
const sessionSecretList = z
  .string({ error: 'is required' })
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  )
  .refine((list) => list.length > 0, 'must hold at least one secret')
  .refine(
    (list) => list.every((secret) => secret.length >= 32),
    'every secret in the list must be at least 32 characters',
  );

/** A key is checked for shape here; libs/crypto checks it fully when the key ring is built. */
const encryptionKey = z.string().trim().min(1, 'must not be empty').optional();
const previousKeys = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  );

const storeDriver = z.enum(['memory', 'redis', 'knex', 'dynamodb', 'dual'], {
  error: 'must be one of memory, redis, knex, dynamodb, dual',
});
const singleStoreDriver = z.enum(['memory', 'redis', 'knex', 'dynamodb'], {
  error: 'must be one of memory, redis, knex, dynamodb',
});

export const variables = {
  NODE_ENV: {
    schema: z
      .enum(['development', 'test', 'production'], { error: 'must be development, test or production' })
      .default('development'),
    description: '`production` refuses development defaults (dev session secret, memory store, missing keys).',
  },
  LOG_LEVEL: {
    schema: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be a pino level' })
      .default('info'),
    description: 'pino log level.',
  },
  HTTP_HOST: { schema: z.string().default('0.0.0.0'), description: 'Address the public HTTP server binds.' },
  HTTP_PORT: { schema: int(8080, 0, 65535), description: 'Public HTTP port (behind the ingress).' },
  ADMIN_HOST: {
    schema: z.string().default('0.0.0.0'),
    description: 'Address of the admin server (`/healthz`, `/readyz`, `/metrics`).',
  },
  ADMIN_PORT: { schema: int(9090, 0, 65535), description: 'Admin port; never exposed by the ingress.' },
  TRUSTED_PROXY_HOPS: {
    schema: int(0, 0, 10),
    description:
      'Proxies in front of the service (1 behind the ingress). The client address is the nth `X-Forwarded-For` entry from the right, so entries a client writes are ignored; 0 reads no `X-Forwarded-*` header. Replaces `TRUST_PROXY`, now refused.',
  },
  SHUTDOWN_GRACE_MS: {
    schema: int(10_000, 0, 600_000),
    description: 'On SIGTERM, how long in-flight requests may finish before connections are cut.',
  },
  REQUEST_TIMEOUT_MS: { schema: int(15_000, 1000, 600_000), description: 'Longest time one HTTP request may take.' },
  READINESS_TIMEOUT_MS: {
    schema: int(2000, 100, 60_000),
    description: 'Timeout of each dependency check behind `/readyz`.',
  },

  SECRETS_SOURCE: {
    schema: z.enum(['env', 'aws'], { error: 'must be env or aws' }).default('env'),
    description:
      '`env`: secrets are in the environment (External Secrets Operator). `aws`: load them at start-up from Secrets Manager and/or SSM.',
  },
  AWS_REGION: {
    schema: z.string().default('us-east-1'),
    description: 'AWS region for Secrets Manager, SSM and DynamoDB.',
  },
  AWS_SECRETS_MANAGER_SECRET_ID: {
    schema: optionalString(),
    description: 'With `SECRETS_SOURCE=aws`: id or ARN of a JSON secret whose keys are variable names.',
  },
  AWS_SSM_PARAMETER_PATH: {
    schema: optionalString(),
    description:
      'With `SECRETS_SOURCE=aws`: SSM path; each SecureString under it is a variable named by its last segment.',
  },
  AWS_ACCESS_KEY_ID: {
    schema: optionalString(),
    description: 'Static AWS credentials; normally unset (IRSA gives pods their role).',
    secret: true,
  },
  AWS_SECRET_ACCESS_KEY: {
    schema: optionalString(),
    description: 'Static AWS credentials; normally unset.',
    secret: true,
  },
  AWS_ENDPOINT_URL: {
    schema: url(/^https?:$/, 'http(s)').optional(),
    description: 'Override of the AWS API endpoint (an emulator in tests).',
  },

  DATABASE_URL: {
    schema: url(/^postgres(ql)?:$/, 'postgres://'),
    description: 'PostgreSQL connection URL (RDS or RDS Proxy in production). Required.',
    secret: true,
  },
  DATABASE_POOL_MAX: { schema: int(10, 1, 500), description: 'Largest number of PostgreSQL connections per pod.' },

  SESSION_SECRET: {
    schema: sessionSecretList,
    description:
      'Comma-separated cookie-signing and id-hashing secrets, each ≥ 32 characters; the first signs, all verify.',
    secret: true,
  },
  SESSION_STORE_PHASE: {
    schema: z
      .enum(['single', 'dual-write', 'cutover', 'retiring'], {
        error: 'must be one of single, dual-write, cutover, retiring',
      })
      .optional(),
    description:
      'Where the session store stands in a move (docs/session-cutover.md): `single` uses `SESSION_STORE_FROM`; `dual-write`, `cutover` and `retiring` move sessions from `SESSION_STORE_FROM` to `SESSION_STORE_TO`. Every dual setting is derived from it. Unset = the deprecated variables below (default `single` on memory).',
  },
  SESSION_STORE_FROM: {
    schema: singleStoreDriver.optional(),
    description: 'The store sessions are in (`single`) or move from: memory (dev only), redis, knex or dynamodb.',
  },
  SESSION_STORE_TO: {
    schema: singleStoreDriver.optional(),
    description: 'With a dual phase: the store sessions move to.',
  },
  SESSION_STORE_DRIVER: {
    schema: storeDriver.default('memory'),
    description:
      'Deprecated (read for one release): use `SESSION_STORE_PHASE`. Session store: memory, redis, knex, dynamodb or dual.',
  },
  SESSION_STORE_PRIMARY: {
    schema: singleStoreDriver.optional(),
    description: 'Deprecated: derived from `SESSION_STORE_PHASE`. With `dual`: the store read first.',
  },
  SESSION_STORE_SECONDARY: {
    schema: singleStoreDriver.optional(),
    description: 'Deprecated: derived from `SESSION_STORE_PHASE`. With `dual`: the store also written.',
  },
  SESSION_DUAL_READ_REPAIR: {
    schema: optionalBool(),
    description: 'Deprecated: always off (it can undo a logout for good); `true` is refused.',
  },
  SESSION_DUAL_FALLBACK_ON_MISS: {
    schema: optionalBool(),
    description:
      'Deprecated: derived from `SESSION_STORE_PHASE` (on in `cutover` only). With `dual` it must be set; the unsafe combinations are refused with the phase to use.',
  },
  SESSION_RETIRING_STORE_TTL_SECONDS: {
    schema: z
      .string()
      .regex(/^[1-9]\d{0,8}$/, 'must be a whole number of seconds from 1')
      .transform(Number)
      .optional(),
    description:
      'In the `retiring` phase: the TTL written to the store being retired (default 900); ignored in the other phases. With the deprecated variables it marks the retiring phase.',
  },
  SESSION_CONSISTENCY_SAMPLE_SECONDS: {
    schema: int(300, 0, 86_400),
    description:
      'With `dual`: how often each pod compares sampled sessions between its two stores (`session_store_consistency_*`); 0 = never.',
  },
  SESSION_CONSISTENCY_SAMPLE_SIZE: {
    schema: int(50, 1, 10_000),
    description: 'With `dual`: sessions sampled from each store per comparison.',
  },
  SESSION_TABLE_NAME: {
    schema: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a plain SQL identifier')
      .default('sessions'),
    description: 'Table of the knex session store (created by a migration).',
  },
  SESSION_KNEX_CLIENT: {
    schema: z.enum(['pg', 'mysql2'], { error: 'must be pg or mysql2' }).default('pg'),
    description: 'knex client of the session store.',
  },
  SESSION_DATABASE_URL: {
    schema: url(/^(postgres(ql)?|mysql):$/, 'postgres:// or mysql://').optional(),
    description: 'Database of the knex session store; defaults to `DATABASE_URL`.',
    secret: true,
  },
  SESSION_COOKIE_NAME: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'must be a cookie token (letters, digits, . _ -)')
      .default('portcullis.sid'),
    description: 'Session cookie name (`__Host-` is prefixed in production).',
  },
  SESSION_IDLE_TIMEOUT_SECONDS: { schema: int(1800, 60), description: 'Idle timeout (rolling).' },
  SESSION_ABSOLUTE_TIMEOUT_SECONDS: { schema: int(43_200, 300), description: 'Absolute session lifetime.' },
  SESSION_MAX_CONCURRENT: { schema: int(5, 1, 1000), description: 'Maximum concurrent sessions per admin.' },
  SESSION_CONCURRENCY_MODE: {
    schema: z.enum(['reject', 'evict-oldest'], { error: 'must be reject or evict-oldest' }).default('evict-oldest'),
    description: 'What happens past the limit.',
  },

  RATE_LIMIT_STORE: {
    schema: z.enum(['redis', 'postgres', 'memory'], { error: 'must be redis, postgres or memory' }).default('postgres'),
    description: 'Where login throttling counts attempts (shared by all replicas; memory is for tests and dev).',
  },
  LOCKOUT_THRESHOLD: {
    schema: int(5, 1, 100),
    description:
      'Consecutive failed factors before an account locks; each further run of failures locks it again, twice as long.',
  },
  LOCKOUT_BASE_SECONDS: { schema: int(60, 1, 86_400), description: 'First lock duration.' },
  LOCKOUT_MAX_SECONDS: { schema: int(3600, 1, 604_800), description: 'Longest lock duration.' },
  REAUTH_MAX_AGE_SECONDS: {
    schema: int(300, 30, 3600),
    description: 'How recent a password + TOTP confirmation must be for sensitive actions (MFA reset, rollback).',
  },
  REDIS_URL: {
    schema: url(/^rediss?:$/, 'redis:// or rediss://').optional(),
    description: 'Redis for the session store and rate limits.',
    secret: true,
  },
  REDIS_KEY_PREFIX: { schema: z.string().default('portcullis:'), description: 'Prefix of every Redis key.' },

  DYNAMODB_SESSION_TABLE: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,200}$/, 'must be a DynamoDB table name')
      .default('sessions'),
    description: 'DynamoDB session table (after the prefix).',
  },
  DYNAMODB_TABLE_PREFIX: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{0,50}$/, 'may hold letters, digits, _ . - only')
      .default(''),
    description: 'Prefix of DynamoDB table names (e.g. `prod-`).',
  },
  DYNAMODB_ENDPOINT: {
    schema: url(/^https?:$/, 'http(s)').optional(),
    description: 'DynamoDB endpoint override (an emulator in tests).',
  },
  DYNAMODB_CONSISTENT_READ: { schema: bool(true), description: 'Strongly consistent reads of sessions.' },
  DYNAMODB_BILLING_MODE: {
    schema: z
      .enum(['PAY_PER_REQUEST', 'PROVISIONED'], { error: 'must be PAY_PER_REQUEST or PROVISIONED' })
      .default('PAY_PER_REQUEST'),
    description: 'Capacity mode used when the CLI creates the table.',
  },
  DYNAMODB_READ_CAPACITY: { schema: int(5, 1, 40_000), description: 'RCU with `PROVISIONED`.' },
  DYNAMODB_WRITE_CAPACITY: { schema: int(5, 1, 40_000), description: 'WCU with `PROVISIONED`.' },

  DEFAULT_PLATFORM_ADMIN_EMAIL: {
    schema: z.email({ error: 'must be an email address' }).optional(),
    description: 'First platform admin, created on start when none exists.',
  },
  DEFAULT_PLATFORM_ADMIN_PASSWORD: {
    schema: z.string().min(12, 'must be at least 12 characters').optional(),
    description: 'Initial password of that admin (must be changed at first sign-in).',
    secret: true,
  },

  MFA_SECRET_ENCRYPTION_KEY: {
    schema: encryptionKey,
    description: 'Key (≥ 32 random bytes, hex or base64) encrypting live TOTP secrets.',
    secret: true,
  },
  MFA_SECRET_ENCRYPTION_KEYS_PREVIOUS: {
    schema: previousKeys,
    description: 'Comma-separated older keys, decrypt only (rotation).',
    secret: true,
  },
  MFA_RESET_LOG_ENCRYPTION_KEY: {
    schema: encryptionKey,
    description: 'Key encrypting `previous_*` values of `tenant_admin_mfa_reset_logs`.',
    secret: true,
  },
  MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS: {
    schema: previousKeys,
    description: 'Comma-separated older reset-log keys, decrypt only (rotation).',
    secret: true,
  },
  AUDIT_DETAILS_ENCRYPTION_KEY: {
    schema: encryptionKey,
    description:
      'Key of the audit log: encrypts sensitive event details (reset reasons, tickets, invitee emails) and keys the hash chain (HMAC). Required in production by every service.',
    secret: true,
  },
  AUDIT_DETAILS_ENCRYPTION_KEYS_PREVIOUS: {
    schema: previousKeys,
    description:
      'Comma-separated older audit keys, decrypt and verify only. audit_events is append-only, so keys stay listed while events written under them are kept.',
    secret: true,
  },
  SESSION_REVOKE_RETRY_SECONDS: {
    schema: int(15, 1, 3600),
    description: 'mfa-admin: how often pending session-store revokes (after a reset, rollback, disable) are retried.',
  },
  MFA_RESET_LOG_USAGE_REFRESH_SECONDS: {
    schema: int(900, 0, 86_400),
    description:
      'audit-log: how often the `mfa_reset_log_values{key_id,state}` gauge re-reads the reset log (0 = never).',
  },
} satisfies Record<string, VariableSpec>;

export type VariableName = keyof typeof variables;

/**
 * Variables no longer read, with what replaces them. Setting one stops the start-up: a value
 * silently ignored would change behaviour unnoticed (TRUST_PROXY=true without its successor
 * leaves the secure session cookie unsendable behind a TLS-terminating ingress).
 */
export const retiredVariables: Readonly<Record<string, string>> = {
  TRUST_PROXY:
    'is no longer read: it trusted every X-Forwarded-For entry, including the ones a client writes. Remove it and set TRUSTED_PROXY_HOPS to the number of proxies in front of the service (1 behind the ingress)',
};
export const secretVariables: readonly VariableName[] = (Object.keys(variables) as VariableName[]).filter(
  (name) => (variables[name] as VariableSpec).secret === true,
);

/** The session secret `.env.example` and the dev runner use; production refuses it. */
export const DEVELOPMENT_SESSION_SECRET = 'development-only-session-secret-change-me-0000';
