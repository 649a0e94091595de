import { errorCatalogue, type ErrorCode } from './errors.js';

/**
 * The one typed error of the product. Its code comes from the catalogue (errors.ts), which also
 * gives its status and usual message; the error middleware turns it into `{ code, message }`.
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Whether `message` may be shown to the client: below 500, and 503 (a deliberate "busy, come back"). */
  readonly expose: boolean;
  readonly data: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, data?: Record<string, unknown>) {
    const entry = errorCatalogue[code];
    super(message ?? entry.message);
    this.name = 'ApiError';
    this.code = code;
    this.status = entry.status;
    this.expose = this.status < 500 || this.status === 503;
    this.data = data;
  }
}

/** The factory of every catalogued error: `throw apiError('tenant.not_found')`. */
export const apiError = (code: ErrorCode, message?: string, data?: Record<string, unknown>): ApiError =>
  new ApiError(code, message, data);

export function assertThat(condition: unknown, error: ApiError | (() => ApiError)): asserts condition {
  if (!condition) throw typeof error === 'function' ? error() : error;
}
