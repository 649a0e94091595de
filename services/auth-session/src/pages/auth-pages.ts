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

/** A new authenticator's QR code and key, as enrolment and replacement show them. */
const authenticatorSetup = (offer: { qrCodeDataUrl: string; secret: string }) =>
  html`<img src="${offer.qrCodeDataUrl}" alt="QR code for your authenticator app" width="240" height="240">
<p>Or type this key: <code>${offer.secret}</code></p>`;

const readableUtc = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const timeOf = (at: Date) => html`<time datetime="${at.toISOString()}">${readableUtc.format(at)} UTC</time>`;

/**
 * Why the admin is here: a platform admin's reset (with its time, from the reset log) names
 * itself and what to do if it was not asked for; otherwise a first set-up.
 */
const enrolReason = (resetAt: Date | undefined) =>
  resetAt
    ? html`<div class="notice"><p><strong>A platform admin reset your authenticator on ${timeOf(resetAt)}.</strong> Your old app codes and recovery codes no longer work.</p>
<p>If you asked for this (a lost or replaced phone), set up your new authenticator below. If you did not, do not set one up: tell your platform admin or security contact now. They can undo the reset, and your current authenticator will work again.</p></div>`
    : html`<p class="muted">First time here, or here after a reset of your authenticator? Set it up now.</p>`;

export const enrolPage = (
  csrf: string,
  offer: { qrCodeDataUrl: string; secret: string; resetAt?: Date | undefined },
  error?: string,
) =>
  layout(
    'Set up your authenticator',
    html`${enrolReason(offer.resetAt)}<p>Scan this code with an authenticator app, then enter the 6-digit code it shows.</p>
${authenticatorSetup(offer)}
<form method="post" action="/auth/mfa/enroll">${csrfField(csrf)}
<label for="code">Code</label><input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit">Activate</button></form>`,
    error,
  );

/** The confirm and cancel forms of a pending replacement (`_return` brings a late form back here after re-authentication). */
const replacementForms = (csrf: string) =>
  html`<form method="post" action="/auth/authenticator/replacement/confirm">${csrfField(csrf)}<input type="hidden" name="_return" value="/auth/authenticator">
<label for="code">Code from the NEW authenticator</label><input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit">Confirm and replace</button></form>
<form method="post" action="/auth/authenticator/replacement/cancel">${csrfField(csrf)}<button type="submit">Cancel, keep the current one</button></form>`;

/** The account's authenticator: when it was set up, and the way to replace it (or finish a replacement). */
export const authenticatorPage = (
  csrf: string,
  kind: 'platform' | 'tenant',
  status: { enrolledAt: Date | null; replacementPending: boolean },
  error?: string,
) =>
  layout(
    'Your authenticator',
    html`<p>${status.enrolledAt ? html`Your authenticator was set up on ${timeOf(status.enrolledAt)}.` : 'Your authenticator is set up.'}</p>
${
  status.replacementPending
    ? html`<p>A new authenticator is waiting for its first code. Until you confirm it, your current one keeps working. Lost the QR code? Start again for a new one.</p>${replacementForms(csrf)}`
    : ''
}
<p>Replacing it (a new phone, or an app you no longer trust): you will confirm your password and a current code, scan a new QR code, and type a code from the new app. Only then does the old one stop working. Your other sessions end then; your recovery codes stay valid.</p>
<form method="post" action="/auth/authenticator/replacement">${csrfField(csrf)}<input type="hidden" name="_return" value="/auth/authenticator">
<button type="submit">${status.replacementPending ? 'Start again' : 'Replace authenticator'}</button></form>`,
    error,
    consoleNavFor(kind),
  );

/** The new authenticator's QR code with the form that confirms it (or the refusal of a wrong code). */
export const replacementPage = (
  csrf: string,
  kind: 'platform' | 'tenant',
  offer: { qrCodeDataUrl: string; secret: string },
  error?: string,
) =>
  layout(
    'Replace your authenticator',
    html`<p>Scan this code with the new authenticator app, then enter the 6-digit code the NEW app shows. Your current authenticator keeps working until you do.</p>
${authenticatorSetup(offer)}
${replacementForms(csrf)}`,
    error,
    consoleNavFor(kind),
  );

export const replacedPage = (kind: 'platform' | 'tenant', otherSessionsEnded: number) =>
  layout(
    'Authenticator replaced',
    html`<p>Your new authenticator is in use: codes from the old one no longer work.</p>
<p>${otherSessionsEnded === 0 ? 'You had no other sessions.' : `Your ${otherSessionsEnded} other session${otherSessionsEnded === 1 ? ' has' : 's have'} been ended.`} This browser stays signed in.</p>
<p>Your recovery codes stay valid. <a href="/auth/recovery-codes">Make new ones</a> if the old device could have held them.</p>
<p><a href="/auth/me">Continue</a></p>`,
    undefined,
    consoleNavFor(kind),
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
<p>${me.kind === 'platform' ? html`<a href="/admin/tenants">Tenants and their admins</a> · ` : ''}<a href="/audit/events">Audit log</a> · <a href="/auth/sessions">Your sessions</a> · <a href="/auth/password">Change password</a> · <a href="/auth/recovery-codes">Recovery codes</a> · <a href="/auth/authenticator">Your authenticator</a></p>
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
