import type { Knex } from 'knex';
import type { AdminKind } from '@portcullis/session-auth';

const tableOf = (kind: AdminKind) => (kind === 'platform' ? 'platform_admins' : 'tenant_admins');

export function createAdminQueries(db: Knex) {
  return {
    /** What the session guard needs: is the admin still there, enabled, and since when are sessions void. */
    findSessionState(kind: AdminKind, id: string): Promise<{ disabled_at: Date | null; sessions_revoked_at: Date | null } | undefined> {
      return db(tableOf(kind)).where({ id }).first('disabled_at', 'sessions_revoked_at');
    },
  };
}

export type AdminQueries = ReturnType<typeof createAdminQueries>;
