// Sensitive fields never reach a log line. pino's path-based `redact` cannot express
// "every key starting with previous_", so keys are matched by pattern on the way out.
const SENSITIVE_KEY =
  /^previous_|password|passwd|secret|totp|otp$|^code$|recovery|token|api[-_]?key|encryption[-_]?key|private[-_]?key|^key$|^keys$|cookie|authorization|credential|session[-_]?id|^sid$/i;

export const REDACTED = '[redacted]';

// Log lines repeat the same few keys: each key's answer is kept, so a line costs no pattern
// match per key. Bounded: cleared when full (objects with ever new keys cannot grow it).
const keyVerdicts = new Map<string, boolean>();

export function isSensitiveKey(key: string): boolean {
  let sensitive = keyVerdicts.get(key);
  if (sensitive === undefined) {
    if (keyVerdicts.size >= 2_000) keyVerdicts.clear();
    sensitive = SENSITIVE_KEY.test(key);
    keyVerdicts.set(key, sensitive);
  }
  return sensitive;
}

/**
 * `value` with every sensitive key's value replaced, at any depth: a copy where something was
 * replaced, `value` itself where nothing was (most lines, the request line among them, hold no
 * sensitive key, and copying each cost an allocation per line).
 */
export function redactSensitive(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return serializeError(value);
  if (SERIALIZED_ERROR in value) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const redacted = redactSensitive(item, depth + 1);
      if (redacted !== item) (copy ??= [...(value as unknown[])])[i] = redacted;
    });
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const [key, field] of Object.entries(value)) {
    const redacted = isSensitiveKey(key) ? REDACTED : redactSensitive(field, depth + 1);
    if (redacted !== field) (copy ??= { ...value })[key] = redacted;
  }
  return copy ?? value;
}

// Marks what serializeError made: its fields are chosen, and an error `code` is not a TOTP code.
const SERIALIZED_ERROR = Symbol('serialized error');

// Schema names a database error may carry: useful to read, never a value.
const ERROR_FIELDS = ['code', 'status', 'constraint', 'table', 'column'] as const;

/**
 * An error as a log line may hold it: its type, message, stack and a few named fields, its
 * cause the same way. Libraries hang other things on errors (a body parser's `err.body` is
 * the raw request, passwords included), so nothing else is copied.
 */
export function serializeError(error: Error, depth = 0): Record<string, unknown> {
  const fields = error as unknown as Record<string, unknown>;
  const logged: Record<string | symbol, unknown> = {
    [SERIALIZED_ERROR]: true,
    type: error.name,
    message: error.message,
    stack: error.stack,
  };
  for (const field of ERROR_FIELDS) {
    if (typeof fields[field] === 'string' || typeof fields[field] === 'number') logged[field] = fields[field];
  }
  if (depth < 3 && error.cause instanceof Error) logged.cause = serializeError(error.cause, depth + 1);
  if (depth < 3 && error instanceof AggregateError)
    logged.errors = error.errors.map((inner: unknown) =>
      inner instanceof Error ? serializeError(inner, depth + 1) : String(inner),
    );
  return logged;
}
