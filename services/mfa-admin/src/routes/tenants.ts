import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { json, redirectOrJson, respond, route, wantsJson, type RouteContext } from '@portcullis/http';
import { api, encodeTenantCursor, tenantsQuery, type TenantsQuery } from '../api.js';
import type { TenantKey } from '../queries/tenants.js';
import type { ServiceContext } from '../context.js';
import {
  confirmPage,
  createdAdminPage,
  outcomeNotice,
  temporaryPasswordPage,
  tenantPage,
  tenantsPage,
  type TenantListing,
} from '../pages/admin-pages.js';
import { adminView, tenantSummaryView, tenantView } from '../present.js';
import { askAboutAdmin } from './ask-about-admin.js';
import { actorOf, confirmedOrAsk, csrf, keptFrom, takeKeptForm } from './http.js';

export default function tenantRoutes(router: Router, c: ServiceContext, guards: Middleware[]): void {
  /** A page of tenants for `query`, with cursors for JSON clients and links (the query kept) for the page. */
  const listTenants = async (query: TenantsQuery) => {
    const page = await c.tenantsLib.page(query);
    const cursor = (key: TenantKey | null) => key && encodeTenantCursor({ sort: query.sort, ...key });
    const view = {
      tenants: page.rows.map(tenantSummaryView),
      hasNext: !!page.next,
      nextCursor: cursor(page.next),
      hasPrevious: !!page.previous,
      prevCursor: cursor(page.previous),
    };
    const href = (side: 'after' | 'before', value: string | null) => {
      if (!value) return null;
      const kept = { q: query.q ?? '', sort: query.sort, order: query.order, limit: String(query.limit) };
      return `/admin/tenants?${new URLSearchParams({ ...kept, [side]: value }).toString()}`;
    };
    const listing: TenantListing = {
      tenants: view.tenants,
      query,
      paged: !!(query.after ?? query.before),
      nextHref: href('after', view.nextCursor),
      prevHref: href('before', view.prevCursor),
    };
    return { view, listing };
  };
  // A refused create form shows the first page again with the message and what was typed.
  const renderTenants = async (ctx: RouteContext, error?: string) =>
    tenantsPage(csrf(ctx), (await listTenants(tenantsQuery.parse({}))).listing, error, keptFrom(ctx));
  const renderTenant = async (ctx: RouteContext, tenantId: string, error?: string) => {
    const [tenant, admins] = await Promise.all([c.tenantsLib.get(tenantId), c.tenantsLib.listAdmins(tenantId)]);
    return tenantPage(csrf(ctx), tenantView(tenant), admins.map(adminView), error, undefined, keptFrom(ctx));
  };

  // A refused form on a tenant's page shows that page again with the message, the refused form
  // filled with what was typed (params are parsed by then).
  const tenantForm = {
    formPage: (ctx: RouteContext, message: string) => renderTenant(ctx, ctx.params.tenant!, message),
  };

  route(router, api.listTenants, guards, async (ctx, { query }) => {
    const { view, listing } = await listTenants(query);
    respond(ctx, api.listTenants, view, () => tenantsPage(csrf(ctx), listing));
  });

  route(
    router,
    api.createTenant,
    guards,
    async (ctx, { body }) => {
      const tenant = tenantView(await c.tenantsLib.create(actorOf(ctx), body));
      redirectOrJson(ctx, api.createTenant, { tenant }, `/admin/tenants/${tenant.id}`);
    },
    { formPage: renderTenants },
  );

  route(router, api.getTenant, guards, async (ctx, { params }) => {
    const [tenant, admins] = await Promise.all([
      c.tenantsLib.get(params.tenant),
      c.tenantsLib.listAdmins(params.tenant),
    ]);
    const view = { tenant: tenantView(tenant), admins: admins.map(adminView) };
    respond(ctx, api.getTenant, view, () =>
      tenantPage(csrf(ctx), view.tenant, view.admins, undefined, outcomeNotice(ctx.query), takeKeptForm(ctx)),
    );
  });

  route(
    router,
    api.suspendTenant,
    guards,
    async (ctx, { params: { tenant: tenantId } }) => {
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
        api.suspendTenant,
        { tenant: tenantView(result.tenant), sessionsRevoked: result.sessionsRevoked },
        `/admin/tenants/${tenantId}?done=suspended&revoked=${result.sessionsRevoked}`,
      );
    },
    tenantForm,
  );

  route(router, api.listAdmins, guards, async (ctx, { params }) => {
    // Browsers see the admins on the tenant's page.
    if (!wantsJson(ctx)) return ctx.redirect(`/admin/tenants/${params.tenant}`);
    json(ctx, api.listAdmins, { admins: (await c.tenantsLib.listAdmins(params.tenant)).map(adminView) });
  });

  route(
    router,
    api.createAdmin,
    guards,
    async (ctx, { params: { tenant: tenantId }, body }) => {
      const created = await c.tenantsLib.createAdmin(actorOf(ctx), tenantId, body);
      const view = { admin: adminView(created.admin), temporaryPassword: created.temporaryPassword };
      // The password is shown once, on this response; never cached.
      ctx.set('cache-control', 'no-store');
      respond(ctx, api.createAdmin, view, () => createdAdminPage(tenantId, view.admin, view.temporaryPassword));
    },
    tenantForm,
  );

  route(
    router,
    api.disableAdmin,
    guards,
    async (ctx, { params: { tenant: tenantId, id } }) => {
      if (!confirmedOrAsk(ctx, await askAboutAdmin(c, ctx, tenantId, id, 'disable'))) return;
      const result = await c.tenantsLib.disableAdmin(actorOf(ctx), tenantId, id);
      redirectOrJson(
        ctx,
        api.disableAdmin,
        { admin: adminView(result.admin), sessionsRevoked: result.sessionsRevoked },
        `/admin/tenants/${tenantId}?done=disabled&revoked=${result.sessionsRevoked}`,
      );
    },
    tenantForm,
  );

  route(
    router,
    api.enableAdmin,
    guards,
    async (ctx, { params: { tenant: tenantId, id } }) => {
      const admin = await c.tenantsLib.enableAdmin(actorOf(ctx), tenantId, id);
      redirectOrJson(ctx, api.enableAdmin, { admin: adminView(admin) }, `/admin/tenants/${tenantId}?done=enabled`);
    },
    tenantForm,
  );

  route(
    router,
    api.signOutAdmin,
    guards,
    async (ctx, { params: { tenant: tenantId, id } }) => {
      if (!confirmedOrAsk(ctx, await askAboutAdmin(c, ctx, tenantId, id, 'sign-out'))) return;
      const result = await c.tenantsLib.signOutAdmin(actorOf(ctx), tenantId, id);
      redirectOrJson(
        ctx,
        api.signOutAdmin,
        { admin: adminView(result.admin), sessionsRevoked: result.sessionsRevoked },
        `/admin/tenants/${tenantId}?done=signed-out&revoked=${result.sessionsRevoked}`,
      );
    },
    tenantForm,
  );

  route(
    router,
    api.unlockAdmin,
    guards,
    async (ctx, { params: { tenant: tenantId, id } }) => {
      const admin = await c.tenantsLib.unlockAdmin(actorOf(ctx), tenantId, id);
      redirectOrJson(ctx, api.unlockAdmin, { admin: adminView(admin) }, `/admin/tenants/${tenantId}?done=unlocked`);
    },
    tenantForm,
  );

  route(
    router,
    api.resetAdminPassword,
    guards,
    async (ctx, { params: { tenant: tenantId, id } }) => {
      if (!confirmedOrAsk(ctx, await askAboutAdmin(c, ctx, tenantId, id, 'password-reset'))) return;
      const result = await c.tenantsLib.resetPassword(actorOf(ctx), tenantId, id);
      const view = {
        admin: adminView(result.admin),
        temporaryPassword: result.temporaryPassword,
        sessionsRevoked: result.sessionsRevoked,
      };
      // The password is shown once, on this response; never cached.
      ctx.set('cache-control', 'no-store');
      respond(ctx, api.resetAdminPassword, view, () =>
        temporaryPasswordPage(
          tenantId,
          view.admin,
          view.temporaryPassword,
          outcomeNotice({ done: 'signed-out', revoked: view.sessionsRevoked }),
        ),
      );
    },
    tenantForm,
  );

  route(
    router,
    api.renameTenant,
    guards,
    async (ctx, { params: { tenant: tenantId }, body }) => {
      const tenant = await c.tenantsLib.rename(actorOf(ctx), tenantId, body.name);
      redirectOrJson(ctx, api.renameTenant, { tenant: tenantView(tenant) }, `/admin/tenants/${tenantId}?done=renamed`);
    },
    tenantForm,
  );

  route(
    router,
    api.unsuspendTenant,
    guards,
    async (ctx, { params: { tenant: tenantId } }) => {
      const tenant = await c.tenantsLib.unsuspend(actorOf(ctx), tenantId);
      redirectOrJson(
        ctx,
        api.unsuspendTenant,
        { tenant: tenantView(tenant) },
        `/admin/tenants/${tenantId}?done=unsuspended`,
      );
    },
    tenantForm,
  );
}
