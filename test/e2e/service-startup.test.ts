// The services as an operator starts them: a real process, real environment, real exit code.
import { join } from 'node:path';
import { DEVELOPMENT_SESSION_SECRET } from '@portcullis/config';
import { runNode } from '../support/compiled-service.js';

const root = join(import.meta.dirname, '..', '..');

/** The service from its TypeScript sources, as `npm run dev` runs it. */
const startService = (name: string, env: Record<string, string>) =>
  runNode(['--conditions=development', '--import', 'tsx', join(root, 'services', name, 'src', 'main.ts')], env);

describe.each(['auth-session', 'mfa-admin', 'audit-log'])('%s start-up', (service) => {
  it('exits non-zero with one message naming every bad variable and no secret value', async () => {
    const { code, stdout, stderr } = await startService(service, {
      SESSION_SECRET: 'leaky-short-secret',
      DATABASE_URL: 'mysql://app:Pa55word-in-url@db/portcullis',
      HTTP_PORT: '99999',
      SESSION_STORE_DRIVER: 'dynamo',
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^Invalid configuration \(4 problems\):/);
    for (const name of ['SESSION_SECRET', 'DATABASE_URL', 'HTTP_PORT', 'SESSION_STORE_DRIVER'])
      expect(stderr).toContain(`- ${name}:`);
    for (const value of ['leaky-short-secret', 'Pa55word-in-url']) expect(stdout + stderr).not.toContain(value);
  });
});

it('refuses development defaults in production and says which', async () => {
  const { code, stderr } = await startService('auth-session', {
    NODE_ENV: 'production',
    SESSION_SECRET: DEVELOPMENT_SESSION_SECRET,
    DATABASE_URL: 'postgres://app@127.0.0.1:1/portcullis',
  });
  expect(code).toBe(1);
  expect(stderr).toContain('SESSION_SECRET: holds a development secret, refused in production');
  expect(stderr).toContain('SESSION_STORE_DRIVER: the memory store is for development only, refused in production');
  expect(stderr).toContain('MFA_RESET_LOG_ENCRYPTION_KEY: is required in production');
  expect(stderr).not.toContain(DEVELOPMENT_SESSION_SECRET);
});
