import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { api, createAdminBody, createTenantBody, adminParams, tenantParams } from '../api.js';
import type { ServiceContext } from '../context.js';
import { createdAdminPage, tenantPage, tenantsPage } from '../pages/admin-pages.js';
import { adminView, tenantSummaryView, tenantView } from '../present.js';
import { actorOf, bodyOf, csrf, paramsOf, redirectOrJson, respond, wantsJson, withFormErrors, type RouteContext } from './http.js';

export default function tenantRoutes(router: Router, c: ServiceContext, guards: Middleware[]): void {
  const renderTenants = async (ctx: RouteContext, error?: string) => tenantsPage(csrf(ctx), (await c.tenantsLib.list()).map(tenantSummaryView), error);
  const renderTenant = async (ctx: RouteContext, tenantId: string, error?: string) => {
    const [tenant, admins] = await Promise.all([c.tenantsLib.get(tenantId), c.tenantsLib.listAdmins(tenantId)]);
    return tenantPage(csrf(ctx), tenantView(tenant), admins.map(adminView), error);
  };

  router.get(api.listTenants.path, ...guards, async (ctx) => {
    const tenants = (await c.tenantsLib.list()).map(tenantSummaryView);
    respond(ctx, api.listTenants.response, { tenants }, () => tenantsPage(csrf(ctx), tenants));
  });

  router.post(api.createTenant.path, ...guards, async (ctx) => {
    await withFormErrors(ctx, (message) => renderTenants(ctx, message), async () => {
      const tenant = tenantView(await c.tenantsLib.create(actorOf(ctx), bodyOf(ctx, createTenantBody)));
      redirectOrJson(ctx, api.createTenant.response, { tenant }, `/admin/tenants/${tenant.id}`);
    });
  });

  router.get(api.getTenant.path, ...guards, async (ctx) => {
    const { tenant: tenantId } = paramsOf(ctx, tenantParams);
    const [tenant, admins] = await Promise.all([c.tenantsLib.get(tenantId), c.tenantsLib.listAdmins(tenantId)]);
    const view = { tenant: tenantView(tenant), admins: admins.map(adminView) };
    respond(ctx, api.getTenant.response, view, () => tenantPage(csrf(ctx), view.tenant, view.admins));
  });

  router.post(api.suspendTenant.path, ...guards, async (ctx) => {
    const { tenant: tenantId } = paramsOf(ctx, tenantParams);
    await withFormErrors(ctx, (message) => renderTenant(ctx, tenantId, message), async () => {
      const result = await c.tenantsLib.suspend(actorOf(ctx), tenantId);
      redirectOrJson(ctx, api.suspendTenant.response, { tenant: tenantView(result.tenant), sessionsRevoked: result.sessionsRevoked }, `/admin/tenants/${tenantId}`);
    });
  });

  router.get(api.listAdmins.path, ...guards, async (ctx) => {
    const { tenant: tenantId } = paramsOf(ctx, tenantParams);
    // Browsers see the admins on the tenant's page.
    if (!wantsJson(ctx)) return ctx.redirect(`/admin/tenants/${tenantId}`);
    const admins = (await c.tenantsLib.listAdmins(tenantId)).map(adminView);
    ctx.body = api.listAdmins.response.parse({ admins });
  });

  router.post(api.createAdmin.path, ...guards, async (ctx) => {
    const { tenant: tenantId } = paramsOf(ctx, tenantParams);
    await withFormErrors(ctx, (message) => renderTenant(ctx, tenantId, message), async () => {
      const created = await c.tenantsLib.createAdmin(actorOf(ctx), tenantId, bodyOf(ctx, createAdminBody));
      const view = { admin: adminView(created.admin), temporaryPassword: created.temporaryPassword };
      // The password is shown once, on this response; never cached.
      ctx.set('cache-control', 'no-store');
      respond(ctx, api.createAdmin.response, view, () => createdAdminPage(tenantId, view.admin, view.temporaryPassword));
    });
  });

  router.post(api.disableAdmin.path, ...guards, async (ctx) => {
    const { tenant: tenantId, id } = paramsOf(ctx, adminParams);
    await withFormErrors(ctx, (message) => renderTenant(ctx, tenantId, message), async () => {
      const result = await c.tenantsLib.disableAdmin(actorOf(ctx), tenantId, id);
      redirectOrJson(ctx, api.disableAdmin.response, { admin: adminView(result.admin), sessionsRevoked: result.sessionsRevoked }, `/admin/tenants/${tenantId}`);
    });
  });
}
