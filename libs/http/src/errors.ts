// The error catalogue: every code the product answers with, its status and its usual message,
// defined once. ApiError takes only these codes (the type is the union of the keys), and the
// OpenAPI documents list each route's codes from here. A message may be given at the throw site
// when it carries specifics (a retry delay, a time), the status never.

interface CatalogueEntry {
  status: number;
  message: string;
}

const catalogue = {
  // Bad input: always 400, so clients handle one status for "fix your request".
  'request.invalid': { status: 400, message: 'Invalid request.' },
  'request.invalid_body': { status: 400, message: 'The request body is not valid JSON or form data.' },
  'request.too_large': {
    status: 400,
    message: 'The request body is too large (request bodies are limited to 16 KB).',
  },
  'request.unsupported_media_type': {
    status: 415,
    message: 'Send Content-Type: application/json (API clients) or an HTML form.',
  },
  'csrf.invalid': {
    status: 403,
    message: 'The form expired or did not come from this site. Reload the page and try again.',
  },
  'resource.conflict': { status: 409, message: 'The resource already exists.' },
  'service.unavailable': { status: 503, message: 'A service this request needs is unavailable. Try again shortly.' },
  internal: { status: 500, message: 'Internal server error' },
  // The session guards (libs/session-auth).
  'auth.unauthenticated': { status: 401, message: 'Sign in first.' },
  'auth.session_expired': { status: 401, message: 'Your session has ended. Sign in again.' },
  'auth.mfa_required': { status: 403, message: 'Complete the second factor first.' },
  'auth.password_change_required': { status: 403, message: 'Change your password first.' },
  'auth.forbidden': { status: 403, message: 'Your role does not allow this.' },
  'auth.not_found': { status: 404, message: 'No such tenant.' },
  'auth.reauthentication_required': {
    status: 403,
    message: 'Confirm your password and code again, then repeat this action.',
  },
  // Sign-in (auth-session).
  'auth.invalid_credentials': {
    status: 401,
    message: 'The email, password or tenant is not right, or the account is locked.',
  },
  'auth.invalid_code': {
    status: 401,
    message: 'That code is not valid. Codes are single-use; wait for the next one.',
  },
  'auth.invalid_recovery_code': {
    status: 401,
    message:
      'That recovery code is not valid or has been used already: each one works once. Use another recovery code, or a code from your authenticator app.',
  },
  'auth.locked': { status: 401, message: 'Too many wrong attempts: this account is locked.' },
  'auth.too_many_attempts': { status: 429, message: 'Too many attempts. Try again later.' },
  'auth.busy': { status: 503, message: 'Too many sign-ins at once. Try again shortly.' },
  'password.rejected': { status: 400, message: 'The new password is refused by the password policy.' },
  'session.limit_reached': { status: 409, message: 'You have too many active sessions. Sign out elsewhere first.' },
  'session.not_found': { status: 404, message: 'No such session.' },
  'mfa.already_verified': { status: 409, message: 'This session has already passed the second factor.' },
  'mfa.not_enrolled': { status: 409, message: 'Set up an authenticator first.' },
  'mfa.already_enrolled': {
    status: 409,
    message: 'An authenticator is already enrolled. A platform admin can reset it.',
  },
  'mfa.no_enrolment': {
    status: 409,
    message: 'Start the enrolment first: open the authenticator set-up page again.',
  },
  'mfa.factor_changed': {
    status: 409,
    message:
      'Your authenticator changed since you started this replacement (a reset or another replacement): nothing was changed. Start again.',
  },
  'mfa.recovery_codes_changed': {
    status: 409,
    message: 'Your recovery codes changed meanwhile (one was used). Try again.',
  },
  'config.default_admin_password': {
    status: 500,
    message: 'DEFAULT_PLATFORM_ADMIN_PASSWORD is refused by the password policy.',
  },
  // The console (mfa-admin).
  'tenant.not_found': { status: 404, message: 'No such tenant.' },
  'tenant.suspended': { status: 409, message: 'This tenant is suspended.' },
  'tenant_admin.not_found': { status: 404, message: 'No such tenant admin in this tenant.' },
  'platform_admin.not_found': { status: 404, message: 'No such platform admin.' },
  'platform_admin.self': { status: 409, message: 'You cannot disable yourself: ask another platform admin.' },
  'platform_admin.last': { status: 409, message: 'This is the last active platform admin.' },
  'mfa_reset.not_found': { status: 404, message: 'No such MFA reset.' },
  'mfa.reset_already_rolled_back': { status: 409, message: 'This reset has already been rolled back.' },
  'mfa.reset_superseded': {
    status: 409,
    message: 'A newer MFA reset of this admin exists: roll that one back first.',
  },
  'mfa.new_factor_enrolled': {
    status: 409,
    message:
      'The admin has enrolled a new authenticator since this reset. Rolling back would replace it: confirm with force and a reason of its own.',
  },
  'mfa.previous_factor_unreadable': {
    status: 409,
    message: 'The previous factor of this reset cannot be decrypted; nothing was changed. See docs/key-rotation.md.',
  },
} as const satisfies Record<string, CatalogueEntry>;

/** Every error code of the product. */
export type ErrorCode = keyof typeof catalogue;

export const errorCatalogue: Readonly<Record<ErrorCode, CatalogueEntry>> = catalogue;

/** The status a code is answered with. */
export const statusOf = (code: ErrorCode): number => catalogue[code].status;
