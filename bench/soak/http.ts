// The soak's HTTP client: a cookie jar per browser session, the X-Forwarded-* headers an ingress
// would set (TRUSTED_PROXY_HOPS=1: the service believes the last X-Forwarded-For entry), our own
// x-request-id so audit events can be matched to the responses that acknowledged them, and a
// record of every request for the error rates and the drain check.
import { randomUUID } from 'node:crypto';
import type { Cluster, Replica, ServiceName } from './cluster.js';

export const SESSION_COOKIE = '__Host-portcullis.sid';
const TIMEOUT_MS = 15_000;

export interface RequestRecord {
  /** performance.now() when the request was dispatched and when it ended. */
  start: number;
  end: number;
  service: ServiceName;
  replica: string;
  method: string;
  path: string;
  /** 0: no HTTP response (connection refused or reset, timeout). */
  status: number;
  error?: string;
  probe: boolean;
}

export const requestLog: RequestRecord[] = [];

export class Jar {
  private readonly cookies = new Map<string, string>();
  take(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      // koa-session clears a destroyed session with an empty value and a past expiry.
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  get header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  /** The session id the browser holds, or undefined. */
  get sessionId(): string | undefined {
    return this.cookies.get(SESSION_COOKIE);
  }
  clone(): Jar {
    const copy = new Jar();
    for (const [name, value] of this.cookies) copy.cookies.set(name, value);
    return copy;
  }
}

export interface Reply {
  status: number;
  body: Record<string, unknown>;
  requestId: string;
  replica: string;
  error?: string;
}

export interface SendOptions {
  json?: unknown;
  /** The client address the ingress appends to X-Forwarded-For. */
  ip: string;
  userAgent?: string;
  /** Bypass the balancer (the drain scenario aims requests at one replica). */
  replica?: Replica;
  probe?: boolean;
}

const serviceOf = (path: string): ServiceName =>
  path.startsWith('/admin') ? 'mfa-admin' : path.startsWith('/audit') ? 'audit-log' : 'auth-session';

export async function send(
  cluster: Cluster,
  jar: Jar,
  method: string,
  path: string,
  options: SendOptions,
): Promise<Reply> {
  const service = serviceOf(path);
  const replica = options.replica ?? cluster.pick(service);
  const requestId = randomUUID();
  const record: RequestRecord = {
    start: performance.now(),
    end: 0,
    service,
    replica: replica?.name ?? 'none',
    method,
    path,
    status: 0,
    probe: !!options.probe,
  };
  requestLog.push(record);
  const finish = (reply: Omit<Reply, 'requestId' | 'replica'>): Reply => {
    record.end = performance.now();
    record.status = reply.status;
    if (reply.error) record.error = reply.error;
    return { ...reply, requestId, replica: record.replica };
  };
  if (!replica) return finish({ status: 0, body: {}, error: 'no replica in rotation' });
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  try {
    const response = await fetch(`${replica.process.url}${path}`, {
      method,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: {
        accept: 'application/json',
        'x-request-id': requestId,
        'x-forwarded-proto': 'https',
        'x-forwarded-for': options.ip,
        'user-agent': options.userAgent ?? 'portcullis-soak',
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(jar.header ? { cookie: jar.header } : {}),
      },
      ...(body ? { body } : {}),
    });
    const text = await response.text();
    jar.take(response.headers);
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { text: text.slice(0, 200) };
    }
    return finish({ status: response.status, body: parsed });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return finish({ status: 0, body: {}, error: cause ?? (error as Error).name });
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
