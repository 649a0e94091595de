// How a console admin gets an account or a new password: a temporary one, shown once to the
// platform admin who hands it over, changed at the next sign-in. Shared by tenant admins and
// platform admins.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { AuditWriter } from '@portcullis/audit';
import { apiError } from '@portcullis/http';
import { auditBase, type Actor } from './actor.js';

const EMAIL_TAKEN =
  'An admin with this email exists already. If that account is disabled, re-enable it (its Re-enable button) instead of creating another.';

export interface PasswordHashing {
  hash(password: string): Promise<string>;
}

/** A new temporary password and its hash. */
export async function temporaryPassword(
  passwords: PasswordHashing,
): Promise<{ temporaryPassword: string; passwordHash: string }> {
  const password = randomBytes(15).toString('base64url');
  return { temporaryPassword: password, passwordHash: await passwords.hash(password) };
}

/** PostgreSQL's unique violation on an index whose name ends with `suffix` (`_email_unique`). */
export const isUniqueViolationOn = (error: unknown, suffix: string) => {
  const { code, constraint } = (error ?? {}) as { code?: unknown; constraint?: unknown };
  return code === '23505' && typeof constraint === 'string' && constraint.endsWith(suffix);
};

/**
 * A new admin account with a temporary password, audited (`<kind>.created`, the email sealed)
 * in the same transaction as the insert. An email already taken, by a disabled admin too, is a
 * 409 that names re-enabling as the way back: one email, one account, one audit trail.
 */
export async function inviteAdmin<Row extends { id: string }>(
  deps: { db: Knex; passwords: PasswordHashing; audit: AuditWriter; clock: { now(): number } },
  actor: Actor,
  target: { kind: 'tenant_admin' | 'platform_admin'; tenantId: string | null; email: string },
  insert: (trx: Knex.Transaction, row: { id: string; email: string; password_hash: string }, now: Date) => Promise<Row>,
): Promise<{ admin: Row; temporaryPassword: string }> {
  const { temporaryPassword: password, passwordHash } = await temporaryPassword(deps.passwords);
  const admin = await deps.db.transaction(async (trx) => {
    const created = await insert(
      trx,
      { id: randomUUID(), email: target.email, password_hash: passwordHash },
      new Date(deps.clock.now()),
    ).catch((error: unknown) => {
      if (isUniqueViolationOn(error, '_email_unique')) throw apiError('resource.conflict', EMAIL_TAKEN);
      throw error;
    });
    await deps.audit.record(
      {
        ...auditBase(actor, target.tenantId),
        action: `${target.kind}.created`,
        targetType: target.kind,
        targetId: created.id,
        sealed: { email: target.email },
      },
      trx,
    );
    return created;
  });
  return { admin, temporaryPassword: password };
}
