/**
 * The one typed error of the product. Codes are string literals (`mfa.reset_already_rolled_back`);
 * the error middleware turns them into `{ code, message }` with `status`.
 */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  /** Whether `message` may be shown to the client: below 500, and 503 (a deliberate "busy, come back"). */
  readonly expose: boolean;
  readonly data: Record<string, unknown> | undefined;

  constructor(code: string, status: number, message: string, data?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.expose = status < 500 || status === 503;
    this.data = data;
  }
}

export function assertThat(condition: unknown, error: ApiError | (() => ApiError)): asserts condition {
  if (!condition) throw typeof error === 'function' ? error() : error;
}
