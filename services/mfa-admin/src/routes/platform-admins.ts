import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { api, createAdminBody, platformAdminParams } from '../api.js';
import type { ServiceContext } from '../context.js';
import { createPlatformAdminLibrary } from '../libraries/platform-admins.js';
import { confirmPage, createdPlatformAdminPage, platformAdminsPage } from '../pages/admin-pages.js';
import { platformAdminView } from '../present.js';
import { createPlatformAdminQueries } from '../queries/platform-admins.js';
import {
  actorOf,
  bodyOf,
  confirmedOrAsk,
  csrf,
  paramsOf,
  redirectOrJson,
  respond,
  withFormErrors,
  type RouteContext,
} from './http.js';

export default function platformAdminRoutes(router: Router, c: ServiceContext, guards: Middleware[]): void {
  const platformAdmins = createPlatformAdminLibrary({
    db: c.db,
    queries: createPlatformAdminQueries(c.db),
    revoker: c.revoker,
    passwords: c.passwords,
    audit: c.audit,
    clock: c.clock,
  });
  const render = async (ctx: RouteContext, error?: string, notice?: string) =>
    platformAdminsPage(
      csrf(ctx),
      actorOf(ctx).adminId,
      (await platformAdmins.list()).map(platformAdminView),
      error,
      notice,
    );

  router.get(api.listPlatformAdmins.path, ...guards, async (ctx) => {
    const list = (await platformAdmins.list()).map(platformAdminView);
    const notice = ctx.query.done === 'disabled' ? 'Platform admin disabled and signed out.' : undefined;
    respond(ctx, api.listPlatformAdmins.response, { platformAdmins: list }, () =>
      platformAdminsPage(csrf(ctx), actorOf(ctx).adminId, list, undefined, notice),
    );
  });

  router.post(api.createPlatformAdmin.path, ...guards, async (ctx) => {
    await withFormErrors(
      ctx,
      (message) => render(ctx, message),
      async () => {
        const created = await platformAdmins.create(actorOf(ctx), bodyOf(ctx, createAdminBody));
        const view = { platformAdmin: platformAdminView(created.admin), temporaryPassword: created.temporaryPassword };
        // The password is shown once, on this response; never cached.
        ctx.set('cache-control', 'no-store');
        respond(ctx, api.createPlatformAdmin.response, view, () =>
          createdPlatformAdminPage(view.platformAdmin, view.temporaryPassword),
        );
      },
    );
  });

  router.post(api.disablePlatformAdmin.path, ...guards, async (ctx) => {
    const { id } = paramsOf(ctx, platformAdminParams);
    await withFormErrors(
      ctx,
      (message) => render(ctx, message),
      async () => {
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
          api.disablePlatformAdmin.response,
          { platformAdmin: platformAdminView(result.admin), sessionsRevoked: result.sessionsRevoked },
          '/admin/platform-admins?done=disabled',
        );
      },
    );
  });
}
