// The JSON API of auth-session in one place: what each route takes and answers. The routes mount
// these specs with the guard of @portcullis/http (input parsed, responses filtered through the
// schema) and openapi.ts builds the document served at /auth/openapi.json from them.
import { z } from 'zod';
import { defineRoutes, type ErrorCode } from '@portcullis/http';
import { RECENT_AUTH_DESCRIPTION } from '@portcullis/session-auth';

const password = z.string({ error: 'is required' }).min(1, 'is required').max(256, 'must have at most 256 characters');

/** Plain ASCII, no spaces or invisible characters: lookalike and zero-width tricks are refused, not normalised. */
export const emailField = z
  .string({ error: 'is required' })
  .trim()
  .max(254, 'must have at most 254 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be plain ASCII without spaces or invisible characters')
  .pipe(z.email({ error: 'must be an email address' }))
  // The document shows the input side of a pipe only: name the format the output side checks.
  .meta({ format: 'email' });

export const codeField = z
  .string({ error: 'is required' })
  .trim()
  .min(6, 'must have at least 6 characters')
  .max(32, 'must have at most 32 characters')
  .describe('A TOTP code or a recovery code');

export const loginBody = z.object({
  tenant: z
    .string()
    .trim()
    .max(63, 'must have at most 63 characters')
    .regex(/^([a-z0-9][a-z0-9-]*)?$/i, 'must be a tenant slug (letters, digits, dashes)')
    .optional()
    .transform((value) => value || undefined)
    .describe('Tenant slug; omit for platform admins'),
  email: emailField,
  password,
});
export const codeBody = z.object({ code: codeField });
export const passwordBody = z.object({ currentPassword: password, newPassword: password });
export const reauthBody = z.object({ password, code: codeField });
export const sessionParams = z.object({
  id: z.string().regex(/^[0-9a-f]{64}$/, 'must be a session id from GET /auth/sessions'),
});
/** `next` comes from mfa-admin and audit-log links; anything unusable means the default (never a 400). */
export const returnQuery = z.object({
  next: z
    .string()
    .optional()
    .catch(undefined)
    .describe('A path under /auth, /admin or /audit; anything else becomes /auth/me'),
});

const time = z.string().describe('ISO 8601 time');
const assurance = z.union([z.literal(1), z.literal(2)]);
const nextStep = z.enum(['verify-mfa', 'enroll-mfa', 'change-password', 'done']);

export const meSchema = z.object({
  id: z.string(),
  kind: z.enum(['platform', 'tenant']),
  email: z.string(),
  tenantId: z.string().nullable(),
  assurance,
  mfaEnrolled: z.boolean(),
  sessionCreatedAt: time,
});
export const sessionSchema = z.object({
  id: z.string().describe('HMAC of the session id (never the id itself)'),
  createdAt: time,
  lastSeenAt: time,
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  assurance: z.number().int(),
  current: z.boolean(),
});

/** What the password and code checks of a signed-in admin can answer. */
const FACTOR_ERRORS = [
  'auth.invalid_credentials',
  'auth.invalid_code',
  'auth.invalid_recovery_code',
  'auth.locked',
  'auth.too_many_attempts',
  'auth.busy',
] as const satisfies readonly ErrorCode[];
/** A new authenticator's set-up: the secret is for manual entry, shown only in this answer. */
const authenticatorOffer = z.object({ otpauthUri: z.string(), qrCodeDataUrl: z.string(), secret: z.string() });
const LEVEL_TWO = ['auth.mfa_required', 'auth.password_change_required'] as const satisfies readonly ErrorCode[];
export const api = defineRoutes({
  loginPage: {
    method: 'get',
    path: '/auth/login',
    summary:
      "Sign-in page; writes no session. The sign-in form's CSRF token is also set in a signed cookie (double submit); JSON clients need no token",
    public: true,
    response: z.object({ csrfToken: z.string() }),
  },
  login: {
    method: 'post',
    path: '/auth/login',
    summary:
      'Password step; starts a level-1 session under a new id (the same answer for an unknown account, a wrong password and a locked account)',
    public: true,
    body: loginBody,
    response: z.object({ assurance: z.literal(1), next: nextStep }),
    errors: ['auth.invalid_credentials', 'auth.too_many_attempts', 'auth.busy', 'session.limit_reached'],
  },
  logoutPage: {
    method: 'get',
    path: '/auth/logout',
    summary: 'The sign-out page (the console nav links here; the form posts to this path)',
    response: z.object({ signedIn: z.literal(true) }),
  },
  logout: {
    method: 'post',
    path: '/auth/logout',
    summary: 'Ends this session',
    response: z.object({ signedOut: z.literal(true) }),
  },
  mfaPage: {
    method: 'get',
    path: '/auth/mfa',
    summary: 'Second-factor page; JSON clients get the next step',
    response: z.object({ next: nextStep, location: z.string() }),
  },
  verifyMfa: {
    method: 'post',
    path: '/auth/mfa/verify',
    summary: 'TOTP code or recovery code; raises the session to level 2 under a new id',
    body: codeBody,
    response: z.object({
      assurance: z.literal(2),
      next: nextStep,
      method: z.enum(['totp', 'recovery_code']),
      remainingRecoveryCodes: z.number().int().optional(),
    }),
    errors: [...FACTOR_ERRORS, 'mfa.already_verified', 'mfa.not_enrolled', 'session.limit_reached'],
  },
  enrolmentOffer: {
    method: 'get',
    path: '/auth/mfa/enroll',
    summary: 'Starts (or shows again) enrolment of an authenticator; the secret is shown for manual entry only here',
    response: authenticatorOffer.extend({
      mfaResetAt: time
        .optional()
        .describe('When a platform admin reset this tenant admin’s authenticator, if that is why they enrol'),
    }),
    errors: ['mfa.already_enrolled'],
  },
  enrol: {
    method: 'post',
    path: '/auth/mfa/enroll',
    summary: 'Activates the authenticator with a valid code; returns 10 recovery codes, shown once',
    body: codeBody,
    response: z.object({
      assurance: z.literal(2),
      next: nextStep,
      recoveryCodes: z.array(z.string()).length(10),
    }),
    errors: ['mfa.no_enrolment', 'mfa.already_enrolled', 'auth.invalid_code', 'session.limit_reached'],
  },
  me: {
    method: 'get',
    path: '/auth/me',
    summary: 'The signed-in admin',
    response: meSchema,
    errors: LEVEL_TWO,
  },
  passwordPage: {
    method: 'get',
    path: '/auth/password',
    summary: 'Password change page; JSON clients learn whether a change is required',
    response: z.object({ mustChangePassword: z.boolean() }),
    errors: ['auth.mfa_required'],
  },
  changePassword: {
    method: 'post',
    path: '/auth/password',
    summary: 'Changes the password; every other session ends',
    description: RECENT_AUTH_DESCRIPTION,
    body: passwordBody,
    response: z.object({ passwordChanged: z.literal(true), next: nextStep }),
    errors: [
      'auth.mfa_required',
      'auth.reauthentication_required',
      'auth.invalid_credentials',
      'password.rejected',
      'auth.too_many_attempts',
      'auth.busy',
    ],
  },
  reauthenticatePage: {
    method: 'get',
    path: '/auth/reauthenticate',
    summary: 'Re-authentication page (browsers); `next` is where the form sends the admin afterwards',
    query: returnQuery,
    response: z.object({ next: z.string() }),
    errors: LEVEL_TWO,
  },
  reauthenticate: {
    method: 'post',
    path: '/auth/reauthenticate',
    summary: 'Confirms password and code again, for sensitive actions in the other services',
    body: reauthBody,
    response: z.object({ reauthenticatedAt: time }),
    errors: [...LEVEL_TWO, ...FACTOR_ERRORS],
  },
  listSessions: {
    method: 'get',
    path: '/auth/sessions',
    summary: "This admin's sessions",
    response: z.object({ sessions: z.array(sessionSchema) }),
    errors: LEVEL_TWO,
  },
  endSession: {
    method: 'delete',
    path: '/auth/sessions/:id',
    summary: "Ends one of this admin's sessions",
    params: sessionParams,
    status: 204,
    errors: [...LEVEL_TWO, 'session.not_found'],
  },
  endSessionForm: {
    method: 'post',
    path: '/auth/sessions/:id/revoke',
    summary: 'The same as DELETE, for HTML forms',
    params: sessionParams,
    response: z.object({ revoked: z.literal(true) }),
    errors: [...LEVEL_TWO, 'session.not_found'],
  },
  endOtherSessions: {
    method: 'post',
    path: '/auth/sessions/revoke-others',
    summary: 'Ends every other session of this admin',
    response: z.object({ revoked: z.number().int() }),
    errors: LEVEL_TWO,
  },
  recoveryCodesLeft: {
    method: 'get',
    path: '/auth/recovery-codes',
    summary: 'How many unused recovery codes this admin has',
    response: z.object({ remaining: z.number().int().min(0) }),
    errors: LEVEL_TWO,
  },
  newRecoveryCodes: {
    method: 'post',
    path: '/auth/recovery-codes',
    summary: 'Replaces every recovery code with a new set, returned once (not stored in clear)',
    description: RECENT_AUTH_DESCRIPTION,
    response: z.object({ recoveryCodes: z.array(z.string()) }),
    errors: [...LEVEL_TWO, 'auth.reauthentication_required', 'mfa.not_enrolled', 'mfa.recovery_codes_changed'],
  },
  authenticatorPage: {
    method: 'get',
    path: '/auth/authenticator',
    summary: "This admin's authenticator: when it was set up, and whether a replacement waits for its first code",
    response: z.object({ enrolledAt: time.nullable(), replacementPending: z.boolean() }),
    errors: [...LEVEL_TWO, 'mfa.not_enrolled'],
  },
  startReplacement: {
    method: 'post',
    path: '/auth/authenticator/replacement',
    summary:
      'Starts replacing this admin’s authenticator: a new secret (shown only here) waits in this session; the current authenticator keeps working until a code from the new one confirms it',
    description: RECENT_AUTH_DESCRIPTION,
    response: authenticatorOffer,
    errors: [...LEVEL_TWO, 'auth.reauthentication_required', 'mfa.not_enrolled'],
  },
  confirmReplacement: {
    method: 'post',
    path: '/auth/authenticator/replacement/confirm',
    summary:
      'A code from the NEW authenticator swaps it in; every other session of this admin ends (this one continues under a new id); recovery codes stay valid. A wrong code changes nothing',
    description: RECENT_AUTH_DESCRIPTION,
    body: codeBody,
    response: z.object({ replaced: z.literal(true), otherSessionsEnded: z.number().int().min(0) }),
    errors: [
      ...LEVEL_TWO,
      'auth.reauthentication_required',
      'auth.invalid_code',
      'mfa.no_enrolment',
      'mfa.factor_changed',
      'mfa.not_enrolled',
    ],
  },
  cancelReplacement: {
    method: 'post',
    path: '/auth/authenticator/replacement/cancel',
    summary: 'Drops the pending replacement; the current authenticator stays',
    response: z.object({ cancelled: z.literal(true) }),
    errors: LEVEL_TWO,
  },
});

/** What every signed-in route answers without a session, or with one that ended. */
export const SESSION_ERRORS = ['auth.unauthenticated', 'auth.session_expired'] as const satisfies readonly ErrorCode[];
