import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { api, createAdminBody, createTenantBody, adminParams, renameTenantBody, tenantParams } from '../api.js';
import type { ServiceContext } from '../context.js';
import { adminNotFound } from '../libraries/mfa-resets.js';
import {
  confirmPage,
  createdAdminPage,
  outcomeNotice,
  temporaryPasswordPage,
  tenantPage,
  tenantsPage,
} from '../pages/admin-pages.js';
import { adminView, tenantSummaryView, tenantView } from '../present.js';
import {
  actorOf,
  bodyOf,
  confirmedOrAsk,
  csrf,
  paramsOf,
  redirectOrJson,
  respond,
  takeKeptForm,
  wantsJson,
  withFormErrors,
  type RouteContext,
} from './http.js';

export default function tenantRoutes(router: Router, c: ServiceContext, guards: Middleware[]): void {
  const renderTenants = async (ctx: RouteContext, error?: string) =>
    tenantsPage(csrf(ctx), (await c.tenantsLib.list()).map(tenantSummaryView), error);
  const renderTenant = async (ctx: RouteContext, tenantId: string, error?: string) => {
    const [tenant, admins] = await Promise.all([c.tenantsLib.get(tenantId), c.tenantsLib.listAdmins(tenantId)]);
    return tenantPage(csrf(ctx), tenantView(tenant), admins.map(adminView), error);
  };

  router.get(api.listTenants.path, ...guards, async (ctx) => {
    const tenants = (await c.tenantsLib.list()).map(tenantSummaryView);
    respond(ctx, api.listTenants.response, { tenants }, () => tenantsPage(csrf(ctx), tenants));
  });

  router.post(api.createTenant.path, ...guards, async (ctx) => {
    await withFormErrors(
      ctx,
      (message) => renderTenants(ctx, message),
      async () => {
        const tenant = tenantView(await c.tenantsLib.create(actorOf(ctx), bodyOf(ctx, createTenantBody)));
        redirectOrJson(ctx, api.createTenant.response, { tenant }, `/admin/tenants/${tenant.id}`);
      },
    );
  });

  router.get(api.getTenant.path, ...guards, async (ctx) => {
    const { tenant: tenantId } = paramsOf(ctx, tenantParams);
    const [tenant, admins] = await Promise.all([c.tenantsLib.get(tenantId), c.tenantsLib.listAdmins(tenantId)]);
    const view = { tenant: tenantView(tenant), admins: admins.map(adminView) };
    respond(ctx, api.getTenant.response, view, () =>
      tenantPage(csrf(ctx), view.tenant, view.admins, undefined, outcomeNotice(ctx.query), takeKeptForm(ctx)),
    );
  });

  router.post(api.suspendTenant.path, ...guards, async (ctx) => {
    const { tenant: tenantId } = paramsOf(ctx, tenantParams);
    await withFormErrors(
      ctx,
      (message) => renderTenant(ctx, tenantId, message),
      async () => {
        const tenant = await c.tenantsLib.get(tenantId);
        const ask = (fields: Record<string, string>) =>
          confirmPage(csrf(ctx), {
            title: `Suspend tenant ${tenant.slug}?`,
            consequence: `Every admin of ${tenant.name} is signed out now and cannot sign in until the tenant is unsuspended.`,
            action: ctx.path,
            button: 'Suspend tenant and sign its admins out',
            back: `/admin/tenants/${tenantId}`,
            fields,
          });
        if (!confirmedOrAsk(ctx, ask)) return;
        const result = await c.tenantsLib.suspend(actorOf(ctx), tenantId);
        redirectOrJson(
          ctx,
          api.suspendTenant.response,
          { tenant: tenantView(result.tenant), sessionsRevoked: result.sessionsRevoked },
          `/admin/tenants/${tenantId}?done=suspended&revoked=${result.sessionsRevoked}`,
        );
      },
    );
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
    await withFormErrors(
      ctx,
      (message) => renderTenant(ctx, tenantId, message),
      async () => {
        const created = await c.tenantsLib.createAdmin(actorOf(ctx), tenantId, bodyOf(ctx, createAdminBody));
        const view = { admin: adminView(created.admin), temporaryPassword: created.temporaryPassword };
        // The password is shown once, on this response; never cached.
        ctx.set('cache-control', 'no-store');
        respond(ctx, api.createAdmin.response, view, () =>
          createdAdminPage(tenantId, view.admin, view.temporaryPassword),
        );
      },
    );
  });

  router.post(api.disableAdmin.path, ...guards, async (ctx) => {
    const { tenant: tenantId, id } = paramsOf(ctx, adminParams);
    await withFormErrors(
      ctx,
      (message) => renderTenant(ctx, tenantId, message),
      async () => {
        if (!confirmedOrAsk(ctx, await askAboutAdmin(ctx, tenantId, id, 'disable'))) return;
        const result = await c.tenantsLib.disableAdmin(actorOf(ctx), tenantId, id);
        redirectOrJson(
          ctx,
          api.disableAdmin.response,
          { admin: adminView(result.admin), sessionsRevoked: result.sessionsRevoked },
          `/admin/tenants/${tenantId}?done=disabled&revoked=${result.sessionsRevoked}`,
        );
      },
    );
  });

  router.post(api.enableAdmin.path, ...guards, async (ctx) => {
    const { tenant: tenantId, id } = paramsOf(ctx, adminParams);
    await withFormErrors(
      ctx,
      (message) => renderTenant(ctx, tenantId, message),
      async () => {
        const admin = await c.tenantsLib.enableAdmin(actorOf(ctx), tenantId, id);
        redirectOrJson(
          ctx,
          api.enableAdmin.response,
          { admin: adminView(admin) },
          `/admin/tenants/${tenantId}?done=enabled`,
        );
      },
    );
  });

  router.post(api.signOutAdmin.path, ...guards, async (ctx) => {
    const { tenant: tenantId, id } = paramsOf(ctx, adminParams);
    await withFormErrors(
      ctx,
      (message) => renderTenant(ctx, tenantId, message),
      async () => {
        if (!confirmedOrAsk(ctx, await askAboutAdmin(ctx, tenantId, id, 'sign-out'))) return;
        const result = await c.tenantsLib.signOutAdmin(actorOf(ctx), tenantId, id);
        redirectOrJson(
          ctx,
          api.signOutAdmin.response,
          { admin: adminView(result.admin), sessionsRevoked: result.sessionsRevoked },
          `/admin/tenants/${tenantId}?done=signed-out&revoked=${result.sessionsRevoked}`,
        );
      },
    );
  });

  router.post(api.unlockAdmin.path, ...guards, async (ctx) => {
    const { tenant: tenantId, id } = paramsOf(ctx, adminParams);
    await withFormErrors(
      ctx,
      (message) => renderTenant(ctx, tenantId, message),
      async () => {
        const admin = await c.tenantsLib.unlockAdmin(actorOf(ctx), tenantId, id);
        redirectOrJson(
          ctx,
          api.unlockAdmin.response,
          { admin: adminView(admin) },
          `/admin/tenants/${tenantId}?done=unlocked`,
        );
      },
    );
  });

  router.post(api.resetAdminPassword.path, ...guards, async (ctx) => {
    const { tenant: tenantId, id } = paramsOf(ctx, adminParams);
    await withFormErrors(
      ctx,
      (message) => renderTenant(ctx, tenantId, message),
      async () => {
        if (!confirmedOrAsk(ctx, await askAboutAdmin(ctx, tenantId, id, 'password-reset'))) return;
        const result = await c.tenantsLib.resetPassword(actorOf(ctx), tenantId, id);
        const view = {
          admin: adminView(result.admin),
          temporaryPassword: result.temporaryPassword,
          sessionsRevoked: result.sessionsRevoked,
        };
        // The password is shown once, on this response; never cached.
        ctx.set('cache-control', 'no-store');
        respond(ctx, api.resetAdminPassword.response, view, () =>
          temporaryPasswordPage(
            tenantId,
            view.admin,
            view.temporaryPassword,
            outcomeNotice({ done: 'signed-out', revoked: view.sessionsRevoked }),
          ),
        );
      },
    );
  });

  router.post(api.renameTenant.path, ...guards, async (ctx) => {
    const { tenant: tenantId } = paramsOf(ctx, tenantParams);
    await withFormErrors(
      ctx,
      (message) => renderTenant(ctx, tenantId, message),
      async () => {
        const tenant = await c.tenantsLib.rename(actorOf(ctx), tenantId, bodyOf(ctx, renameTenantBody).name);
        redirectOrJson(
          ctx,
          api.renameTenant.response,
          { tenant: tenantView(tenant) },
          `/admin/tenants/${tenantId}?done=renamed`,
        );
      },
    );
  });

  router.post(api.unsuspendTenant.path, ...guards, async (ctx) => {
    const { tenant: tenantId } = paramsOf(ctx, tenantParams);
    await withFormErrors(
      ctx,
      (message) => renderTenant(ctx, tenantId, message),
      async () => {
        const tenant = await c.tenantsLib.unsuspend(actorOf(ctx), tenantId);
        redirectOrJson(
          ctx,
          api.unsuspendTenant.response,
          { tenant: tenantView(tenant) },
          `/admin/tenants/${tenantId}?done=unsuspended`,
        );
      },
    );
  });

  /** The confirmation page of an action on one admin (404 for an admin of another tenant, before anything is asked). */
  async function askAboutAdmin(
    ctx: RouteContext,
    tenantId: string,
    adminId: string,
    action: 'disable' | 'sign-out' | 'password-reset',
  ) {
    const admin = (await c.tenantsLib.listAdmins(tenantId)).find((candidate) => candidate.id === adminId);
    if (!admin) throw adminNotFound();
    return (fields: Record<string, string>) =>
      confirmPage(
        csrf(ctx),
        action === 'password-reset'
          ? {
              title: `Give ${admin.email} a temporary password?`,
              consequence: `Their current password stops working and every session of theirs ends now. You will see a temporary password once, to hand over; they choose a new one at their next sign-in. Their authenticator stays.`,
              action: ctx.path,
              button: 'Reset their password',
              back: `/admin/tenants/${tenantId}`,
              fields,
            }
          : action === 'disable'
            ? {
                title: `Disable ${admin.email}?`,
                consequence: `${admin.email} is signed out now and cannot sign in until re-enabled. Their authenticator and email are kept.`,
                action: ctx.path,
                button: 'Disable and sign them out',
                back: `/admin/tenants/${tenantId}`,
                fields,
              }
            : {
                title: `Sign ${admin.email} out everywhere?`,
                consequence: `Every session of ${admin.email} ends now. The account stays enabled: they can sign in again with their password and authenticator.`,
                action: ctx.path,
                button: 'Sign them out everywhere',
                back: `/admin/tenants/${tenantId}`,
                fields,
              },
      );
  }
}
