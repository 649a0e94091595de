import { ConfigError, DEVELOPMENT_SESSION_SECRET, loadConfig } from '@portcullis/config';

const validSecret = 'a'.repeat(20) + 'B7f9Q2xZ4kLmN8pR3tUv';
const base = {
  DATABASE_URL: 'postgres://portcullis@127.0.0.1:5432/portcullis',
  SESSION_SECRET: validSecret,
};

function problemsOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadConfig', () => {
  it('applies documented defaults and returns a frozen, typed object', () => {
    const config = loadConfig(base);
    expect(config.SESSION_STORE_DRIVER).toBe('memory');
    expect(config.HTTP_PORT).toBe(8080);
    expect(config.SESSION_SECRET).toEqual([validSecret]);
    expect(config.DYNAMODB_CONSISTENT_READ).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('splits the session secret list so the first signs and all verify', () => {
    const older = 'z'.repeat(32);
    expect(loadConfig({ ...base, SESSION_SECRET: `${validSecret}, ${older}` }).SESSION_SECRET).toEqual([
      validSecret,
      older,
    ]);
  });

  it('reports every bad variable by name in one message', () => {
    const error = problemsOf({
      SESSION_SECRET: 'too-short',
      HTTP_PORT: 'eighty',
      SESSION_STORE_DRIVER: 'mongo',
      REDIS_URL: 'http://cache',
      DEFAULT_PLATFORM_ADMIN_EMAIL: 'not-an-email',
      DYNAMODB_CONSISTENT_READ: 'yes',
    });
    const named = error.problems.map((problem) => problem.variable).sort();
    expect(named).toEqual(
      [
        'DATABASE_URL',
        'DEFAULT_PLATFORM_ADMIN_EMAIL',
        'DYNAMODB_CONSISTENT_READ',
        'HTTP_PORT',
        'REDIS_URL',
        'SESSION_SECRET',
        'SESSION_STORE_DRIVER',
      ].sort(),
    );
    for (const name of named) expect(error.message).toContain(`${name}:`);
    expect(error.message).toContain('must be at least 32 characters');
    expect(error.message).toContain('must be one of memory, redis, knex, dynamodb, dual');
  });

  it('never prints a secret value, even when the secret itself is the bad variable', () => {
    const secrets = {
      SESSION_SECRET: 'hunter2-short-secret',
      DATABASE_URL: 'mysql://app:S3cretPassw0rd@db.internal/portcullis',
      DEFAULT_PLATFORM_ADMIN_EMAIL: 'root@example.com',
      DEFAULT_PLATFORM_ADMIN_PASSWORD: 'short-pw',
      MFA_RESET_LOG_ENCRYPTION_KEY: '   ',
    };
    const error = problemsOf(secrets);
    expect(error.problems.map((problem) => problem.variable)).toEqual(
      expect.arrayContaining(['SESSION_SECRET', 'DATABASE_URL', 'DEFAULT_PLATFORM_ADMIN_PASSWORD']),
    );
    for (const value of ['hunter2-short-secret', 'S3cretPassw0rd', 'short-pw']) {
      expect(error.message).not.toContain(value);
      expect(JSON.stringify(error.problems)).not.toContain(value);
    }
  });

  it('requires both stores and a Redis URL for a dual redis store', () => {
    const error = problemsOf({ ...base, SESSION_STORE_DRIVER: 'dual', SESSION_STORE_PRIMARY: 'redis' });
    expect(error.problems).toEqual(
      expect.arrayContaining([
        { variable: 'SESSION_STORE_SECONDARY', message: 'is required when SESSION_STORE_DRIVER is dual' },
        { variable: 'REDIS_URL', message: 'is required by the redis session store or rate limits' },
      ]),
    );
  });

  it('reports field and cross-field problems in the same start-up', () => {
    const error = problemsOf({ ...base, HTTP_PORT: '-1', DEFAULT_PLATFORM_ADMIN_EMAIL: 'root@example.com' });
    expect(error.problems.map((problem) => problem.variable).sort()).toEqual([
      'DEFAULT_PLATFORM_ADMIN_PASSWORD',
      'HTTP_PORT',
    ]);
  });

  describe('proxy trust', () => {
    it('trusts no proxy unless TRUSTED_PROXY_HOPS says how many', () => {
      expect(loadConfig(base).TRUSTED_PROXY_HOPS).toBe(0);
      expect(loadConfig({ ...base, TRUSTED_PROXY_HOPS: '1' }).TRUSTED_PROXY_HOPS).toBe(1);
    });

    it.each(['-1', '1.5', 'true', '11'])('refuses TRUSTED_PROXY_HOPS=%s', (value) => {
      expect(problemsOf({ ...base, TRUSTED_PROXY_HOPS: value }).problems).toEqual([
        { variable: 'TRUSTED_PROXY_HOPS', message: 'must be a whole number from 0 to 10' },
      ]);
    });

    it.each(['true', 'false'])(
      'refuses the retired TRUST_PROXY=%s, naming its replacement, alongside the other problems',
      (value) => {
        const error = problemsOf({ ...base, TRUST_PROXY: value, HTTP_PORT: '-1' });
        expect(error.problems.map((problem) => problem.variable)).toEqual(['HTTP_PORT', 'TRUST_PROXY']);
        expect(error.message).toMatch(/TRUST_PROXY: is no longer read.*set TRUSTED_PROXY_HOPS/);
      },
    );
  });

  describe('with NODE_ENV=production', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, index) => (index * 37 + 11) % 256)).toString('base64');

    it('refuses the development session secret, the memory store and missing encryption keys', () => {
      const error = problemsOf({ ...base, NODE_ENV: 'production', SESSION_SECRET: DEVELOPMENT_SESSION_SECRET });
      expect(error.problems).toEqual(
        expect.arrayContaining([
          { variable: 'SESSION_SECRET', message: 'holds a development secret, refused in production' },
          {
            variable: 'SESSION_STORE_DRIVER',
            message: 'the memory store is for development only, refused in production',
          },
          { variable: 'MFA_SECRET_ENCRYPTION_KEY', message: 'is required in production' },
          { variable: 'MFA_RESET_LOG_ENCRYPTION_KEY', message: 'is required in production' },
          {
            variable: 'AUDIT_DETAILS_ENCRYPTION_KEY',
            message: 'is required in production (it keys the audit hash chain)',
          },
        ]),
      );
      expect(error.message).not.toContain(DEVELOPMENT_SESSION_SECRET);
    });

    it('refuses the memory store as one side of a dual store', () => {
      const error = problemsOf({
        ...base,
        NODE_ENV: 'production',
        SESSION_STORE_DRIVER: 'dual',
        SESSION_STORE_PRIMARY: 'memory',
        SESSION_STORE_SECONDARY: 'knex',
        SESSION_DUAL_FALLBACK_ON_MISS: 'false',
        MFA_SECRET_ENCRYPTION_KEY: key,
        MFA_RESET_LOG_ENCRYPTION_KEY: key,
        AUDIT_DETAILS_ENCRYPTION_KEY: key,
      });
      expect(error.problems.map((problem) => problem.variable)).toEqual(['SESSION_STORE_DRIVER']);
    });

    it('accepts a production configuration without development defaults', () => {
      const config = loadConfig({
        ...base,
        NODE_ENV: 'production',
        SESSION_STORE_DRIVER: 'redis',
        REDIS_URL: 'rediss://cache.internal:6379',
        MFA_SECRET_ENCRYPTION_KEY: key,
        MFA_RESET_LOG_ENCRYPTION_KEY: key,
        AUDIT_DETAILS_ENCRYPTION_KEY: key,
      });
      expect(config.NODE_ENV).toBe('production');
    });
  });
});

describe('encryption keys at start-up', () => {
  const good = Buffer.from(Array.from({ length: 32 }, (_, index) => (index * 73 + 5) % 256)).toString('base64');

  it('refuses short, all-zero and wrongly encoded keys, naming the variable and never the value', () => {
    const short = Buffer.from('0123456789abcdef').toString('base64');
    const zero = Buffer.alloc(32).toString('hex');
    const error = problemsOf({
      ...base,
      MFA_SECRET_ENCRYPTION_KEY: short,
      MFA_RESET_LOG_ENCRYPTION_KEY: zero,
      MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS: `${good},not*a*key`,
    });
    expect(error.problems).toEqual([
      { variable: 'MFA_SECRET_ENCRYPTION_KEY', message: expect.stringContaining('too short') },
      { variable: 'MFA_RESET_LOG_ENCRYPTION_KEY', message: expect.stringContaining('non-random') },
      {
        variable: 'MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS (entry 2)',
        message: expect.stringContaining('neither hex nor'),
      },
    ]);
    for (const value of [short, zero, good, 'not*a*key']) expect(error.message).not.toContain(value);
  });

  it('accepts a ring of a primary key and previous keys', () => {
    const previous = Buffer.from(Array.from({ length: 32 }, (_, index) => (index * 29 + 3) % 256)).toString('hex');
    const config = loadConfig({
      ...base,
      MFA_RESET_LOG_ENCRYPTION_KEY: good,
      MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS: previous,
    });
    expect(config.MFA_RESET_LOG_ENCRYPTION_KEYS_PREVIOUS).toEqual([previous]);
  });
});
