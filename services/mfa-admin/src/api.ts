// The JSON API of mfa-admin in one place: request guards and response schemas per route. The
// routes parse with them (responses too, so a field not declared here — a hash, a previous_*
// value — can never reach a client), and openapi.ts builds the OpenAPI document from them.
import { z } from 'zod';
import { defineRoutes, type ErrorCode } from '@portcullis/http';
import { RECENT_AUTH_DESCRIPTION } from '@portcullis/session-auth';

const time = z.string().describe('ISO 8601 time');
const uuid = z.uuid({ error: 'must be an id (uuid)' });
// The Cc category spelled as ranges: the OpenAPI document carries this pattern, and
// ECMAScript-only classes like \p{Cc} are unusable to other tools (schemathesis, Python re).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]*$/;
/** Free text typed by a person: trimmed, bounded, no control characters. */
const text = (max: number) =>
  z
    .string({ error: 'is required' })
    .trim()
    .min(1, 'is required')
    .max(max, `must have at most ${max} characters`)
    .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters');
const optionalText = (max: number) =>
  z.preprocess((value) => (value === '' || value === null ? undefined : value), text(max).optional());
/** HTML forms send checkboxes as "on"; JSON clients send booleans. */
const checkbox = z.preprocess((value) => value === true || value === 'on' || value === 'true', z.boolean());

export const REASON_MAX = 500;
export const TICKET_MAX = 100;

export const tenantParams = z.object({ tenant: uuid });
export const adminParams = z.object({ tenant: uuid, id: uuid });
export const sessionParams = z.object({
  tenant: uuid,
  session: z.string().regex(/^[0-9a-f]{64}$/, 'must be a session id from the sessions list'),
});
export const logParams = z.object({ logId: z.string().regex(/^\d{1,18}$/, 'must be a reset id') });
export const pageQuery = z.object({
  before: z
    .string()
    .regex(/^\d{1,18}$/, 'must be a reset id')
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** HTML GET forms send every field, empty ones as '': an empty (or blank) field means "not given". */
const blankless = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), schema.optional());
/** A query parameter given once (`?q=a&q=b` arrives as an array). */
const once = (message: string) => z.string({ error: `must be given once, as ${message}` });

export const TENANT_SORTS = ['slug', 'name', 'created'] as const;
export const TENANT_PAGE_DEFAULT = 25;
export const TENANT_PAGE_MAX = 100;

/** Where a tenants page starts: the sort it belongs to, that sort's value and the id of the row next to the page. */
export interface TenantCursor {
  sort: (typeof TENANT_SORTS)[number];
  value: string;
  id: string;
}
export const encodeTenantCursor = (cursor: TenantCursor) =>
  Buffer.from(JSON.stringify([cursor.sort, cursor.value, cursor.id])).toString('base64url');
/** The created key as the database writes it (2026-01-31T09:00:00.123456Z): a real time, or the cast would fail. */
const isMicrosecondTime = (value: string) =>
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(value) &&
  !Number.isNaN(Date.parse(value)) &&
  new Date(Date.parse(value)).toISOString().slice(0, 19) === value.slice(0, 19);
/** A page cursor: base64url JSON of a few parts, read back by `read` (undefined: not a cursor this route gave out). */
const cursor = <T>(read: (parts: unknown[]) => T | undefined) =>
  once('a cursor')
    .max(1000, 'must be a cursor from a previous page')
    .transform((text, ctx): T => {
      let parts: unknown;
      try {
        parts = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
      } catch {
        // Not base64url JSON: answered like a cursor of the wrong shape, below.
      }
      const value = Array.isArray(parts) ? read(parts) : undefined;
      if (value !== undefined) return value;
      ctx.issues.push({ code: 'custom', message: 'must be a cursor from a previous page', input: text });
      return z.NEVER;
    });
/** Text a cursor may carry back to a query: bounded, no control characters (PostgreSQL refuses NUL). */
const cursorText = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length <= max && NO_CONTROL_CHARACTERS.test(value);
const tenantCursor = cursor(([sort, value, id]): TenantCursor | undefined =>
  TENANT_SORTS.includes(sort as TenantCursor['sort']) &&
  cursorText(value, 400) &&
  (sort !== 'created' || isMicrosecondTime(value)) &&
  uuid.safeParse(id).success
    ? { sort: sort as TenantCursor['sort'], value, id: id as string }
    : undefined,
);

export const tenantsQuery = z
  .object({
    q: blankless(
      once('text')
        .trim()
        .max(100, 'must have at most 100 characters')
        .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters'),
    ).describe('Part of the slug or the name, any case; % and _ match themselves. Empty: every tenant'),
    sort: blankless(z.enum(TENANT_SORTS, { error: `must be one of ${TENANT_SORTS.join(', ')}` }))
      .default('slug')
      .describe('Sort key (the id breaks ties); empty: slug'),
    order: blankless(z.enum(['asc', 'desc'], { error: 'must be asc or desc' }))
      .default('asc')
      .describe('Empty: asc'),
    after: blankless(tenantCursor).describe('`nextCursor` of the page before: the page after it'),
    before: blankless(tenantCursor).describe('`prevCursor` of the page after: the page before it'),
    limit: blankless(
      z.coerce
        .number({ error: 'must be a number' })
        .int('must be a whole number')
        .min(1, 'must be at least 1')
        .max(TENANT_PAGE_MAX, `must be at most ${TENANT_PAGE_MAX}`),
    )
      .default(TENANT_PAGE_DEFAULT)
      .describe(`Page size, 1–${TENANT_PAGE_MAX}; empty: ${TENANT_PAGE_DEFAULT}`),
  })
  .superRefine((query, ctx) => {
    if (query.after && query.before)
      ctx.addIssue({ code: 'custom', path: ['before'], message: 'give after or before, not both' });
    const cursor = query.after ?? query.before;
    if (cursor && cursor.sort !== query.sort)
      ctx.addIssue({
        code: 'custom',
        path: [query.after ? 'after' : 'before'],
        message: `is a cursor of the ${cursor.sort} order, not of ${query.sort}: start again from the first page`,
      });
  });
export type TenantsQuery = z.output<typeof tenantsQuery>;

export const createTenantBody = z.object({
  slug: z
    .string({ error: 'is required' })
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be 2–63 letters, digits or dashes, starting with a letter or digit'),
  name: text(200),
});
export const renameTenantBody = createTenantBody.pick({ name: true });
export const createAdminBody = z.object({
  email: z
    .string({ error: 'is required' })
    .trim()
    .max(254)
    .regex(/^[\x21-\x7e]+$/, 'must be plain ASCII without spaces')
    .pipe(z.email({ error: 'must be an email address' }))
    // The document shows the input side of a pipe only: name the format the output side checks.
    .meta({ format: 'email' }),
});
export const resetBody = z.object({ reason: text(REASON_MAX), ticket: optionalText(TICKET_MAX) });
export const rollbackBody = z
  .object({ reason: text(REASON_MAX), force: checkbox.default(false), forceReason: optionalText(REASON_MAX) })
  .refine((body) => !body.force || !!body.forceReason, {
    path: ['forceReason'],
    message: 'is required when force is set',
  });

export const tenantSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  status: z.enum(['active', 'suspended']),
  createdAt: time,
});
export const tenantSummarySchema = tenantSchema.extend({ adminCount: z.number().int() });
export const adminSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  email: z.string(),
  mfaEnrolled: z.boolean(),
  mfaEnrolledAt: time.nullable(),
  mustChangePassword: z.boolean(),
  disabled: z.boolean(),
  lockedUntil: time.nullable().describe('Sign-in locked until then after repeated failures (null: not locked)'),
  createdAt: time,
});
export const resetSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  adminId: z.string(),
  adminEmail: z.string().nullable(),
  resetBy: z.string(),
  resetByEmail: z.string().nullable(),
  reason: z.string(),
  ticket: z.string().nullable(),
  createdAt: time,
  rolledBack: z.boolean(),
  rolledBackAt: time.nullable(),
  rolledBackBy: z.string().nullable(),
  rolledBackByEmail: z.string().nullable(),
  rollbackReason: z.string().nullable(),
  rollbackForced: z.boolean(),
  rollbackForceReason: z.string().nullable(),
});
const revokeState = z
  .enum(['done', 'pending'])
  .describe(
    "'pending': the session store did not answer; the revoke is retried, and the sessions are refused meanwhile",
  );
export const resetResultSchema = z.object({ reset: resetSchema, sessionsRevoked: revokeState });

export const liveSessionSchema = z.object({
  id: z.string(),
  adminId: z.string(),
  adminEmail: z.string(),
  createdAt: time,
  lastSeenAt: time,
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  assurance: z.number().int().describe('1: password only (a sign-in in progress); 2: fully signed in'),
});

export const accountSessionSchema = liveSessionSchema.extend({
  adminKind: z.enum(['platform', 'tenant']),
  tenantId: z.string().nullable().describe('null for a platform admin'),
  tenantSlug: z.string().nullable(),
  tenantName: z.string().nullable(),
});
export const accountSessionParams = z.object({ id: uuid, session: sessionParams.shape.session });

export const SESSIONS_PAGE_DEFAULT = 50;
export const SESSIONS_PAGE_MAX = 100;
/** Where a platform-wide sessions page starts: after this admin (tenant slug, '' for platform admins; email; id). */
export interface AccountCursor {
  slug: string;
  email: string;
  id: string;
}
export const encodeAccountCursor = (cursor: AccountCursor) =>
  Buffer.from(JSON.stringify([cursor.slug, cursor.email, cursor.id])).toString('base64url');
const accountCursor = cursor(([slug, email, id]): AccountCursor | undefined =>
  cursorText(slug, 63) &&
  /^([a-z0-9][a-z0-9-]{1,62})?$/.test(slug) &&
  cursorText(email, 254) &&
  uuid.safeParse(id).success
    ? { slug, email, id: id as string }
    : undefined,
);
export const accountSessionsQuery = z.object({
  after: blankless(accountCursor).describe('`nextCursor` of the page before'),
  limit: blankless(
    z.coerce
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(SESSIONS_PAGE_MAX, `must be at most ${SESSIONS_PAGE_MAX}`),
  )
    .default(SESSIONS_PAGE_DEFAULT)
    .describe(
      `Sessions per page, 1–${SESSIONS_PAGE_MAX}; empty: ${SESSIONS_PAGE_DEFAULT}. A page may hold fewer (see the description) or a few more (one admin's sessions are never split)`,
    ),
});

export type AccountSessionsQuery = z.output<typeof accountSessionsQuery>;

export const platformAdminParams = z.object({ id: uuid });
export const platformAdminSchema = z.object({
  id: z.string(),
  email: z.string(),
  mfaEnrolled: z.boolean(),
  mustChangePassword: z.boolean(),
  disabled: z.boolean(),
  createdAt: time,
});

const TENANT = ['tenant.not_found'] as const satisfies readonly ErrorCode[];
const ADMIN = ['tenant.not_found', 'tenant_admin.not_found'] as const satisfies readonly ErrorCode[];
export const api = defineRoutes({
  listTenants: {
    method: 'get',
    path: '/admin/tenants',
    summary: 'List tenants: search, sort and pages',
    description:
      'Keyset pagination on the sort key and the id: a page never repeats or skips a tenant when tenants are created between two requests. Follow `nextCursor` with `after` and `prevCursor` with `before`, keeping `q`, `sort`, `order` and `limit`.',
    query: tenantsQuery,
    response: z.object({
      tenants: z.array(tenantSummarySchema),
      hasNext: z.boolean(),
      nextCursor: z.string().nullable().describe('Pass as `after` for the next page; null on the last'),
      hasPrevious: z.boolean(),
      prevCursor: z.string().nullable().describe('Pass as `before` for the previous page; null on the first'),
    }),
  },
  createTenant: {
    method: 'post',
    path: '/admin/tenants',
    summary: 'Create a tenant',
    body: createTenantBody,
    response: z.object({ tenant: tenantSchema }),
    errors: ['resource.conflict'],
  },
  getTenant: {
    method: 'get',
    path: '/admin/tenants/:tenant',
    summary: 'A tenant and its admins',
    params: tenantParams,
    response: z.object({ tenant: tenantSchema, admins: z.array(adminSchema) }),
    errors: TENANT,
  },
  suspendTenant: {
    method: 'post',
    path: '/admin/tenants/:tenant/suspend',
    summary: 'Suspend a tenant (its admins are signed out)',
    params: tenantParams,
    response: z.object({ tenant: tenantSchema, sessionsRevoked: revokeState }),
    errors: TENANT,
  },
  listAdmins: {
    method: 'get',
    path: '/admin/tenants/:tenant/admins',
    summary: "List a tenant's admins",
    params: tenantParams,
    response: z.object({ admins: z.array(adminSchema) }),
    errors: TENANT,
  },
  createAdmin: {
    method: 'post',
    path: '/admin/tenants/:tenant/admins',
    summary: 'Create (invite) a tenant admin; the temporary password is returned once',
    description:
      'An email another admin of the tenant has, a disabled one included, is refused (409 `resource.conflict`): re-enable that account instead (`POST /admin/tenants/:tenant/admins/:id/enable`).',
    params: tenantParams,
    body: createAdminBody,
    response: z.object({ admin: adminSchema, temporaryPassword: z.string() }),
    errors: [...TENANT, 'tenant.suspended', 'resource.conflict'],
  },
  disableAdmin: {
    method: 'post',
    path: '/admin/tenants/:tenant/admins/:id/disable',
    summary: 'Disable a tenant admin (signed out everywhere)',
    params: adminParams,
    response: z.object({ admin: adminSchema, sessionsRevoked: revokeState }),
    errors: ADMIN,
  },
  enableAdmin: {
    method: 'post',
    path: '/admin/tenants/:tenant/admins/:id/enable',
    summary: 'Re-enable a disabled tenant admin (same account, factor and email; they sign in again)',
    params: adminParams,
    response: z.object({ admin: adminSchema }),
    errors: ADMIN,
  },
  signOutAdmin: {
    method: 'post',
    path: '/admin/tenants/:tenant/admins/:id/sign-out',
    summary: 'End every session of a tenant admin without disabling the account',
    params: adminParams,
    response: z.object({ admin: adminSchema, sessionsRevoked: revokeState }),
    errors: ADMIN,
  },
  unlockAdmin: {
    method: 'post',
    path: '/admin/tenants/:tenant/admins/:id/unlock',
    summary: "Lift a tenant admin's sign-in lockout now",
    params: adminParams,
    response: z.object({ admin: adminSchema }),
    errors: ADMIN,
  },
  resetAdminPassword: {
    method: 'post',
    path: '/admin/tenants/:tenant/admins/:id/password-reset',
    summary:
      'Give a tenant admin a temporary password (returned once, changed at the next sign-in); their sessions end, the authenticator stays',
    params: adminParams,
    response: z.object({ admin: adminSchema, temporaryPassword: z.string(), sessionsRevoked: revokeState }),
    errors: ADMIN,
  },
  renameTenant: {
    method: 'post',
    path: '/admin/tenants/:tenant/rename',
    summary: 'Rename a tenant (its display name; the sign-in slug stays)',
    params: tenantParams,
    body: renameTenantBody,
    response: z.object({ tenant: tenantSchema }),
    errors: TENANT,
  },
  unsuspendTenant: {
    method: 'post',
    path: '/admin/tenants/:tenant/unsuspend',
    summary: 'Unsuspend a tenant (its admins sign in again)',
    params: tenantParams,
    response: z.object({ tenant: tenantSchema }),
    errors: TENANT,
  },
  listSessions: {
    method: 'get',
    path: '/admin/tenants/:tenant/sessions',
    summary: "Who is signed in: the tenant's live sessions, most recently seen first",
    params: tenantParams,
    response: z.object({ sessions: z.array(liveSessionSchema) }),
    errors: TENANT,
  },
  endSession: {
    method: 'post',
    path: '/admin/tenants/:tenant/sessions/:session/end',
    summary: "End one live session of one of the tenant's admins",
    params: sessionParams,
    response: z.object({ ended: liveSessionSchema }),
    errors: [...TENANT, 'session.not_found'],
  },
  listAllSessions: {
    method: 'get',
    path: '/admin/sessions',
    summary: 'Who is signed in, platform-wide: the live sessions of every platform admin and tenant admin',
    description:
      "In admin order: platform admins first, then by tenant slug and email; one admin's sessions most recently seen first. A page reads the session store's per-admin index for at most 200 admins, so it may end before `limit` sessions with `hasNext` true: follow `nextCursor` with `after` until `hasNext` is false.",
    query: accountSessionsQuery,
    response: z.object({
      sessions: z.array(accountSessionSchema),
      hasNext: z.boolean(),
      nextCursor: z.string().nullable().describe('Pass as `after` for the next page; null on the last'),
    }),
  },
  endAccountSession: {
    method: 'post',
    path: '/admin/admins/:id/sessions/:session/end',
    summary: 'End one live session of any admin (tenant or platform), from the platform-wide list',
    params: accountSessionParams,
    response: z.object({ ended: accountSessionSchema }),
    errors: ['session.not_found'],
  },
  listPlatformAdmins: {
    method: 'get',
    path: '/admin/platform-admins',
    summary: 'List platform admins',
    response: z.object({ platformAdmins: z.array(platformAdminSchema) }),
  },
  createPlatformAdmin: {
    method: 'post',
    path: '/admin/platform-admins',
    summary:
      'Create another platform admin; the temporary password is returned once (they change it and enrol at first sign-in)',
    description:
      'An email another platform admin has, a disabled one included, is refused (409 `resource.conflict`): re-enable that account instead (`POST /admin/platform-admins/:id/enable`).',
    body: createAdminBody,
    response: z.object({ platformAdmin: platformAdminSchema, temporaryPassword: z.string() }),
    errors: ['resource.conflict'],
  },
  disablePlatformAdmin: {
    method: 'post',
    path: '/admin/platform-admins/:id/disable',
    summary: 'Disable another platform admin (signed out everywhere); never yourself or the last active one',
    params: platformAdminParams,
    response: z.object({ platformAdmin: platformAdminSchema, sessionsRevoked: revokeState }),
    errors: ['platform_admin.not_found', 'platform_admin.self', 'platform_admin.last'],
  },
  enablePlatformAdmin: {
    method: 'post',
    path: '/admin/platform-admins/:id/enable',
    summary:
      'Re-enable a disabled platform admin (same account, factor and email; they sign in again, sessions from before the disable stay void)',
    params: platformAdminParams,
    response: z.object({ platformAdmin: platformAdminSchema }),
    errors: ['platform_admin.not_found'],
  },
  resetMfa: {
    method: 'post',
    path: '/admin/tenants/:tenant/admins/:id/mfa/reset',
    summary: "Reset a tenant admin's MFA (they must enrol again)",
    params: adminParams,
    body: resetBody,
    response: resetResultSchema,
    description: RECENT_AUTH_DESCRIPTION,
    errors: [...ADMIN, 'auth.reauthentication_required', 'mfa.not_enrolled'],
  },
  rollbackReset: {
    method: 'post',
    path: '/admin/mfa-resets/:logId/rollback',
    summary: 'Roll an MFA reset back: the previous authenticator works again',
    params: logParams,
    body: rollbackBody,
    response: resetResultSchema,
    description: RECENT_AUTH_DESCRIPTION,
    errors: [
      'auth.reauthentication_required',
      'mfa_reset.not_found',
      'tenant_admin.not_found',
      'mfa.reset_already_rolled_back',
      'mfa.reset_superseded',
      'mfa.new_factor_enrolled',
      'mfa.previous_factor_unreadable',
    ],
  },
  tenantHistory: {
    method: 'get',
    path: '/admin/tenants/:tenant/mfa-resets',
    summary: 'MFA resets of a tenant, newest first',
    params: tenantParams,
    query: pageQuery,
    response: z.object({ resets: z.array(resetSchema), nextBefore: z.string().nullable() }),
    errors: TENANT,
  },
  adminHistory: {
    method: 'get',
    path: '/admin/tenants/:tenant/admins/:id/mfa-resets',
    summary: 'MFA resets of one tenant admin, newest first',
    params: adminParams,
    query: pageQuery,
    response: z.object({ resets: z.array(resetSchema), nextBefore: z.string().nullable() }),
    errors: ADMIN,
  },
});

/** What every route answers: the session guards (platform admins at assurance level 2). */
export const GUARD_ERRORS = [
  'auth.unauthenticated',
  'auth.session_expired',
  'auth.mfa_required',
  'auth.password_change_required',
  'auth.forbidden',
] as const satisfies readonly ErrorCode[];

export type ApiName = keyof typeof api;
export type ResetView = z.infer<typeof resetSchema>;
export type AdminView = z.infer<typeof adminSchema>;
export type TenantView = z.infer<typeof tenantSchema>;
export type TenantSummaryView = z.infer<typeof tenantSummarySchema>;
export type LiveSessionView = z.infer<typeof liveSessionSchema>;
export type AccountSessionView = z.infer<typeof accountSessionSchema>;
export type PlatformAdminView = z.infer<typeof platformAdminSchema>;
