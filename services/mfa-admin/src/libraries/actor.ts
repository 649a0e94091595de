/** The platform admin acting, and where the request came from (for the audit record). */
export interface Actor {
  adminId: string;
  ip: string;
  userAgent: string;
  requestId: string;
}

export const auditBase = (actor: Actor, tenantId: string | null) => ({
  tenantId,
  actorType: 'platform_admin' as const,
  actorId: actor.adminId,
  ip: actor.ip,
  userAgent: actor.userAgent,
  requestId: actor.requestId,
});
