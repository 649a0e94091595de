import type {
  AccountSessionView,
  AdminView,
  LiveSessionView,
  PlatformAdminView,
  ResetView,
  TenantSummaryView,
  TenantView,
} from '../api.js';
import { REASON_MAX, TICKET_MAX } from '../api.js';
import { csrfField, html, layout, type SafeHtml } from './html.js';

/** Where the re-authentication page sends the admin back to when this form was too late (see requireRecentAuth). */
const returnField = (path: string) => html`<input type="hidden" name="_return" value="${path}">`;

const reasonField = (idSuffix: string, name: string, label: string, required = true, value = '') =>
  html`<label for="${name}-${idSuffix}">${label}</label><textarea id="${name}-${idSuffix}" name="${name}" maxlength="${REASON_MAX}" rows="2"${required ? html` required` : ''}>${value}</textarea>`;

/** A form's typed fields kept across the re-authentication detour or a refusal (routes/http.ts): its details open, filled. */
export interface KeptForm {
  action: string;
  fields: Record<string, string>;
}
const keptFor = (kept: KeptForm | undefined, action: string) => (kept?.action === action ? kept.fields : undefined);

/** What the tenants page shows: the page of tenants, the query it answers, and its neighbours' links. */
export interface TenantListing {
  tenants: TenantSummaryView[];
  query: { q?: string | undefined; sort: string; order: string; limit: number };
  /** Whether the page was reached through a cursor (an empty one then offers the first page). */
  paged: boolean;
  nextHref: string | null;
  prevHref: string | null;
}

const SORT_LABELS = { slug: 'Slug', name: 'Name', created: 'Created' } as const;
const option = (value: string | number, label: string, current: string | number) =>
  html`<option value="${value}"${value === current ? html` selected` : ''}>${label}</option>`;

/** A server-rendered GET form (no script): search box, sort, order, page size; links keep the query. */
export const tenantsPage = (csrf: string, listing: TenantListing, error?: string, kept?: KeptForm) => {
  const { query, tenants } = listing;
  const typed = keptFor(kept, '/admin/tenants');
  return layout(
    'Tenants',
    html`<p><a href="/admin/sessions">Who is signed in (all tenants)</a></p>
<form method="get" action="/admin/tenants" role="search" aria-label="Find tenants">
<label for="q">Search slug or name</label><input id="q" name="q" type="search" maxlength="100" value="${query.q ?? ''}">
<label for="sort">Sort by</label><select id="sort" name="sort">${Object.entries(SORT_LABELS).map(([value, label]) => option(value, label, query.sort))}</select>
<label for="order">Order</label><select id="order" name="order">${option('asc', 'Ascending (A to Z, oldest first)', query.order)}${option('desc', 'Descending (Z to A, newest first)', query.order)}</select>
<label for="limit">Per page</label><select id="limit" name="limit">${[10, 25, 50, 100].map((size) => option(size, String(size), query.limit))}</select>
<button type="submit">Show tenants</button></form>
<table><thead><tr><th>Slug</th><th>Name</th><th>Status</th><th>Admins</th><th>Created</th></tr></thead><tbody>
${tenants.map((tenant) => html`<tr><td><a href="/admin/tenants/${tenant.id}">${tenant.slug}</a></td><td>${tenant.name}</td><td>${tenant.status}</td><td>${tenant.adminCount}</td><td>${tenant.createdAt}</td></tr>`)}
</tbody></table>
${
  tenants.length === 0
    ? html`<p class="muted">${query.q ? `No tenant matches “${query.q}”.` : 'No tenants here.'}${listing.paged ? html` <a href="/admin/tenants">Back to the first page</a>` : ''}</p>`
    : ''
}${
      listing.prevHref || listing.nextHref
        ? html`<nav aria-label="Pages of tenants">${listing.prevHref ? html`<a rel="prev" href="${listing.prevHref}">Previous page</a>` : ''}${listing.nextHref ? html`<a rel="next" href="${listing.nextHref}">Next page</a>` : ''}</nav>`
        : ''
    }
<h2>New tenant</h2>
<form method="post" action="/admin/tenants">${csrfField(csrf)}
<label for="slug">Slug (sign-in name)</label><input id="slug" name="slug" required pattern="[a-z0-9][a-z0-9-]{1,62}" value="${typed?.slug ?? ''}">
<label for="name">Name</label><input id="name" name="name" required maxlength="200" value="${typed?.name ?? ''}">
<button type="submit">Create tenant</button></form>`,
    error,
  );
};

const adminRow = (csrf: string, tenant: TenantView, admin: AdminView, kept?: KeptForm): SafeHtml => {
  const typed = keptFor(kept, `/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset`);
  return html`<tr>
<td>${admin.email}${admin.disabled ? html` <span class="muted">(disabled)</span>` : ''}</td>
<td>${admin.mfaEnrolled ? `enrolled ${admin.mfaEnrolledAt ?? ''}` : 'not enrolled'}${
    admin.lockedUntil
      ? html`<br><strong>locked until ${admin.lockedUntil}</strong>
<form method="post" action="/admin/tenants/${tenant.id}/admins/${admin.id}/unlock">${csrfField(csrf)}<button type="submit">Unlock now</button></form>`
      : ''
  }</td>
<td><a href="/admin/tenants/${tenant.id}/admins/${admin.id}/mfa-resets">MFA history</a>
${
  admin.mfaEnrolled
    ? html`<details${typed ? html` open` : ''}><summary>Reset MFA</summary>
<form method="post" action="/admin/tenants/${tenant.id}/admins/${admin.id}/mfa/reset">${csrfField(csrf)}${returnField(`/admin/tenants/${tenant.id}`)}
${reasonField(admin.id, 'reason', 'Reason (required, kept in the audit log)', true, typed?.reason)}
<label for="ticket-${admin.id}">Ticket reference (optional)</label><input id="ticket-${admin.id}" name="ticket" maxlength="${TICKET_MAX}" value="${typed?.ticket ?? ''}">
<button type="submit">Reset MFA and sign them out</button></form></details>`
    : ''
}
${
  admin.disabled
    ? html`<form method="post" action="/admin/tenants/${tenant.id}/admins/${admin.id}/enable">${csrfField(csrf)}<button type="submit">Re-enable</button></form>`
    : html`<form method="post" action="/admin/tenants/${tenant.id}/admins/${admin.id}/sign-out">${csrfField(csrf)}<button type="submit">Sign out everywhere</button></form>
<form method="post" action="/admin/tenants/${tenant.id}/admins/${admin.id}/password-reset">${csrfField(csrf)}<button type="submit">Reset password…</button></form>
<form method="post" action="/admin/tenants/${tenant.id}/admins/${admin.id}/disable">${csrfField(csrf)}<button type="submit">Disable…</button></form>`
}
</td></tr>`;
};

export const tenantPage = (
  csrf: string,
  tenant: TenantView,
  admins: AdminView[],
  error?: string,
  notice?: string,
  kept?: KeptForm,
) => {
  const renaming = keptFor(kept, `/admin/tenants/${tenant.id}/rename`);
  const creating = keptFor(kept, `/admin/tenants/${tenant.id}/admins`);
  return layout(
    `Tenant ${tenant.slug}`,
    html`<p>${tenant.name} · ${tenant.status} · <a href="/admin/tenants/${tenant.id}/mfa-resets">MFA reset history</a> · <a href="/admin/tenants/${tenant.id}/sessions">Who is signed in</a> · <a href="/audit/events?tenant=${tenant.id}">Audit log</a></p>
<table><thead><tr><th>Admin</th><th>MFA</th><th></th></tr></thead><tbody>${admins.map((admin) => adminRow(csrf, tenant, admin, kept))}</tbody></table>
<details${renaming ? html` open` : ''}><summary>Rename</summary><form method="post" action="/admin/tenants/${tenant.id}/rename">${csrfField(csrf)}
<label for="name">Name (the sign-in slug ${tenant.slug} stays)</label><input id="name" name="name" required maxlength="200" value="${renaming?.name ?? tenant.name}">
<button type="submit">Rename tenant</button></form></details>
<h2>New tenant admin</h2>
<form method="post" action="/admin/tenants/${tenant.id}/admins">${csrfField(csrf)}
<label for="email">Email</label><input id="email" name="email" type="email" required value="${creating?.email ?? ''}">
<button type="submit">Create admin</button></form>
${
  tenant.status === 'active'
    ? html`<h2>Suspend</h2><form method="post" action="/admin/tenants/${tenant.id}/suspend">${csrfField(csrf)}<button type="submit">Suspend tenant…</button></form>`
    : html`<h2>Unsuspend</h2><form method="post" action="/admin/tenants/${tenant.id}/unsuspend">${csrfField(csrf)}<button type="submit">Unsuspend tenant</button></form>`
}`,
    error,
    notice,
  );
};

export const createdAdminPage = (tenantId: string, admin: AdminView, temporaryPassword: string) =>
  layout(
    'Tenant admin created',
    html`<p><strong>${admin.email}</strong> can sign in with this temporary password, shown only now. They must change it and enrol an authenticator at their first sign-in.</p>
<p><code>${temporaryPassword}</code></p><p><a href="/admin/tenants/${tenantId}">Back to the tenant</a></p>`,
  );

const rollbackForm = (
  csrf: string,
  reset: ResetView,
  typed?: Record<string, string>,
) => html`<details${typed ? html` open` : ''}><summary>Roll back</summary>
<form method="post" action="/admin/mfa-resets/${reset.id}/rollback">${csrfField(csrf)}${returnField(`/admin/tenants/${reset.tenantId}/admins/${reset.adminId}/mfa-resets`)}
${reasonField(reset.id, 'reason', 'Reason (required)', true, typed?.reason)}
<label><input type="checkbox" name="force"${typed?.force ? html` checked` : ''}> Replace an authenticator enrolled since the reset</label>
${reasonField(reset.id, 'forceReason', 'Reason for replacing it', false, typed?.forceReason)}
<button type="submit">Restore the previous authenticator</button></form></details>`;

const resetRow = (csrf: string, reset: ResetView, kept?: KeptForm) => html`<tr>
<td>${reset.createdAt}</td><td>${reset.adminEmail ?? reset.adminId}</td><td>${reset.resetByEmail ?? reset.resetBy}</td>
<td>${reset.reason}${reset.ticket ? html`<br><span class="muted">ticket ${reset.ticket}</span>` : ''}</td>
<td>${
  reset.rolledBack
    ? html`rolled back ${reset.rolledBackAt} by ${reset.rolledBackByEmail ?? reset.rolledBackBy}: ${reset.rollbackReason}${reset.rollbackForced ? html`<br><strong>forced</strong>: ${reset.rollbackForceReason}` : ''}`
    : rollbackForm(csrf, reset, keptFor(kept, `/admin/mfa-resets/${reset.id}/rollback`))
}</td></tr>`;

export const historyPage = (
  csrf: string,
  title: string,
  backLink: string,
  resets: ResetView[],
  nextLink: string | null,
  error?: string,
  notice?: string,
  kept?: KeptForm,
) =>
  layout(
    title,
    html`<p><a href="${backLink}">Back</a></p>
<table><thead><tr><th>When</th><th>Admin</th><th>Reset by</th><th>Why</th><th>Rolled back</th></tr></thead><tbody>
${resets.map((reset) => resetRow(csrf, reset, kept))}</tbody></table>
${resets.length === 0 ? html`<p class="muted">No MFA resets.</p>` : ''}${nextLink ? html`<p><a href="${nextLink}">Older resets</a></p>` : ''}`,
    error,
    notice,
  );

export interface Confirmation {
  title: string;
  /** What will happen, in the words the admin will see afterwards. */
  consequence: string;
  action: string;
  button: string;
  back: string;
  /** Whom it is about (Admin, Tenant), shown first. */
  about?: { label: string; value: string }[] | undefined;
  /** The fields of the first post (reason, ticket…), posted again unchanged. */
  fields: Record<string, string>;
}

/** How a carried field is shown; a field without a label (_return, force) is only posted again. */
const FIELD_LABELS: Record<string, string> = {
  reason: 'Reason',
  ticket: 'Ticket',
  forceReason: 'Reason for replacing it',
};

/** The second step of a destructive action: no JavaScript, names what will happen, posts again with confirm=yes. */
export const confirmPage = (csrf: string, confirmation: Confirmation) => {
  const shown = [
    ...(confirmation.about ?? []),
    ...Object.entries(confirmation.fields)
      .filter(([name, value]) => FIELD_LABELS[name] && value.trim() !== '')
      .map(([name, value]) => ({ label: FIELD_LABELS[name]!, value })),
  ];
  return layout(
    confirmation.title,
    html`<p>${confirmation.consequence}</p>
${shown.length > 0 ? html`<dl>${shown.map(({ label, value }) => html`<dt>${label}</dt><dd>${value}</dd>`)}</dl>` : ''}
<form method="post" action="${confirmation.action}">${csrfField(csrf)}<input type="hidden" name="confirm" value="yes">
${Object.entries(confirmation.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<button type="submit">${confirmation.button}</button></form>
<p><a href="${confirmation.back}">Cancel</a></p>`,
  );
};

/** Outcome lines for the pages a form post redirects to (`?done=…&revoked=…`). */
export function outcomeNotice(query: Record<string, unknown>): string | undefined {
  const revoked =
    query.revoked === 'pending'
      ? ' Their sessions are refused already; removing them from the session store is pending and retried automatically.'
      : query.revoked === 'done'
        ? ' Their sessions have been ended.'
        : '';
  switch (query.done) {
    case 'reset':
      return `MFA reset. At their next sign-in they must enrol a new authenticator.${revoked}`;
    case 'rollback':
      return `Reset rolled back: their previous authenticator works again.${revoked}`;
    case 'disabled':
      return `Admin disabled.${revoked} Re-enable them here to let them sign in again.`;
    case 'enabled':
      return 'Admin re-enabled: they can sign in again with their password and authenticator.';
    case 'signed-out':
      return `Admin signed out everywhere.${revoked}`;
    case 'suspended':
      return `Tenant suspended: its admins cannot sign in.${revoked}`;
    case 'unsuspended':
      return 'Tenant unsuspended: its admins can sign in again.';
    case 'unlocked':
      return 'Admin unlocked: they can sign in again now.';
    case 'renamed':
      return 'Tenant renamed.';
    default:
      return undefined;
  }
}

export const liveSessionsPage = (
  csrf: string,
  tenant: TenantView,
  sessions: LiveSessionView[],
  notice?: string,
  error?: string,
) =>
  layout(
    `Who is signed in to ${tenant.slug}`,
    html`<p><a href="/admin/tenants/${tenant.id}">Back to the tenant</a> · <a href="/admin/sessions">Who is signed in (all tenants)</a></p>
<table><thead><tr><th>Admin</th><th>Signed in</th><th>Last seen</th><th>From</th><th><span class="muted">Action</span></th></tr></thead><tbody>
${sessions.map(
  (
    session,
  ) => html`<tr><td>${session.adminEmail}${session.assurance === 2 ? '' : html` <span class="muted">(sign-in in progress)</span>`}</td>
<td>${session.createdAt}</td><td>${session.lastSeenAt}</td><td>${session.ip ?? ''}<br><span class="muted">${session.userAgent ?? ''}</span></td>
<td><form method="post" action="/admin/tenants/${tenant.id}/sessions/${session.id}/end">${csrfField(csrf)}<button type="submit">End this session…</button></form></td></tr>`,
)}
</tbody></table>${sessions.length === 0 ? html`<p class="muted">Nobody is signed in.</p>` : ''}`,
    error,
    notice,
  );

export interface AllSessions {
  sessions: AccountSessionView[];
  /** The signed-in platform admin: their own rows say so. */
  selfId: string;
  nextHref: string | null;
  /** Reached through a cursor: the page offers the first page again. */
  paged: boolean;
  notice?: string | undefined;
  error?: string | undefined;
}

/** Platform-wide "who is signed in": every admin's live sessions with their tenant, in pages. */
export const allSessionsPage = (csrf: string, list: AllSessions) =>
  layout(
    'Who is signed in (all tenants)',
    html`<p>Platform admins first, then by tenant and email. Each admin's sessions are listed most recently seen first.</p>
<table><thead><tr><th>Tenant</th><th>Admin</th><th>Signed in</th><th>Last seen</th><th>From</th><th><span class="muted">Action</span></th></tr></thead><tbody>
${list.sessions.map(
  (
    session,
  ) => html`<tr><td>${session.tenantId ? html`<a href="/admin/tenants/${session.tenantId}/sessions">${session.tenantSlug}</a>` : html`<span class="muted">platform admin</span>`}</td>
<td>${session.adminEmail}${session.adminId === list.selfId ? html` <span class="muted">(you)</span>` : ''}${session.assurance === 2 ? '' : html` <span class="muted">(sign-in in progress)</span>`}</td>
<td>${session.createdAt}</td><td>${session.lastSeenAt}</td><td>${session.ip ?? ''}<br><span class="muted">${session.userAgent ?? ''}</span></td>
<td><form method="post" action="/admin/admins/${session.adminId}/sessions/${session.id}/end">${csrfField(csrf)}<button type="submit">End this session…</button></form></td></tr>`,
)}
</tbody></table>${list.sessions.length === 0 ? html`<p class="muted">${list.paged ? 'Nobody else is signed in.' : 'Nobody is signed in.'}</p>` : ''}${
      list.nextHref || list.paged
        ? html`<nav aria-label="Pages of sessions">${list.paged ? html`<a href="/admin/sessions">First page</a>` : ''}${list.nextHref ? html`<a rel="next" href="${list.nextHref}">Next page</a>` : ''}</nav>`
        : ''
    }`,
    list.error,
    list.notice,
  );

export const platformAdminsPage = (
  csrf: string,
  selfId: string,
  admins: PlatformAdminView[],
  error?: string,
  notice?: string,
  kept?: KeptForm,
) =>
  layout(
    'Platform admins',
    html`<table><thead><tr><th>Email</th><th>MFA</th><th>Status</th><th><span class="muted">Action</span></th></tr></thead><tbody>
${admins.map(
  (
    admin,
  ) => html`<tr><td>${admin.email}${admin.id === selfId ? html` <span class="muted">(you)</span>` : ''}</td><td>${admin.mfaEnrolled ? 'enrolled' : 'not enrolled yet'}</td>
<td>${admin.disabled ? 'disabled' : admin.mustChangePassword ? 'invited (first sign-in pending)' : 'active'}</td>
<td>${
    admin.disabled
      ? html`<form method="post" action="/admin/platform-admins/${admin.id}/enable">${csrfField(csrf)}<button type="submit">Re-enable</button></form>`
      : admin.id === selfId
        ? ''
        : html`<form method="post" action="/admin/platform-admins/${admin.id}/disable">${csrfField(csrf)}<button type="submit">Disable…</button></form>`
  }</td></tr>`,
)}
</tbody></table>
<h2>New platform admin</h2>
<form method="post" action="/admin/platform-admins">${csrfField(csrf)}
<label for="email">Email</label><input id="email" name="email" type="email" required value="${keptFor(kept, '/admin/platform-admins')?.email ?? ''}">
<button type="submit">Create platform admin</button></form>`,
    error,
    notice,
  );

export const createdPlatformAdminPage = (admin: PlatformAdminView, temporaryPassword: string) =>
  layout(
    'Platform admin created',
    html`<p><strong>${admin.email}</strong> can sign in (tenant field left empty) with this temporary password, shown only now. They must change it and enrol an authenticator at their first sign-in.</p>
<p><code>${temporaryPassword}</code></p><p><a href="/admin/platform-admins">Back to the platform admins</a></p>`,
  );

export const temporaryPasswordPage = (tenantId: string, admin: AdminView, temporaryPassword: string, notice?: string) =>
  layout(
    'Temporary password',
    html`<p><strong>${admin.email}</strong> signs in with this temporary password, shown only now, and chooses a new one straight away. Their authenticator is unchanged.</p>
<p><code>${temporaryPassword}</code></p><p><a href="/admin/tenants/${tenantId}">Back to the tenant</a></p>`,
    undefined,
    notice,
  );
