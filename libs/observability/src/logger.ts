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

/** What a buffered stdout holds back at most: characters (bytes, for the ASCII lines it mostly holds), and milliseconds for a quiet service. */
export const LOG_BUFFER = { characters: 4096, flushMs: 1000 } as const;

/**
 * The services' stdout: lines gathered and written about 4 KB at a time, and at least every
 * second, instead of one write (a system call) per line, which cost more than building the
 * line. Written synchronously (sonic-boom), so a write never waits behind password hashing on
 * libuv's threads; flushed when the process exits, also on a crash that runs `exit` handlers,
 * and by `logger.flush()`. What a SIGKILL (an OOM kill) loses is at most the last second or
 * 4 KB of lines (docs/performance.md). The lines are gathered here, joined once per write:
 * sonic-boom's own `minLength` appends each line to one string and measures that whole string
 * again on every line (0.8 µs per line against 0.2 here). One per process: it registers an
 * exit handler.
 */
export function bufferedStdout(): DestinationStream & { flush(done?: () => void): void } {
  const stdout = pino.destination({ dest: 1, sync: true });
  const pending: string[] = [];
  let length = 0;
  const flush = () => {
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending.length = 0;
    length = 0;
    stdout.write(chunk);
  };
  setInterval(flush, LOG_BUFFER.flushMs).unref();
  process.once('exit', flush);
  return {
    write(line: string) {
      pending.push(line);
      length += line.length;
      if (length >= LOG_BUFFER.characters) flush();
    },
    flush(done) {
      flush();
      done?.();
    },
  };
}

let formattedAt = Number.NaN;
let formatted = '';
/** pino's isoTime, formatted once per millisecond: under load most lines share their millisecond. */
function isoTime(): string {
  const now = Date.now();
  if (now !== formattedAt) {
    formattedAt = now;
    formatted = `,"time":"${new Date(now).toISOString()}"`;
  }
  return formatted;
}

/** JSON logger with redaction of passwords, codes, secrets, keys, cookies and `previous_*`. */
export function createLogger({ service, level = 'info', destination }: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    timestamp: isoTime,
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

/** The fields of the one line each request logs. */
export interface RequestLine {
  requestId: string;
  method: string;
  /** The route template; undefined when no route matched. */
  route: string | undefined;
  status: number;
  durationMs: number;
}

/**
 * Writes the request line of a logger made by createLogger, in the format of its other lines
 * (level, time, bindings, fields, msg), straight to its destination. The fields are fixed and
 * none can hold a secret (the request id is checked or generated, the route is a template), so
 * the line skips pino's generic path (the redaction walk, a serialiser per key), which cost
 * more than the rest of the line; strings are still JSON-escaped.
 */
export function requestLineWriter(logger: Logger): (line: RequestLine) => void {
  const destination = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  if (!destination) throw new Error('requestLineWriter needs a logger made by createLogger');
  const bindings = Object.entries(logger.bindings())
    .map(([key, value]) => `,${JSON.stringify(key)}:${JSON.stringify(value)}`)
    .join('');
  const routes = new Map<string, string>();
  const routeField = (route: string) => {
    let field = routes.get(route);
    if (field === undefined) {
      if (routes.size >= 1_000) routes.clear();
      routes.set(route, (field = `,"route":${JSON.stringify(route)}`));
    }
    return field;
  };
  return ({ requestId, method, route, status, durationMs }) => {
    if (!logger.isLevelEnabled('info')) return;
    destination.write(
      `{"level":"info"${isoTime()}${bindings},"requestId":${JSON.stringify(requestId)},"method":${JSON.stringify(method)}${
        route === undefined ? '' : routeField(route)
      },"status":${status},"durationMs":${durationMs},"msg":"request"}\n`,
    );
  };
}
