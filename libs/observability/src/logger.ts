import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { REDACTED, redactSensitive, serializeError } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerSettings {
  service: string;
  level?: LoggerOptions['level'];
  /**
   * Where lines go; stdout, one write per line, by default. A service passes `bufferedStdout()`;
   * tests pass a stream to read what was logged.
   */
  destination?: DestinationStream;
}

/** What a buffered stdout holds back at most: bytes, and milliseconds for a quiet service. */
export const LOG_BUFFER = { bytes: 4096, flushMs: 1000 } as const;

/**
 * The services' stdout: lines gathered and written about 4 KB at a time, and at least every
 * second, instead of one write (a system call) per line, which cost more than building the
 * line. Written synchronously, so a write never waits behind password hashing on libuv's
 * threads; flushed when the process exits, also on a crash that runs `exit` handlers. What a
 * SIGKILL (an OOM kill) loses is at most the last second or 4 KB of lines (docs/performance.md).
 * One per process: it registers an exit handler.
 */
export function bufferedStdout(): DestinationStream {
  const stream = pino.destination({
    dest: 1,
    sync: true,
    minLength: LOG_BUFFER.bytes,
    periodicFlush: LOG_BUFFER.flushMs,
  });
  process.once('exit', () => stream.flushSync());
  return stream;
}

/** pino's isoTime, formatted once per millisecond: under load most lines share their millisecond. */
function isoTimeEachMillisecond(): () => string {
  let formattedAt = Number.NaN;
  let formatted = '';
  return () => {
    const now = Date.now();
    if (now !== formattedAt) {
      formattedAt = now;
      formatted = `,"time":"${new Date(now).toISOString()}"`;
    }
    return formatted;
  };
}

/** JSON logger with redaction of passwords, codes, secrets, keys, cookies and `previous_*`. */
export function createLogger({ service, level = 'info', destination }: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    timestamp: isoTimeEachMillisecond(),
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
