import type { Knex } from 'knex';
import type { AuditWriter } from '@portcullis/audit';
import { apiError } from '@portcullis/http';
import { insertFirstPlatformAdmin } from '../queries/default-admin.js';
import type { PasswordHasher } from '@portcullis/crypto';
import { passwordProblems } from './passwords.js';

/**
 * Creates the first platform admin from DEFAULT_PLATFORM_ADMIN_* when none exists. Safe when
 * replicas start together; the password policy applies; a first sign-in must change it.
 */
export async function ensureDefaultPlatformAdmin(
  deps: { db: Knex; passwords: PasswordHasher; audit: AuditWriter; clock: { now(): number } },
  email: string,
  password: string,
): Promise<'created' | 'exists'> {
  const problems = passwordProblems(password, email);
  if (problems.length > 0)
    throw apiError(
      'config.default_admin_password',
      `DEFAULT_PLATFORM_ADMIN_PASSWORD is refused by the password policy: ${problems.join(' ')}`,
    );
  const id = await insertFirstPlatformAdmin(deps.db, {
    email,
    passwordHash: await deps.passwords.hash(password),
    now: new Date(deps.clock.now()),
  });
  if (!id) return 'exists';
  await deps.audit.record({
    actorType: 'system',
    action: 'platform_admin.bootstrapped',
    targetType: 'platform_admin',
    targetId: id,
  });
  return 'created';
}
