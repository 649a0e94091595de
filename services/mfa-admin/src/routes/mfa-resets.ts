import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { json, redirectOrJson, route, wantsJson, type RouteContext } from '@portcullis/http';
import { consoleReturnPath } from '@portcullis/session-auth';
import { api } from '../api.js';
import type { ServiceContext } from '../context.js';
import { confirmPage, historyPage, outcomeNotice, tenantPage, type KeptForm } from '../pages/admin-pages.js';
import { adminView, resetView, tenantView } from '../present.js';
import { aboutAdmin, askAboutAdmin } from './ask-about-admin.js';
import { actorOf, confirmedOrAsk, csrf, keepFormAcrossReauth, keptFrom, takeKeptForm } from './http.js';

export default function mfaResetRoutes(
  router: Router,
  c: ServiceContext,
  guards: Middleware[],
  recentAuth: Middleware,
): void {
  const adminHistoryPath = (tenantId: string, adminId: string) =>
    `/admin/tenants/${tenantId}/admins/${adminId}/mfa-resets`;

  async function renderHistory(
    ctx: RouteContext,
    filter: { tenantId: string; adminId?: string | undefined; before?: string | undefined; limit: number },
    error?: string,
    kept?: KeptForm,
  ): Promise<string> {
    const page = await c.resets.history(filter);
    const base = filter.adminId
      ? adminHistoryPath(filter.tenantId, filter.adminId)
      : `/admin/tenants/${filter.tenantId}/mfa-resets`;
    const first = page.resets[0];
    const title = filter.adminId ? `MFA resets of ${first?.admin_email ?? 'this admin'}` : 'MFA resets of this tenant';
    const next = page.nextBefore ? `${base}?before=${page.nextBefore}&limit=${filter.limit}` : null;
    return historyPage(
      csrf(ctx),
      title,
      `/admin/tenants/${filter.tenantId}`,
      page.resets.map(resetView),
      next,
      error,
      outcomeNotice(ctx.query),
      kept ?? takeKeptForm(ctx),
    );
  }

  // A refused reset shows the tenant page again, its form filled with what was typed.
  const tenantPageAgain = async (ctx: RouteContext, tenantId: string, message: string) => {
    const [tenant, admins] = await Promise.all([c.tenantsLib.get(tenantId), c.tenantsLib.listAdmins(tenantId)]);
    return tenantPage(csrf(ctx), tenantView(tenant), admins.map(adminView), message, undefined, keptFrom(ctx));
  };

  route(
    router,
    api.resetMfa,
    [...guards, keepFormAcrossReauth, recentAuth],
    async (ctx, { params: { tenant: tenantId, id }, body }) => {
      if (!confirmedOrAsk(ctx, await askAboutAdmin(c, ctx, tenantId, id, 'mfa-reset'))) return;
      const result = await c.resets.reset(actorOf(ctx), tenantId, id, body);
      redirectOrJson(
        ctx,
        api.resetMfa,
        { reset: resetView(result.log), sessionsRevoked: result.sessionsRevoked },
        `${adminHistoryPath(tenantId, id)}?done=reset&revoked=${result.sessionsRevoked}`,
      );
    },
    { formPage: (ctx, message) => tenantPageAgain(ctx, ctx.params.tenant!, message) },
  );

  route(
    router,
    api.rollbackReset,
    [...guards, keepFormAcrossReauth, recentAuth],
    async (ctx, { params: { logId }, body }) => {
      // Whom it is about, named on the page (an unknown reset is a 404 before anything is asked).
      const log = await c.resets.find(logId);
      const { tenant, admin } = await c.tenantsLib.getAdmin(log.tenant_id, log.tenant_admin_id);
      const ask = (fields: Record<string, string>) =>
        confirmPage(csrf(ctx), {
          title: body.force
            ? 'Replace their current authenticator with the one before the reset?'
            : 'Restore the authenticator from before the reset?',
          consequence: `${body.force ? 'The authenticator they enrolled since the reset stops working. ' : ''}Their previous authenticator and its remaining recovery codes work again, and every session of theirs ends now.`,
          action: ctx.path,
          button: 'Restore the previous authenticator',
          about: aboutAdmin(admin.email, tenant),
          back: consoleReturnPath(fields._return) ?? '/admin/tenants',
          fields,
        });
      if (!confirmedOrAsk(ctx, ask)) return;
      const result = await c.rollbacks.rollback(actorOf(ctx), logId, {
        reason: body.reason,
        force: body.force ? { reason: body.forceReason! } : undefined,
      });
      redirectOrJson(
        ctx,
        api.rollbackReset,
        { reset: resetView(result.log), sessionsRevoked: result.sessionsRevoked },
        `${adminHistoryPath(result.log.tenant_id, result.log.tenant_admin_id)}?done=rollback&revoked=${result.sessionsRevoked}`,
      );
    },
    {
      formPage: async (ctx, message) => {
        const log = await c.resets.find(ctx.params.logId!);
        return renderHistory(
          ctx,
          { tenantId: log.tenant_id, adminId: log.tenant_admin_id, limit: 50 },
          message,
          keptFrom(ctx),
        );
      },
    },
  );

  async function history(
    ctx: RouteContext,
    filter: { tenantId: string; adminId?: string; before?: string | undefined; limit: number },
  ): Promise<void> {
    if (!wantsJson(ctx)) {
      ctx.type = 'html';
      ctx.body = await renderHistory(ctx, filter);
      return;
    }
    const page = await c.resets.history(filter);
    json(ctx, api.tenantHistory, { resets: page.resets.map(resetView), nextBefore: page.nextBefore });
  }

  route(router, api.tenantHistory, guards, (ctx, { params, query: { before, limit } }) =>
    history(ctx, { tenantId: params.tenant, before, limit }),
  );

  route(router, api.adminHistory, guards, (ctx, { params, query: { before, limit } }) =>
    history(ctx, { tenantId: params.tenant, adminId: params.id, before, limit }),
  );
}
