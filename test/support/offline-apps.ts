// The three service apps built with no server behind them, for the fast route-level tests: an
// in-memory session store, a knex handle that never connects (lazy; a query would fail as an
// outage), and stand-ins that throw if a request reaches them. What these tests can reach is
// what the routes decide alone: the guard, the access rules, negotiation, error mapping.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type Koa from 'koa';
import knex from 'knex';
import { createAuditWriter } from '@portcullis/audit';
import { createKeyRing, createPasswordHasher, createSessionIdHasher } from '@portcullis/crypto';
import { createLogger, createMetrics } from '@portcullis/observability';
import type { AdminSession } from '@portcullis/session-auth';
import { createMemoryBackend, createSessionStore, type SessionStore } from '@portcullis/session-store';
import { createApp as createAuditApp } from '../../services/audit-log/src/app.js';
import { createApp as createAuthApp } from '../../services/auth-session/src/app.js';
import { createApp as createAdminApp } from '../../services/mfa-admin/src/app.js';
import { TestClock } from './clock.js';
import { defaultSettings, SESSION_SECRET } from './service-settings.js';

/** Throws on any use: the request reached a dependency an offline test must not need. */
function unreachable<T>(name: string): T {
  return new Proxy({} as object, {
    get: (_target, property) => {
      throw new Error(`offline test reached ${name}.${String(property)}`);
    },
  }) as T;
}

const silent = () => new Writable({ write: (_chunk, _encoding, done) => done() });
const key = (name: string) => createKeyRing({ primary: { name, value: randomBytes(32).toString('base64') } });
// An address that cannot resolve: nothing is sent before a query, and a query fails at once.
const offlineDb = () => knex({ client: 'pg', connection: 'postgres://offline.invalid:5432/none', pool: { min: 0 } });
const cheapPasswords = () =>
  createPasswordHasher({ parameters: { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 } });

function common(service: string) {
  const clock = new TestClock();
  const db = offlineDb();
  return {
    clock,
    db,
    store: createSessionStore({
      backend: createMemoryBackend({ clock }),
      hashers: [createSessionIdHasher(SESSION_SECRET)],
      clock,
    }),
    audit: createAuditWriter({ db, clock }),
    logger: createLogger({ service, destination: silent() }),
    metrics: createMetrics(service),
  };
}

export interface OfflineService {
  app: Koa;
  /**
   * The cookie header of a session planted in the in-memory store (a signed-in admin without a
   * sign-in): level 2, fresh, for a tenant admin unless `session` says otherwise.
   */
  sessionCookie(session?: Partial<AdminSession>): Promise<string>;
}

function offline(service: string, build: (base: ReturnType<typeof common>) => Koa): OfflineService {
  const base = common(service);
  return { app: build(base), sessionCookie: (session) => plant(base.store, base.clock.now(), session) };
}

async function plant(store: SessionStore, now: number, session: Partial<AdminSession> = {}): Promise<string> {
  const adminId = session.adminId ?? randomUUID();
  const kind = session.kind ?? 'tenant';
  const data: AdminSession = {
    userId: `${kind}:${adminId}`,
    kind,
    adminId,
    tenantId: kind === 'tenant' ? randomUUID() : null,
    email: `offline-${adminId.slice(0, 8)}@example.com`,
    aal: 2,
    createdAt: now,
    signedInAt: now,
    lastSeenAt: now,
    authAt: now,
    mustChangePassword: false,
    mustEnrollMfa: false,
    ...session,
  };
  const id = randomBytes(32).toString('base64url');
  await store.set(id, { ...data });
  // The signed cookie as the session middleware reads it (keygrip's format: HMAC-SHA1, base64url).
  const name = defaultSettings.cookieName;
  const signature = createHmac('sha1', SESSION_SECRET).update(`${name}=${id}`).digest('base64url');
  return `${name}=${id}; ${name}.sig=${signature}`;
}

export const offlineAuthService = (): OfflineService =>
  offline('auth-session', (base) =>
    createAuthApp({
      ...base,
      totpKeys: key('MFA_SECRET_ENCRYPTION_KEY'),
      throttle: unreachable('throttle'),
      passwords: cheapPasswords(),
      settings: defaultSettings,
    }),
  );

export const offlineAdminService = (): OfflineService =>
  offline('mfa-admin', (base) =>
    createAdminApp({
      ...base,
      resetLogKeys: key('MFA_RESET_LOG_ENCRYPTION_KEY'),
      totpKeys: key('MFA_SECRET_ENCRYPTION_KEY'),
      revoker: unreachable('revoker'),
      passwords: cheapPasswords(),
      settings: defaultSettings,
    }),
  );

export const offlineAuditService = (): OfflineService =>
  offline('audit-log', (base) => createAuditApp({ ...base, settings: defaultSettings }));

export const offlineAuthApp = (): Koa => offlineAuthService().app;
export const offlineAdminApp = (): Koa => offlineAdminService().app;
export const offlineAuditApp = (): Koa => offlineAuditService().app;

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** Every `METHOD /path/{param}` the app's routers mount. */
export function routedOperations(app: Koa): string[] {
  const operations = new Set<string>();
  for (const middleware of app.middleware as unknown as {
    router?: { stack: { path: string; methods: string[] }[] };
  }[]) {
    for (const layer of middleware.router?.stack ?? []) {
      for (const method of layer.methods) {
        if (METHODS.has(method.toLowerCase()))
          operations.add(`${method.toUpperCase()} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`);
      }
    }
  }
  return [...operations].sort();
}

export interface OpenApiOperation {
  security?: unknown[];
  parameters?: { name: string; in: string }[];
  requestBody?: unknown;
  responses: Record<string, { description?: string; content?: Record<string, unknown> }>;
}

/** The document's operations, as `METHOD /path/{param}` with the operation. */
export function documentedOperations(document: {
  paths: Record<string, Record<string, unknown>>;
}): { name: string; method: string; path: string; operation: OpenApiOperation }[] {
  return Object.entries(document.paths)
    .flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.has(method))
        .map(([method, operation]) => ({
          name: `${method.toUpperCase()} ${path}`,
          method,
          path,
          operation: operation as OpenApiOperation,
        })),
    )
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A concrete URL for a templated path: ids that pass the guards' formats. */
export const concretePath = (path: string) =>
  path
    .replace('{logId}', '1')
    .replace(/\{(id|session)\}/g, (_match, name: string) =>
      name === 'session' ? 'a'.repeat(64) : '00000000-0000-4000-8000-000000000000',
    )
    .replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
