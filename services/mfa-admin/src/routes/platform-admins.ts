import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { redirectOrJson, respond, route, type RouteContext } from '@portcullis/http';
import { api } from '../api.js';
import type { ServiceContext } from '../context.js';
import { confirmPage, createdPlatformAdminPage, outcomeNotice, platformAdminsPage } from '../pages/admin-pages.js';
import { platformAdminView } from '../present.js';
import { actorOf, confirmedOrAsk, csrf, keptFrom } from './http.js';

export default function platformAdminRoutes(router: Router, c: ServiceContext, guards: Middleware[]): void {
  const { platformAdmins } = c;
  // A refused form shows the page again with the message, the create form filled with the typed email.
  const render = async (ctx: RouteContext, error?: string, notice?: string) =>
    platformAdminsPage(
      csrf(ctx),
      actorOf(ctx).adminId,
      (await platformAdmins.list()).map(platformAdminView),
      error,
      notice,
      keptFrom(ctx),
    );

  route(router, api.listPlatformAdmins, guards, async (ctx) => {
    const list = (await platformAdmins.list()).map(platformAdminView);
    respond(ctx, api.listPlatformAdmins, { platformAdmins: list }, () =>
      platformAdminsPage(csrf(ctx), actorOf(ctx).adminId, list, undefined, outcomeNotice(ctx.query)),
    );
  });

  route(
    router,
    api.createPlatformAdmin,
    guards,
    async (ctx, { body }) => {
      const created = await platformAdmins.create(actorOf(ctx), body);
      const view = { platformAdmin: platformAdminView(created.admin), temporaryPassword: created.temporaryPassword };
      // The password is shown once, on this response; never cached.
      ctx.set('cache-control', 'no-store');
      respond(ctx, api.createPlatformAdmin, view, () =>
        createdPlatformAdminPage(view.platformAdmin, view.temporaryPassword),
      );
    },
    { formPage: render },
  );

  route(
    router,
    api.disablePlatformAdmin,
    guards,
    async (ctx, { params: { id } }) => {
      const target = (await platformAdmins.list()).find((admin) => admin.id === id);
      const ask = (fields: Record<string, string>) =>
        confirmPage(csrf(ctx), {
          title: `Disable platform admin ${target?.email ?? ''}?`,
          consequence: 'They are signed out now and can no longer sign in or run the console.',
          action: ctx.path,
          button: 'Disable and sign them out',
          back: '/admin/platform-admins',
          fields,
        });
      if (target && !confirmedOrAsk(ctx, ask)) return;
      const result = await platformAdmins.disable(actorOf(ctx), id);
      redirectOrJson(
        ctx,
        api.disablePlatformAdmin,
        { platformAdmin: platformAdminView(result.admin), sessionsRevoked: result.sessionsRevoked },
        `/admin/platform-admins?done=disabled&revoked=${result.sessionsRevoked}`,
      );
    },
    { formPage: render },
  );

  // Not destructive, so no confirmation step (as for a tenant admin's re-enable).
  route(
    router,
    api.enablePlatformAdmin,
    guards,
    async (ctx, { params: { id } }) => {
      const admin = await platformAdmins.enable(actorOf(ctx), id);
      redirectOrJson(
        ctx,
        api.enablePlatformAdmin,
        { platformAdmin: platformAdminView(admin) },
        '/admin/platform-admins?done=enabled',
      );
    },
    { formPage: render },
  );
}
