// auth-session reads the MFA reset log (written by mfa-admin; its format is libs/mfa-reset-log's)
// for one thing: telling a tenant admin at enrolment that a platform admin reset their factor.
// Only the id and the time are selected: never a previous_* value, the reason or who did it.
import type { Knex } from 'knex';
import { RESET_LOG_TABLE } from '@portcullis/mfa-reset-log';

export interface OpenReset {
  id: string;
  created_at: Date;
}

/** The columns read or filtered on here. */
interface ResetLogColumns extends OpenReset {
  tenant_admin_id: string;
  rolled_back_at: Date | null;
}

export function createMfaResetQueries(db: Knex) {
  return {
    /** The admin's latest reset that was not rolled back, if any. */
    latestOpenReset(tenantAdminId: string): Promise<OpenReset | undefined> {
      return db<ResetLogColumns>(RESET_LOG_TABLE)
        .select('id', 'created_at')
        .where({ tenant_admin_id: tenantAdminId })
        .whereNull('rolled_back_at')
        .orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .first();
    },
  };
}

export type MfaResetQueries = ReturnType<typeof createMfaResetQueries>;
