// The JSON API of audit-log: request guards and response schemas per route, the source of the
// OpenAPI document (openapi.ts) and of what the routes may return.
import { CHAIN_BREAK_REASONS } from '@portcullis/audit';
import { z } from 'zod';
import { defineRoutes, type ErrorCode } from '@portcullis/http';

const time = z.string().describe('ISO 8601 time');
const tenantOrPlatform = z.union([z.literal('platform'), z.uuid()], { error: "must be a tenant id or 'platform'" });

/** HTML forms send every field, empty ones as ''; an empty field means "no filter". */
const blankless = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
/** A date (2026-01-31), a time without offset (2026-01-31T09:00, what a datetime-local field sends) read as UTC, or a full ISO 8601 time. */
const instant = z
  .string()
  .trim()
  .regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/i,
    'must be a date or an ISO 8601 time, such as 2026-01-31 or 2026-01-31T09:00Z',
  )
  .transform((value) =>
    value.length === 10 ? `${value}T00:00:00Z` : /(Z|[+-]\d{2}:\d{2})$/i.test(value) ? value : `${value}Z`,
  )
  .refine((value) => !Number.isNaN(Date.parse(value)), 'must be a real date and time');

export const eventsQuery = z.object({
  tenant: blankless(tenantOrPlatform).describe(
    "Tenant id, or 'platform' for platform-wide events; tenant admins see only their own tenant",
  ),
  actor: blankless(z.string().max(64)).describe('Actor id'),
  action: blankless(
    z
      .string()
      .trim()
      .regex(/^[a-z0-9_.]+(\.\*)?$/, 'must be an action such as mfa.reset, or a prefix such as mfa.*')
      .max(100),
  ),
  from: blankless(instant).describe('Inclusive; a date or a time without offset is UTC'),
  to: blankless(instant).describe('Exclusive; a date or a time without offset is UTC'),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export const exportRequest = eventsQuery
  .omit({ cursor: true, limit: true })
  .extend({ format: z.enum(['csv', 'json']).default('csv') });
export const verifyQuery = z.object({
  tenant: blankless(tenantOrPlatform).describe(
    "Required for platform admins; tenant admins verify their own tenant's chain",
  ),
});

export const eventSchema = z.object({
  id: z.string(),
  chain: z.string(),
  seq: z.number().int(),
  tenantId: z.string().nullable(),
  actorType: z.string(),
  actorId: z.string().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  requestId: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  occurredAt: time,
  details: z
    .record(z.string(), z.unknown())
    .describe(
      "Sealed fields (reasons, tickets) are opened for readers; '[sealed]' when this service has no key for them",
    ),
  storedDetails: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe(
      'The details as stored and hashed (sealed fields as ciphertext, never in clear) when they differ from details; null otherwise. With them an export can be checked offline (portcullis audit verify-export)',
    ),
  prevHash: z.string().describe('Hash of the previous event of the same chain (seq - 1)'),
  hash: z
    .string()
    .describe(
      "This event's chain hash: HMAC under the audit key named by hashKeyId, or SHA-256 for events written before the chain was keyed",
    ),
  hashKeyId: z.string().nullable(),
  tenantSlug: z
    .string()
    .nullable()
    .describe('The tenant as it is named now (null: platform-wide, or the tenant is gone)'),
  tenantName: z.string().nullable(),
  actorEmail: z.string().nullable().describe("The acting admin's current email"),
  targetLabel: z.string().nullable().describe("The target admin's email or the target tenant's slug"),
});
export const chainReportSchema = z.object({
  chainKey: z.string(),
  ok: z.boolean(),
  checked: z.number().int(),
  headSeq: z.number().int(),
  signedHead: z
    .boolean()
    .describe(
      'The head carries a valid signature under the audit key (every chain written to since the chain was keyed)',
    ),
  firstBreak: z
    .object({
      seq: z.number().int(),
      eventId: z.string().nullable(),
      reason: z.enum(CHAIN_BREAK_REASONS),
      message: z.string(),
    })
    .optional(),
});

/** Chains per request of "verify all chains": each page stays well inside a proxy's timeout. */
export const VERIFY_ALL_DEFAULT_LIMIT = 100;
export const verifyAllQuery = z.object({
  after: blankless(tenantOrPlatform).describe(
    'nextAfter of the previous answer: go on with the chains after this one (in key order)',
  ),
  limit: z.coerce.number().int().min(1).max(1000).default(VERIFY_ALL_DEFAULT_LIMIT).describe('Chains at most'),
});
export const allChainsReportSchema = z.object({
  chains: z.array(
    chainReportSchema.extend({
      tenantSlug: z
        .string()
        .nullable()
        .describe("The chain's tenant as named now (null: platform, or the tenant is gone)"),
    }),
  ),
  broken: z.number().int().describe('How many of these chains are broken'),
  complete: z.boolean().describe('false: the limit or the time budget was reached; ask again with after=nextAfter'),
  nextAfter: z.string().nullable(),
});

export const api = defineRoutes({
  listEvents: {
    method: 'get',
    path: '/audit/events',
    summary: 'Audit events, newest first (cursor pagination)',
    query: eventsQuery,
    response: z.object({ events: z.array(eventSchema), nextCursor: z.string().nullable() }),
    errors: ['auth.not_found'],
  },
  // A POST: the export is itself audited, and a GET with a side effect could be set off by a cross-site link.
  exportEvents: {
    method: 'post',
    path: '/audit/events/export',
    summary: 'Every matching event as CSV or a JSON array (streamed); the export is recorded as audit.exported',
    body: exportRequest,
    form: true,
    response: z.array(eventSchema),
    produces: ['text/csv'],
    errors: ['auth.not_found'],
  },
  verifyChain: {
    method: 'get',
    path: '/audit/verify-chain',
    summary: "Walk a tenant's hash chain and report the first break (a deleted or edited event)",
    query: verifyQuery,
    response: chainReportSchema,
    errors: ['auth.not_found'],
  },
  verifyAllChains: {
    method: 'get',
    path: '/audit/verify-chains',
    summary:
      'Platform admins: walk every hash chain (platform and each tenant, in key order) and report each ok or broken with its first break; a page stops at limit chains or after about 10 s (complete: false, go on with after=nextAfter)',
    query: verifyAllQuery,
    response: allChainsReportSchema,
    errors: ['auth.forbidden'],
  },
});

/** What every route answers: the session guards (assurance level 2). */
export const GUARD_ERRORS = [
  'auth.unauthenticated',
  'auth.session_expired',
  'auth.mfa_required',
  'auth.password_change_required',
] as const satisfies readonly ErrorCode[];
