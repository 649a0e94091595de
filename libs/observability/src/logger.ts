import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { REDACTED, redactSensitive, serializeError } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerSettings {
  service: string;
  level?: LoggerOptions['level'];
  /** Where lines go; stdout by default. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

/** JSON logger with redaction of passwords, codes, secrets, keys, cookies and `previous_*`. */
export function createLogger({ service, level = 'info', destination }: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Header paths are fixed, so pino's compiled redaction handles them cheaply.
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'headers.authorization',
        'headers.cookie',
      ],
      censor: REDACTED,
    },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => redactSensitive(object) as Record<string, unknown>,
    },
    serializers: {
      err: (value: unknown) => (value instanceof Error ? serializeError(value) : redactSensitive(value)),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
