import { consoleNavFor, csrfField, html, layout } from './html.js';
import type { SessionSummary } from '../libraries/session-policy.js';

export const loginPage = (
  csrf: string,
  error?: string,
  values: { tenant?: string; email?: string; returnTo?: string } = {},
) =>
  layout(
    'Sign in',
    html`<form method="post" action="/auth/login">${csrfField(csrf)}${values.returnTo ? html`<input type="hidden" name="next" value="${values.returnTo}">` : ''}
<label for="tenant">Tenant (leave empty for platform admins)</label><input id="tenant" name="tenant" value="${values.tenant ?? ''}" autocomplete="organization">
<label for="email">Email</label><input id="email" name="email" type="email" value="${values.email ?? ''}" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`,
    error,
  );

export const mfaPage = (csrf: string, error?: string) =>
  layout(
    'Two-factor check',
    html`<form method="post" action="/auth/mfa/verify">${csrfField(csrf)}
<label for="code">Code from your authenticator app, or a recovery code</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit">Verify</button></form>`,
    error,
  );

export const enrolPage = (csrf: string, offer: { qrCodeDataUrl: string; secret: string }, error?: string) =>
  layout(
    'Set up your authenticator',
    html`<p>Scan this code with an authenticator app, then enter the 6-digit code it shows.</p>
<p class="muted">Here after a platform admin reset your authenticator (a lost or replaced phone)? Your old app codes and recovery codes no longer work: set up the new one now. If you did not ask for a reset, tell your platform admin: they can undo it.</p>
<img src="${offer.qrCodeDataUrl}" alt="QR code for your authenticator app" width="240" height="240">
<p>Or type this key: <code>${offer.secret}</code></p>
<form method="post" action="/auth/mfa/enroll">${csrfField(csrf)}
<label for="code">Code</label><input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit">Activate</button></form>`,
    error,
  );

export const recoveryCodesPage = (codes: string[], next: string) =>
  layout(
    'Your recovery codes',
    html`<p>Each code signs you in once if you lose your phone. They are shown only now: store them safely.</p>
<ul>${codes.map((code) => html`<li><code>${code}</code></li>`)}</ul><p><a href="${next}">Continue</a></p>`,
  );

export const passwordPage = (csrf: string, required: boolean, error?: string) =>
  layout(
    'Change your password',
    html`${required ? html`<p>You must choose a new password before you continue.</p>` : ''}
<form method="post" action="/auth/password">${csrfField(csrf)}<input type="hidden" name="_return" value="/auth/password">
<label for="currentPassword">Current password</label><input id="currentPassword" name="currentPassword" type="password" autocomplete="current-password" required>
<label for="newPassword">New password (at least 12 characters, not a common one)</label><input id="newPassword" name="newPassword" type="password" autocomplete="new-password" required>
<button type="submit">Change password</button></form>`,
    error,
  );

export const reauthenticatePage = (csrf: string, next: string, error?: string) =>
  layout(
    'Confirm it is you',
    html`<p>This action needs your password and a code again. Afterwards you go back to the page you came from: submit the form there again.</p>
<form method="post" action="/auth/reauthenticate">${csrfField(csrf)}<input type="hidden" name="next" value="${next}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="code">Code from your authenticator app, or a recovery code</label><input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit">Confirm</button></form>`,
    error,
  );

export const homePage = (csrf: string, me: { email: string; kind: 'platform' | 'tenant' }) =>
  layout(
    'Signed in',
    html`<p>You are signed in as <strong>${me.email}</strong> (${me.kind} admin).</p>
<p>${me.kind === 'platform' ? html`<a href="/admin/tenants">Tenants and their admins</a> · ` : ''}<a href="/audit/events">Audit log</a> · <a href="/auth/sessions">Your sessions</a> · <a href="/auth/password">Change password</a> · <a href="/auth/recovery-codes">Recovery codes</a></p>
<form method="post" action="/auth/logout">${csrfField(csrf)}<button type="submit">Sign out</button></form>`,
    undefined,
    consoleNavFor(me.kind),
  );

/** Where the console nav's "Sign out" leads: the form (a link cannot carry the CSRF token). */
export const signOutPage = (csrf: string) =>
  layout(
    'Sign out',
    html`<p>Sign out of the Portcullis console in this browser?</p>
<form method="post" action="/auth/logout">${csrfField(csrf)}<button type="submit">Sign out</button></form><p><a href="/auth/me">Cancel</a></p>`,
  );

export const sessionsPage = (csrf: string, sessions: SessionSummary[]) =>
  layout(
    'Your sessions',
    html`<table><thead><tr><th>Started</th><th>Last seen</th><th>From</th><th></th></tr></thead><tbody>
${sessions.map(
  (
    session,
  ) => html`<tr><td>${session.createdAt}</td><td>${session.lastSeenAt}</td><td>${session.ip ?? ''} ${session.userAgent ?? ''}</td>
<td>${session.current ? 'this browser' : html`<form method="post" action="/auth/sessions/${session.id}/revoke">${csrfField(csrf)}<button type="submit">End</button></form>`}</td></tr>`,
)}</tbody></table>
<form method="post" action="/auth/sessions/revoke-others">${csrfField(csrf)}<button type="submit">End all other sessions</button></form>
<p><a href="/auth/me">Back</a></p>`,
  );

export const messagePage = (title: string, message: string) =>
  layout(title, html`<p><a href="/auth/me">Continue</a></p>`, message);

/** How many recovery codes are left, and the form that replaces them all (a fresh password + code is asked first). */
export const recoveryStatusPage = (csrf: string, remaining: number, kind: 'platform' | 'tenant', error?: string) =>
  layout(
    'Recovery codes',
    html`<p>You have <strong>${remaining}</strong> unused recovery code${remaining === 1 ? '' : 's'} of 10.${remaining <= 3 ? ' Make new ones before you run out.' : ''}</p>
<p>New codes replace every old one at once; you will see them once, on the next page.</p>
<form method="post" action="/auth/recovery-codes">${csrfField(csrf)}<input type="hidden" name="_return" value="/auth/recovery-codes">
<button type="submit">Make new recovery codes</button></form>`,
    error,
    consoleNavFor(kind),
  );
