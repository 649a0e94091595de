// The base every service's main.ts starts from: key rings from configuration (one ConfigError
// naming every missing key), and the pool and session store behind the readiness checks, on a
// real PostgreSQL and Redis. `run` (listen and drain) is exercised by the services' start-up tests.
import { ConfigError, keyRingOf, requireKeyRings } from '@portcullis/config';
import { createServiceBase } from '@portcullis/config/service';
import { generateKey } from '@portcullis/crypto';
import { testPostgres, testRedis, type TestDatabase } from '../../../test/support/index.js';

const SESSION_SECRET = 'a'.repeat(20) + 'B7f9Q2xZ4kLmN8pR3tUv';
const keys = { MFA_SECRET_ENCRYPTION_KEY: generateKey(), AUDIT_DETAILS_ENCRYPTION_KEY: generateKey() };

describe('requireKeyRings', () => {
  it('builds each ring as keyRingOf does, previous keys included', () => {
    const previous = generateKey();
    const values = { ...keys, MFA_SECRET_ENCRYPTION_KEYS_PREVIOUS: previous };
    const rings = requireKeyRings(values, ['MFA_SECRET_ENCRYPTION_KEY', 'AUDIT_DETAILS_ENCRYPTION_KEY'], 'a service');
    expect(rings.MFA_SECRET_ENCRYPTION_KEY.primaryKeyId).toBe(
      keyRingOf(values, 'MFA_SECRET_ENCRYPTION_KEY')!.primaryKeyId,
    );
    const sealed = keyRingOf({ MFA_SECRET_ENCRYPTION_KEY: previous }, 'MFA_SECRET_ENCRYPTION_KEY')!.encrypt('s', {
      table: 't',
      column: 'c',
      rowId: '1',
    });
    expect(rings.MFA_SECRET_ENCRYPTION_KEY.decrypt(sealed, { table: 't', column: 'c', rowId: '1' })).toBe('s');
  });

  it('names every missing key at once, and how to make one, never a value', () => {
    let thrown: unknown;
    try {
      requireKeyRings(
        { AUDIT_DETAILS_ENCRYPTION_KEY: keys.AUDIT_DETAILS_ENCRYPTION_KEY, MFA_RESET_LOG_ENCRYPTION_KEY: '' },
        ['MFA_SECRET_ENCRYPTION_KEY', 'MFA_RESET_LOG_ENCRYPTION_KEY', 'AUDIT_DETAILS_ENCRYPTION_KEY'],
        'mfa-admin',
      );
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const message = 'is required by mfa-admin (generate one with `portcullis keys generate`)';
    expect((thrown as ConfigError).problems).toEqual([
      { variable: 'MFA_SECRET_ENCRYPTION_KEY', message },
      { variable: 'MFA_RESET_LOG_ENCRYPTION_KEY', message },
    ]);
    expect((thrown as Error).message).not.toContain(keys.AUDIT_DETAILS_ENCRYPTION_KEY);
  });
});

describe('createServiceBase', () => {
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await testPostgres();
    const redis = testRedis();
    env = {
      DATABASE_URL: database.url,
      SESSION_SECRET,
      SESSION_STORE_DRIVER: 'redis',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.prefix,
      LOG_LEVEL: 'silent',
      ...keys,
    };
  });
  afterAll(() => database.drop());

  it('refuses to start without a required key, before opening anything', async () => {
    await expect(createServiceBase('auth-session', ['MFA_RESET_LOG_ENCRYPTION_KEY'], env)).rejects.toMatchObject({
      name: 'ConfigError',
      problems: [
        { variable: 'MFA_RESET_LOG_ENCRYPTION_KEY', message: expect.stringMatching(/required by auth-session/) },
      ],
    });
  });

  it('refuses an invalid configuration with every problem', async () => {
    await expect(
      createServiceBase('audit-log', [], { ...env, HTTP_PORT: '99999', DATABASE_URL: 'mysql://db/x' }),
    ).rejects.toMatchObject({ name: 'ConfigError', problems: expect.arrayContaining([expect.anything()]) });
  });

  it('gives the required rings, and readiness checks that reach the database and the session store', async () => {
    const base = await createServiceBase('mfa-admin', ['MFA_SECRET_ENCRYPTION_KEY'], env);
    try {
      expect(base.keys.MFA_SECRET_ENCRYPTION_KEY.primaryKeyId).toBe(
        keyRingOf(env, 'MFA_SECRET_ENCRYPTION_KEY')!.primaryKeyId,
      );
      expect(base.config.SESSION_STORE_DRIVER).toBe('redis');
      expect(Object.keys(base.checks)).toEqual(['database', 'sessionStore']);
      expect(base.appDeps).toEqual({
        db: base.db,
        store: base.sessions.store,
        logger: base.logger,
        metrics: base.metrics,
        trustedProxyHops: 0,
      });
      await expect(base.checks.database!()).resolves.not.toThrow();
      await expect(base.checks.sessionStore!()).resolves.toBeUndefined();
      expect(await base.db.raw('select current_database() as name')).toMatchObject({
        rows: [{ name: new URL(database.url).pathname.slice(1) }],
      });
    } finally {
      await base.close();
    }
    await expect(base.checks.database!()).rejects.toThrow();
  });
});
