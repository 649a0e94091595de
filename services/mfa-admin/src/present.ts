// Rows → the API's views. Only what the response schemas declare leaves the service.
import type { AdminView, PlatformAdminView, ResetView, TenantSummaryView, TenantView } from './api.js';
import type { PlatformAdminSummary } from './queries/platform-admins.js';
import type { HistoryRow } from './queries/reset-logs.js';
import type { TenantAdminSummary } from './queries/tenant-admins.js';
import type { TenantRow, TenantSummary } from './queries/tenants.js';

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

export const tenantView = (row: TenantRow): TenantView => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  status: row.status,
  createdAt: iso(row.created_at)!,
});
export const tenantSummaryView = (row: TenantSummary): TenantSummaryView => ({
  ...tenantView(row),
  adminCount: row.admin_count,
});

export const adminView = (row: TenantAdminSummary): AdminView => ({
  id: row.id,
  tenantId: row.tenant_id,
  email: row.email,
  mfaEnrolled: row.mfa_enabled,
  mfaEnrolledAt: iso(row.mfa_enrolled_at),
  mustChangePassword: row.must_change_password,
  disabled: row.disabled_at !== null,
  // A lockout that has run out is no lockout.
  lockedUntil: row.locked_until && new Date(row.locked_until).getTime() > Date.now() ? iso(row.locked_until) : null,
  createdAt: iso(row.created_at)!,
});

export const resetView = (row: HistoryRow): ResetView => ({
  id: String(row.id),
  tenantId: row.tenant_id,
  adminId: row.tenant_admin_id,
  adminEmail: row.admin_email,
  resetBy: row.reset_by,
  resetByEmail: row.reset_by_email,
  reason: row.reason,
  ticket: row.ticket,
  createdAt: iso(row.created_at)!,
  rolledBack: row.rolled_back_at !== null,
  rolledBackAt: iso(row.rolled_back_at),
  rolledBackBy: row.rolled_back_by,
  rolledBackByEmail: row.rolled_back_by_email,
  rollbackReason: row.rollback_reason,
  rollbackForced: row.rollback_forced,
  rollbackForceReason: row.rollback_force_reason,
});

export const platformAdminView = (row: PlatformAdminSummary): PlatformAdminView => ({
  id: row.id,
  email: row.email,
  mfaEnrolled: row.mfa_enabled,
  mustChangePassword: row.must_change_password,
  disabled: row.disabled_at !== null,
  createdAt: iso(row.created_at)!,
});
