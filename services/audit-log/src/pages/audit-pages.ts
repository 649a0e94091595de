import type { AllChainsReport, EventView } from '../libraries/events.js';
import type { PickerOption } from '../queries/events.js';
import { csrfField, html, layout, type SafeHtml } from './html.js';

export interface EventsPageInput {
  events: EventView[];
  filters: Record<string, string | undefined>;
  nextCursor: string | null;
  /** The filter form offers the tenant field and the tenant column to platform admins only. */
  platform: boolean;
  /** The session's CSRF token: the export is a form post. */
  csrf: string;
  /** Pick by name, not by typed id (server-side selects: no script needed). */
  tenants: PickerOption[];
  actors: PickerOption[];
}

/** Actions offered as suggestions in the action field (a datalist: typing anything else still works). */
const KNOWN_ACTIONS = [
  'auth.*',
  'auth.sign_in_failed',
  'auth.account_locked',
  'auth.mfa_verified',
  'auth.recovery_code_used',
  'auth.logout',
  'mfa.*',
  'mfa.reset',
  'mfa.reset_rolled_back',
  'tenant.*',
  'tenant_admin.*',
  'session.*',
  'audit.exported',
];

const query = (values: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(values).filter((entry): entry is [string, string] => !!entry[1])).toString();

const textField = (
  name: string,
  label: string,
  value: string | undefined,
  extra: { placeholder?: string; list?: string } = {},
) =>
  html`<label for="${name}">${label}</label><input id="${name}" name="${name}" value="${value ?? ''}" placeholder="${extra.placeholder ?? ''}"${extra.list ? html` list="${extra.list}"` : ''}>`;

const select = (name: string, label: string, value: string | undefined, options: { value: string; label: string }[]) =>
  html`<label for="${name}">${label}</label><select id="${name}" name="${name}">${options.map((option) => html`<option value="${option.value}"${option.value === (value ?? '') ? html` selected` : ''}>${option.label}</option>`)}</select>`;

const detailsOf = (details: Record<string, unknown>) =>
  Object.entries(details).map(
    ([key, value]) =>
      html`<div><span class="muted">${key}:</span> ${typeof value === 'string' ? value : JSON.stringify(value)}</div>`,
  );

const readable = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' });
/** ISO for machines and copy-paste, a readable form beside it (UTC: the server knows no reader's zone without script). */
const when = (iso: string) =>
  html`<time datetime="${iso}">${readable.format(new Date(iso))} UTC</time><br><span class="muted">${iso}</span>`;

const shortId = (id: string | null) => (id ? `${id.slice(0, 8)}…` : '');
const who = (label: string | null, type: string | null, id: string | null): SafeHtml =>
  label
    ? html`${label}<br><span class="muted" title="${id ?? ''}">${type ?? ''} ${shortId(id)}</span>`
    : html`${type ?? ''} <span title="${id ?? ''}">${id ?? ''}</span>`;

// The export posts the filters in force; empty ones are left out, as the API reads them as absent.
const exportForm = (filters: Record<string, string | undefined>, csrf: string) =>
  html`<form method="post" action="/audit/events/export">${csrfField(csrf)}
${['tenant', 'actor', 'action', 'from', 'to'].filter((name) => filters[name]).map((name) => html`<input type="hidden" name="${name}" value="${filters[name]}">`)}
Export (with each event's hash and previous hash): <button type="submit" name="format" value="csv">CSV</button> <button type="submit" name="format" value="json">JSON</button></form>`;

/**
 * Chain checks the reader may run: a platform admin the chain in view (a tenant picked) and
 * every chain; a tenant admin their own tenant's chain, the only one the route lets them walk.
 */
const verifyLinks = (platform: boolean, tenant: string | undefined) => {
  const links = platform
    ? [
        ...(tenant ? [html`<a href="/audit/verify-chain?${query({ tenant })}">Verify this chain</a>`] : []),
        html`<a href="/audit/verify-chains">Verify all chains</a>`,
      ]
    : [html`<a href="/audit/verify-chain">Verify this chain</a>`];
  return html`<p>${links.flatMap((link, i) => (i === 0 ? [link] : [' · ', link]))}</p>`;
};

export function eventsPage({ events, filters, nextCursor, platform, csrf, tenants, actors }: EventsPageInput): string {
  const filterQuery = query({ ...filters, cursor: undefined });
  const tenantChoices = [
    { value: '', label: 'All tenants and platform' },
    { value: 'platform', label: 'Platform-wide events only' },
    ...tenants.map((tenant) => ({ value: tenant.id, label: tenant.label })),
  ];
  const actorChoices = [
    { value: '', label: 'Anyone' },
    ...actors.map((actor) => ({ value: actor.id, label: actor.label })),
  ];
  // An actor id typed into the URL that is not among the choices stays selectable, so the filter shown is the filter applied.
  if (filters.actor && !actors.some((actor) => actor.id === filters.actor))
    actorChoices.push({ value: filters.actor, label: filters.actor });
  return layout(
    'Audit log',
    html`<form method="get" action="/audit/events">
${platform ? select('tenant', 'Tenant', filters.tenant, tenantChoices) : ''}
${select('actor', platform && !filters.tenant ? 'Actor (pick a tenant to list its admins)' : 'Actor', filters.actor, actorChoices)}
${textField('action', 'Action (mfa.reset, or mfa.* for all MFA actions)', filters.action, { list: 'actions' })}<datalist id="actions">${KNOWN_ACTIONS.map((action) => html`<option value="${action}">`)}</datalist>
${textField('from', 'From (UTC date or time)', filters.from, { placeholder: '2026-01-31 or 2026-01-31T09:00Z' })}${textField('to', 'To (UTC, exclusive)', filters.to, { placeholder: '2026-02-01' })}
<button type="submit">Filter</button> <a href="/audit/events">Clear</a></form>
${exportForm(filters, csrf)}
${verifyLinks(platform, filters.tenant)}
<table><thead><tr><th>When</th>${platform ? html`<th>Tenant</th>` : ''}<th>Action</th><th>Actor</th><th>Target</th><th>From</th><th>Details</th></tr></thead><tbody>
${events.map(
  (
    event,
  ) => html`<tr><td>${when(event.occurredAt)}</td>${platform ? html`<td>${event.tenantId ? who(event.tenantSlug, null, event.tenantId) : html`<span class="muted">platform</span>`}</td>` : ''}<td>${event.action}</td>
<td>${who(event.actorEmail, event.actorType, event.actorId)}</td><td>${who(event.targetLabel, event.targetType, event.targetId)}</td>
<td>${event.ip ?? ''}<br><span class="muted">${event.requestId ?? ''}</span></td><td>${detailsOf(event.details)}</td></tr>`,
)}</tbody></table>
${events.length === 0 ? html`<p class="muted">No events.</p>` : ''}
${nextCursor ? html`<p><a href="/audit/events?${query({ ...Object.fromEntries(new URLSearchParams(filterQuery)), cursor: nextCursor })}">Older events</a></p>` : ''}`,
    undefined,
    platform ? 'platform' : 'tenant',
  );
}

export function verifyPage(report: {
  chainKey: string;
  ok: boolean;
  checked: number;
  headSeq: number;
  firstBreak?: { seq: number; reason: string; message: string };
}): string {
  return layout(
    `Hash chain ${report.chainKey}`,
    report.ok
      ? html`<p>Intact: ${report.checked} events checked, the head is at event ${report.headSeq}.</p>`
      : html`<p class="error" role="alert">Broken at event ${report.firstBreak!.seq} (${report.firstBreak!.reason}): ${report.firstBreak!.message}</p>
<p>${report.checked} events before it are intact. Follow docs/mfa-reset-runbook.md, "The audit chain reports a break".</p>`,
  );
}

/** Every chain's outcome in one table, broken ones first in the summary; a link goes on when the page stopped early. */
export function verifyAllPage(report: AllChainsReport, limit: number): string {
  const summary =
    report.broken === 0
      ? html`<p>All ${report.chains.length} chains checked here are intact.</p>`
      : html`<p class="error" role="alert">${report.broken} of ${report.chains.length} chains are broken. Follow docs/mfa-reset-runbook.md, "The audit chain reports a break".</p>`;
  const more = report.nextAfter
    ? html`<p>Stopped after ${report.chains.length} chains (limit or time budget): <a href="/audit/verify-chains?${query({ after: report.nextAfter, limit: String(limit) })}">Verify the next chains</a>.</p>`
    : html`<p class="muted">That is every chain${report.chains.length > 0 ? '' : ' (there are none yet)'}.</p>`;
  return layout(
    'Verify all chains',
    html`${summary}
<table><thead><tr><th>Chain</th><th>Result</th><th>Events checked</th><th>Head</th><th>First break</th></tr></thead><tbody>
${report.chains.map(
  (
    chain,
  ) => html`<tr><td>${chain.chainKey === 'platform' ? 'platform' : who(chain.tenantSlug, null, chain.chainKey)}</td>
<td>${chain.ok ? 'ok' : html`<strong>broken</strong>`}</td><td>${chain.checked}</td><td>${chain.headSeq}${chain.signedHead ? ', signed' : ''}</td>
<td>${chain.firstBreak ? html`event ${chain.firstBreak.seq} (${chain.firstBreak.reason}): ${chain.firstBreak.message}` : ''}</td></tr>`,
)}</tbody></table>
${more}`,
  );
}
