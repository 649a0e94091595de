// Sensitive fields never reach a log line. pino's path-based `redact` cannot express
// "every key starting with previous_", so keys are matched by pattern on the way out.
const SENSITIVE_KEY = /^previous_|password|passwd|secret|totp|otp$|^code$|recovery|token|api[-_]?key|encryption[-_]?key|private[-_]?key|^key$|^keys$|cookie|authorization|credential|session[-_]?id|^sid$/i;

export const REDACTED = '[redacted]';

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

/** Returns a copy of `value` with every sensitive key's value replaced, at any depth. */
export function redactSensitive(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item) => redactSensitive(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    copy[key] = isSensitiveKey(key) ? REDACTED : redactSensitive(field, depth + 1);
  }
  return copy;
}
