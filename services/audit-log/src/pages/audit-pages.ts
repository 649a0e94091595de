import type { EventView } from '../libraries/events.js';
import { csrfField, html, layout } from './html.js';

export interface EventsPageInput {
  events: EventView[];
  filters: Record<string, string | undefined>;
  nextCursor: string | null;
  /** The filter form offers the tenant field to platform admins only. */
  platform: boolean;
  /** The session's CSRF token: the export is a form post. */
  csrf: string;
}

const query = (values: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(values).filter((entry): entry is [string, string] => !!entry[1])).toString();

const filterField = (name: string, label: string, value: string | undefined, placeholder = '') =>
  html`<label for="${name}">${label}</label><input id="${name}" name="${name}" value="${value ?? ''}" placeholder="${placeholder}">`;

const detailsOf = (details: Record<string, unknown>) => Object.entries(details).map(([key, value]) => html`<div><span class="muted">${key}:</span> ${typeof value === 'string' ? value : JSON.stringify(value)}</div>`);

// The export posts the filters in force; empty ones are left out, as the API reads them as absent.
const exportForm = (filters: Record<string, string | undefined>, csrf: string) =>
  html`<form method="post" action="/audit/events/export">${csrfField(csrf)}
${['tenant', 'actor', 'action', 'from', 'to'].filter((name) => filters[name]).map((name) => html`<input type="hidden" name="${name}" value="${filters[name]}">`)}
Export: <button type="submit" name="format" value="csv">CSV</button> <button type="submit" name="format" value="json">JSON</button></form>`;

export function eventsPage({ events, filters, nextCursor, platform, csrf }: EventsPageInput): string {
  const filterQuery = query({ ...filters, cursor: undefined });
  return layout(
    'Audit log',
    html`<form method="get" action="/audit/events">
${platform ? filterField('tenant', 'Tenant id (or platform)', filters.tenant) : ''}
${filterField('actor', 'Actor id', filters.actor)}${filterField('action', 'Action (mfa.reset, or mfa.*)', filters.action)}
${filterField('from', 'From (ISO 8601)', filters.from, '2026-01-01T00:00:00Z')}${filterField('to', 'To (ISO 8601)', filters.to)}
<button type="submit">Filter</button></form>
${exportForm(filters, csrf)}
${filters.tenant ? html`<p><a href="/audit/verify-chain?${query({ tenant: filters.tenant })}">Verify this tenant's chain</a></p>` : ''}
<table><thead><tr><th>When</th><th>Action</th><th>Actor</th><th>Target</th><th>From</th><th>Details</th></tr></thead><tbody>
${events.map(
  (event) => html`<tr><td>${event.occurredAt}</td><td>${event.action}</td><td>${event.actorType} ${event.actorId ?? ''}</td>
<td>${event.targetType ?? ''} ${event.targetId ?? ''}</td><td>${event.ip ?? ''}<br><span class="muted">${event.requestId ?? ''}</span></td><td>${detailsOf(event.details)}</td></tr>`,
)}</tbody></table>
${events.length === 0 ? html`<p class="muted">No events.</p>` : ''}
${nextCursor ? html`<p><a href="/audit/events?${query({ ...Object.fromEntries(new URLSearchParams(filterQuery)), cursor: nextCursor })}">Older events</a></p>` : ''}`,
  );
}

export function verifyPage(report: { chainKey: string; ok: boolean; checked: number; headSeq: number; firstBreak?: { seq: number; reason: string; message: string } }): string {
  return layout(
    `Hash chain ${report.chainKey}`,
    report.ok
      ? html`<p>Intact: ${report.checked} events checked, the head is at event ${report.headSeq}.</p>`
      : html`<p class="error" role="alert">Broken at event ${report.firstBreak!.seq} (${report.firstBreak!.reason}): ${report.firstBreak!.message}</p>
<p>${report.checked} events before it are intact. Follow docs/mfa-reset-runbook.md, "The audit chain reports a break".</p>`,
  );
}
