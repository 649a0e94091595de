// The drill's synthetic admins, over HTTP against the replicas' public ports as the ingress
// forwards a browser (X-Forwarded-Proto https, one client address each). Each admin signs in
// with password and a second factor, keeps using the session on whichever replica the "load
// balancer" picks, and now and then signs out, revokes their other sessions or signs in once too
// often (the concurrent-session limit evicts the oldest). A 401 on a session that should be live
// is a forced re-login; a 200 on one that was signed out, revoked or evicted is a logout undone.
import { totpCodeAt, totpStepAt } from '@portcullis/crypto';
import type { SeededAdmin } from './seed.js';

/** SESSION_IDLE_TIMEOUT_SECONDS of the drill: the smallest libs/config allows (60) plus room for the guard's one-minute lastSeenAt granularity. */
export const IDLE_SECONDS = 70;
/** SESSION_MAX_CONCURRENT of the drill (SESSION_CONCURRENCY_MODE evict-oldest, the default). */
export const MAX_CONCURRENT = 3;
const COOKIE = '__Host-portcullis.sid';
const REQUEST_TIMEOUT_MS = 10_000;

export interface Totals {
  forcedRelogins: number;
  logoutsUndone: number;
  /** Answers other than the expected 200/401, and requests that failed (connection, timeout). */
  requestErrors: number;
  /**
   * Requests sent again once after the service's designed overload answer (503 with Retry-After,
   * the password-hashing queue) or a timeout on a loaded machine, as a browser's user would: only
   * a second failure is a request error.
   */
  requestsRetried: number;
  signIns: number;
  requests: number;
}

export const emptyTotals = (): Totals => ({
  forcedRelogins: 0,
  logoutsUndone: 0,
  requestErrors: 0,
  requestsRetried: 0,
  signIns: 0,
  requests: 0,
});

/** One browser: its cookie jar, whose session it holds and since when. */
export interface Browser {
  admin: SeededAdmin;
  ip: string;
  jar: Map<string, string>;
  /** Drill time (ms) the session was created: eviction takes the oldest. */
  createdAt: number;
  lastUsed: number;
}

export const sessionIdOf = (browser: Browser) => browser.jar.get(COOKIE);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;

/** HTTP to one deployment: `replicas()` are the public URLs of the pods behind the load balancer now. */
export class Client {
  private readonly usedSteps = new Map<string, number>();

  constructor(
    readonly tenant: string,
    readonly replicas: () => string[],
    readonly totals: Totals,
    private readonly note: (kind: string, detail: unknown) => void,
  ) {}

  async request(
    browser: Browser,
    method: string,
    path: string,
    options: { body?: unknown; on?: string } = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const url = options.on ?? pick(this.replicas());
    this.totals.requests++;
    let answer = await this.send(browser, url, method, path, options.body);
    if (answer.retryAfterMs !== undefined) {
      this.totals.requestsRetried++;
      this.note('request retried', { method, path, status: answer.status, error: answer.error });
      await sleep(answer.retryAfterMs);
      answer = await this.send(browser, url, method, path, options.body);
    }
    if (answer.error !== undefined || (answer.status !== 200 && answer.status !== 401)) {
      this.totals.requestErrors++;
      this.note('request error', { method, path, status: answer.status, code: answer.body.code, error: answer.error });
    }
    return { status: answer.status, body: answer.body };
  }

  /** One HTTP exchange; `retryAfterMs` when it may be sent again (503 + Retry-After, or a timeout). */
  private async send(
    browser: Browser,
    url: string,
    method: string,
    path: string,
    body: unknown,
  ): Promise<{ status: number; body: Record<string, unknown>; error?: string; retryAfterMs?: number }> {
    try {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          'x-forwarded-proto': 'https',
          'x-forwarded-for': browser.ip,
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...(browser.jar.size > 0
            ? { cookie: [...browser.jar].map(([name, value]) => `${name}=${value}`).join('; ') }
            : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      for (const cookie of response.headers.getSetCookie()) {
        const [pair = '', ...attributes] = cookie.split(';');
        const [name = '', value = ''] = pair.split('=');
        if (value === '' || attributes.some((attribute) => /expires=Thu, 01 Jan 1970/i.test(attribute)))
          browser.jar.delete(name.trim());
        else browser.jar.set(name.trim(), value);
      }
      const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      const retryAfter = Number(response.headers.get('retry-after'));
      return {
        status: response.status,
        body: json,
        ...(response.status === 503 && retryAfter > 0 ? { retryAfterMs: Math.min(retryAfter, 5) * 1000 } : {}),
      };
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      return { status: 0, body: {}, error: String(error), ...(timedOut ? { retryAfterMs: 1000 } : {}) };
    }
  }

  /** Password, then a TOTP code (one per admin and 30-s step, as the service accepts) or a recovery code. */
  async signIn(admin: SeededAdmin, on?: string): Promise<Browser> {
    const ip = `198.51.100.${1 + Math.floor(Math.random() * 250)}`;
    const browser: Browser = { admin, ip, jar: new Map(), createdAt: Date.now(), lastUsed: Date.now() };
    const password = await this.request(browser, 'POST', '/auth/login', {
      body: { tenant: this.tenant, email: admin.email, password: admin.password },
      ...(on ? { on } : {}),
    });
    if (password.status !== 200)
      throw new Error(`sign-in of ${admin.email} refused: ${password.status} ${JSON.stringify(password.body)}`);
    const step = totpStepAt(Date.now());
    let code: string;
    if (this.usedSteps.get(admin.id) !== step) {
      this.usedSteps.set(admin.id, step);
      code = totpCodeAt(admin.totpSecret, step);
    } else {
      code = admin.recoveryCodes.pop() ?? '';
    }
    const second = await this.request(browser, 'POST', '/auth/mfa/verify', { body: { code }, ...(on ? { on } : {}) });
    if (second.status !== 200)
      throw new Error(`second factor of ${admin.email} refused: ${second.status} ${JSON.stringify(second.body)}`);
    browser.createdAt = browser.lastUsed = Date.now();
    this.totals.signIns++;
    return browser;
  }

  /** GET /auth/me: 200 signed in, 401 not. */
  async me(browser: Browser, on?: string): Promise<number> {
    const { status } = await this.request(browser, 'GET', '/auth/me', on ? { on } : {});
    if (status === 200) browser.lastUsed = Date.now();
    return status;
  }
}

/** The synthetic admins of one deployment, working in rounds until stopped. */
export class Admins {
  private live: Browser[] = [];
  private readonly gone: Browser[] = [];
  private round = 0;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly client: Client,
    private readonly admins: SeededAdmin[],
    private readonly note: (kind: string, detail: unknown) => void,
  ) {}

  get tracked(): number {
    return this.live.length + this.gone.length;
  }

  /** One round: every session used once, a sign-out, now and then a revoke-others or one sign-in too many; the newest logged-out sessions tried. */
  async work(): Promise<void> {
    const { client } = this;
    this.round++;
    for (const admin of this.admins)
      if (!this.live.some((browser) => browser.admin === admin)) this.live.push(await client.signIn(admin));
    for (const browser of [...this.live]) {
      const status = await client.me(browser);
      if (status !== 401) continue;
      client.totals.forcedRelogins++;
      this.note('forced re-login', { admin: browser.admin.email, idleMs: Date.now() - browser.lastUsed });
      this.live.splice(this.live.indexOf(browser), 1);
      this.live.push(await client.signIn(browser.admin));
    }
    if (this.round % 2 === 0) {
      const leaving = pick(this.live);
      const jar = new Map(leaving.jar); // the cookie the browser had: logout clears it
      const { status } = await client.request(leaving, 'POST', '/auth/logout', { body: {} });
      if (status === 200) this.end(leaving, jar);
    }
    if (this.round % 5 === 0) {
      // One sign-in past the limit: the service ends this admin's oldest session (evict-oldest).
      const admin = pick(this.admins);
      const held = this.live.filter((browser) => browser.admin === admin).sort((a, b) => a.createdAt - b.createdAt);
      const fresh = await client.signIn(admin);
      this.live.push(fresh);
      if (held.length >= MAX_CONCURRENT) this.end(held[0]!);
    }
    if (this.round % 7 === 0) {
      const admin = pick(this.admins);
      const held = this.live.filter((browser) => browser.admin === admin);
      if (held.length > 0) {
        const keeper = held[held.length - 1]!;
        const { status } = await client.request(keeper, 'POST', '/auth/sessions/revoke-others', { body: {} });
        if (status === 200) {
          keeper.createdAt = Date.now();
          for (const other of held) if (other !== keeper) this.end(other);
        }
      }
    }
    for (const browser of this.gone.slice(-8)) {
      // A copy: the 401 clears the cookie, and the next round must send the old one again.
      if ((await client.me({ ...browser, jar: new Map(browser.jar) })) !== 200) continue;
      client.totals.logoutsUndone++;
      this.note('logout undone', { admin: browser.admin.email });
    }
  }

  /** Every session ever signed out, revoked or evicted, tried once more (after each rollout). */
  async checkAllGone(): Promise<void> {
    for (const browser of [...this.gone]) {
      if ((await this.client.me({ ...browser, jar: new Map(browser.jar) })) !== 200) continue;
      this.client.totals.logoutsUndone++;
      this.note('logout undone', { admin: browser.admin.email });
    }
  }

  private end(browser: Browser, jar = browser.jar): void {
    this.live = this.live.filter((other) => other !== browser);
    this.gone.push({ ...browser, jar: new Map(jar) });
  }

  /** Rounds without pause between them (300 ms apart) until stop(). */
  start(): void {
    this.stopping = false;
    this.running ??= (async () => {
      while (!this.stopping) {
        await this.work().catch((error: unknown) => {
          this.client.totals.requestErrors++;
          this.note('workload error', { error: String(error) });
        });
        await sleep(300);
      }
    })().finally(() => (this.running = undefined));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }
}
