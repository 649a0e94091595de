// The simulated admins: each knows its password and TOTP secret (an authenticator app,
// totp.ts), signs in through the JSON API, and the soak keeps a ledger of every session it holds
// and every audited action a response acknowledged.
import { randomBytes } from 'node:crypto';
import type { Cluster } from './cluster.js';
import { Jar, send, sleep, type Reply } from './http.js';
import { totpCode } from '../../test/support/authenticator.js';

export type SessionState = 'live' | 'signed_out' | 'revoked' | 'superseded';

export interface HeldSession {
  admin: Admin;
  /** A copy of the browser's cookies for this session id. */
  jar: Jar;
  id: string;
  state: SessionState;
  why: string;
}

export interface Ledger {
  sessions: HeldSession[];
  /** Audited actions a 2xx response acknowledged: the event must be in audit_events. */
  acknowledged: { requestId: string; action: string }[];
}

export const newLedger = (): Ledger => ({ sessions: [], acknowledged: [] });

const STEP_MS = 30_000;

export class Admin {
  /** Highest TOTP step this admin's codes used: the service refuses a step twice. */
  private lastStep = 0;
  secret = '';

  constructor(
    readonly email: string,
    public password: string,
    readonly tenant: string | undefined,
    /** Its own client address behind the ingress, so per-IP budgets stay per admin. */
    readonly ip: string,
  ) {}

  /** The code of the next unused TOTP step; waits (at most one step) for it. */
  async nextCode(): Promise<string> {
    for (;;) {
      const step = Math.floor(Date.now() / STEP_MS);
      if (step > this.lastStep) {
        this.lastStep = step;
        return totpCode(this.secret, step);
      }
      await sleep((step + 1) * STEP_MS - Date.now() + 50);
    }
  }

  /** Seconds until a new code is available (0: now). */
  get codeWaitMs(): number {
    const step = Math.floor(Date.now() / STEP_MS);
    return step > this.lastStep ? 0 : (step + 1) * STEP_MS - Date.now() + 50;
  }

  request(
    cluster: Cluster,
    jar: Jar,
    method: string,
    path: string,
    json?: unknown,
    userAgent?: string,
  ): Promise<Reply> {
    return send(cluster, jar, method, path, { ip: this.ip, json, ...(userAgent ? { userAgent } : {}) });
  }

  private loginBody() {
    return { ...(this.tenant ? { tenant: this.tenant } : {}), email: this.email, password: this.password };
  }

  /**
   * First sign-in of a new admin: temporary password, enrol TOTP, choose a password. Retried
   * (bounded) since it runs before the faults but on a loaded machine.
   */
  async firstSignIn(cluster: Cluster, ledger: Ledger): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const jar = new Jar();
        const login = await this.request(cluster, jar, 'POST', '/auth/login', this.loginBody());
        expectStatus(login, 200, 'password step');
        if (login.body.next === 'enroll-mfa') {
          const offer = await this.request(cluster, jar, 'GET', '/auth/mfa/enroll');
          expectStatus(offer, 200, 'enrolment offer');
          this.secret = String(offer.body.secret);
          expectStatus(
            await this.request(cluster, jar, 'POST', '/auth/mfa/enroll', { code: await this.nextCode() }),
            200,
            'enrolment',
          );
        } else {
          expectStatus(
            await this.request(cluster, jar, 'POST', '/auth/mfa/verify', { code: await this.nextCode() }),
            200,
            'second factor',
          );
        }
        const password = `Soak-${randomBytes(15).toString('base64url')}`;
        expectStatus(
          await this.request(cluster, jar, 'POST', '/auth/password', {
            currentPassword: this.password,
            newPassword: password,
          }),
          200,
          'password change',
        );
        this.password = password;
        ledger.sessions.push({
          admin: this,
          jar: jar.clone(),
          id: jar.sessionId!,
          state: 'live',
          why: 'first sign-in',
        });
        return;
      } catch (error) {
        if (attempt >= 3) throw error;
        await sleep(1000);
      }
    }
  }

  /**
   * Password + TOTP. Returns the held session when the second factor was acknowledged (and
   * records its auth.mfa_verified event as owed), undefined when any step failed.
   */
  async signIn(cluster: Cluster, ledger: Ledger, why: string): Promise<HeldSession | undefined> {
    const jar = new Jar();
    const login = await this.request(cluster, jar, 'POST', '/auth/login', this.loginBody());
    if (login.status !== 200) return undefined;
    const verify = await this.request(cluster, jar, 'POST', '/auth/mfa/verify', { code: await this.nextCode() });
    if (verify.status !== 200 || !jar.sessionId) return undefined;
    ledger.acknowledged.push({ requestId: verify.requestId, action: 'auth.mfa_verified' });
    const held: HeldSession = { admin: this, jar: jar.clone(), id: jar.sessionId, state: 'live', why };
    ledger.sessions.push(held);
    return held;
  }

  /** Signs a held session out; only an acknowledged logout changes its state in the ledger. */
  async signOut(cluster: Cluster, ledger: Ledger, held: HeldSession): Promise<boolean> {
    const reply = await this.request(cluster, held.jar.clone(), 'POST', '/auth/logout');
    if (reply.status !== 200) return false;
    held.state = 'signed_out';
    ledger.acknowledged.push({ requestId: reply.requestId, action: 'auth.logout' });
    return true;
  }
}

export function expectStatus(reply: Reply, status: number, what: string): void {
  if (reply.status !== status) {
    throw new Error(
      `${what}: expected ${status}, got ${reply.status} ${reply.error ?? JSON.stringify(reply.body).slice(0, 200)} (${reply.replica})`,
    );
  }
}
