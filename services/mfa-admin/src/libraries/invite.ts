// How a console admin gets an account or a new password: a temporary one, shown once to the
// platform admin who hands it over, changed at the next sign-in. Shared by tenant admins and
// platform admins.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { AuditWriter } from '@portcullis/audit';
import { auditBase, type Actor } from './actor.js';

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

/**
 * A new admin account with a temporary password, audited (`<kind>.created`, the email sealed)
 * in the same transaction as the insert.
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
    );
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
