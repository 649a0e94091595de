// What the simulated admins do: provisioning through the API (the platform admin creates the
// tenants and their admins, who enrol TOTP and choose a password), then bounded loops of
// sign-ins, session use and sign-outs, and the platform admin's MFA reset + rollback cycles.
import type { Cluster } from './cluster.js';
import { Admin, expectStatus, type HeldSession, type Ledger } from './actors.js';
import { send, sleep, type Jar } from './http.js';

export interface Population {
  platform: Admin;
  /** The platform admin's console session (re-authenticates for resets). */
  ops: HeldSession;
  /** A second platform session the recovery prober uses. */
  probe: HeldSession;
  tenantAdmins: Admin[];
  /** Tenant admins whose MFA the platform admin resets and rolls back (no other workload). */
  targets: { admin: Admin; tenantId: string; adminId: string }[];
}

const TENANTS = 4;

export async function provision(cluster: Cluster, ledger: Ledger, admins: number): Promise<Population> {
  const { email, password } = cluster.backends.admin;
  const platform = new Admin(email, password, undefined, '198.51.100.1');
  await platform.firstSignIn(cluster, ledger);
  const ops = ledger.sessions.at(-1)!;
  ops.why = 'platform console';
  const jar = ops.jar;
  const tenantAdmins: Admin[] = [];
  const targets: Population['targets'] = [];
  let ipIndex = 10;
  for (let t = 0; t < TENANTS; t++) {
    const slug = `soak-${cluster.mode}-${t}`;
    const tenant = await platform.request(cluster, jar, 'POST', '/admin/tenants', { slug, name: `Soak tenant ${t}` });
    expectStatus(tenant, 200, 'create tenant');
    const tenantId = String((tenant.body.tenant as { id: string }).id);
    const count = Math.ceil(admins / TENANTS) + (t === 0 ? 2 : 0);
    for (let i = 0; i < count && tenantAdmins.length + targets.length < admins + 2; i++) {
      const created = await platform.request(cluster, jar, 'POST', `/admin/tenants/${tenantId}/admins`, {
        email: `admin${i}@${slug}.example`,
      });
      expectStatus(created, 200, 'create tenant admin');
      const admin = new Admin(
        `admin${i}@${slug}.example`,
        String(created.body.temporaryPassword),
        slug,
        `198.51.100.${ipIndex++}`,
      );
      if (t === 0 && i < 2)
        targets.push({ admin, tenantId, adminId: String((created.body.admin as { id: string }).id) });
      else tenantAdmins.push(admin);
    }
  }
  // First sign-ins a few at a time: each costs two argon2 hashes on a small machine.
  const everyone = [...tenantAdmins, ...targets.map((target) => target.admin)];
  for (let i = 0; i < everyone.length; i += 4)
    await Promise.all(everyone.slice(i, i + 4).map((admin) => admin.firstSignIn(cluster, ledger)));
  const probe = await platform.signIn(cluster, ledger, 'prober');
  if (!probe) throw new Error('the prober could not sign in');
  return { platform, ops, probe, tenantAdmins, targets };
}

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** One admin for the whole run: up to 3 sessions of its own, used, refreshed and signed out. */
export async function adminLoop(
  cluster: Cluster,
  ledger: Ledger,
  admin: Admin,
  deadline: number,
  stats: { unexpected401: number },
): Promise<void> {
  let signIns = 0;
  while (Date.now() < deadline) {
    const live = ledger.sessions.filter((held) => held.admin === admin && held.state === 'live');
    const canSignIn = admin.codeWaitMs === 0 && signIns < 20;
    if (
      (live.length === 0 && Date.now() + admin.codeWaitMs < deadline) ||
      (canSignIn && live.length < 3 && Math.random() < 0.2)
    ) {
      signIns++;
      await admin.signIn(cluster, ledger, 'workload');
    } else if (live.length >= 3 && Math.random() < 0.3) {
      await admin.signOut(cluster, ledger, live[0]!);
    } else if (live.length > 0) {
      const held = pick(live);
      const path = pick(['/auth/me', '/auth/me', '/auth/sessions', '/audit/events?limit=20']);
      const reply = await admin.request(cluster, held.jar.clone(), 'GET', path);
      // A live session refused mid-run: the final check says whether it came back.
      if (reply.status === 401 && held.state === 'live') stats.unexpected401++;
    }
    await sleep(400 + Math.random() * 800);
  }
}

export interface ResetOutcome {
  tenantId: string;
  adminId: string;
  logId: string;
  reset: 'acknowledged' | 'unknown';
  rolledBack: boolean;
}

/**
 * MFA reset and rollback cycles on the target admins, concurrent with the load and the faults.
 * Each step is retried until acknowledged or the deadline; what was applied is checked from the
 * database afterwards (checks.ts), so a step that failed mid-fault is not assumed either way.
 */
export class ResetCycle {
  readonly outcomes: ResetOutcome[] = [];
  readonly notes: string[] = [];
  private reauthAt = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly ledger: Ledger,
    private readonly population: Population,
  ) {}

  private get jar(): Jar {
    return this.population.ops.jar;
  }

  /** POST /auth/reauthenticate: the id changes (step-up), so the old one is recorded as superseded. */
  private async reauthenticate(deadline: number): Promise<boolean> {
    const { platform, ops } = this.population;
    while (Date.now() < deadline) {
      const before = ops.jar.clone();
      const reply = await platform.request(this.cluster, ops.jar, 'POST', '/auth/reauthenticate', {
        password: platform.password,
        code: await platform.nextCode(),
      });
      if (ops.jar.sessionId !== ops.id) {
        this.ledger.sessions.push({
          admin: platform,
          jar: before,
          id: ops.id,
          state: 'superseded',
          why: 'id regenerated at re-authentication',
        });
        ops.id = ops.jar.sessionId!;
      }
      if (reply.status === 200) {
        this.reauthAt = Date.now();
        return true;
      }
      await sleep(1000);
    }
    return false;
  }

  /** Retries a console call (re-authenticating when asked) until 200 or the deadline. */
  private async call(path: string, body: unknown, deadline: number) {
    while (Date.now() < deadline) {
      if (Date.now() - this.reauthAt > 240_000 && !(await this.reauthenticate(deadline))) break;
      const reply = await send(this.cluster, this.jar, 'POST', path, { ip: this.population.platform.ip, json: body });
      if (
        reply.status === 200 ||
        (reply.status >= 400 &&
          reply.status < 500 &&
          reply.status !== 401 &&
          reply.status !== 403 &&
          reply.status !== 429)
      )
        return reply;
      if (reply.status === 403) this.reauthAt = 0;
      await sleep(1000);
    }
    return undefined;
  }

  async run(deadline: number, maxCycles: number): Promise<void> {
    for (let cycle = 0; cycle < maxCycles && Date.now() < deadline - 40_000; cycle++) {
      const target = this.population.targets[cycle % this.population.targets.length]!;
      // A session of the target's, to be revoked by the reset.
      await target.admin.signIn(this.cluster, this.ledger, 'reset target');
      const reset = await this.call(
        `/admin/tenants/${target.tenantId}/admins/${target.adminId}/mfa/reset`,
        { reason: `soak cycle ${cycle}` },
        deadline,
      );
      if (reset?.status !== 200) {
        this.notes.push(`cycle ${cycle}: reset not acknowledged (${reset?.status ?? 'deadline'})`);
        continue;
      }
      for (const held of this.ledger.sessions)
        if (held.admin === target.admin && held.state === 'live') held.state = 'revoked';
      this.ledger.acknowledged.push({ requestId: reset.requestId, action: 'mfa.reset' });
      const logId = String((reset.body.reset as { id: string }).id);
      const outcome: ResetOutcome = {
        tenantId: target.tenantId,
        adminId: target.adminId,
        logId,
        reset: 'acknowledged',
        rolledBack: false,
      };
      this.outcomes.push(outcome);
      await this.rollback(outcome, deadline + 60_000, cycle);
    }
  }

  /** Rolls a reset back (also used after the run to finish a cycle the deadline cut). */
  async rollback(outcome: ResetOutcome, deadline: number, cycle: number | string): Promise<void> {
    const rollback = await this.call(
      `/admin/mfa-resets/${outcome.logId}/rollback`,
      { reason: `soak cycle ${cycle} rollback` },
      deadline,
    );
    if (rollback?.status !== 200) {
      this.notes.push(
        `cycle ${cycle}: rollback of ${outcome.logId} not acknowledged (${rollback?.status ?? 'deadline'})`,
      );
      return;
    }
    outcome.rolledBack = true;
    this.ledger.acknowledged.push({ requestId: rollback.requestId, action: 'mfa.reset_rolled_back' });
    const target = this.population.targets.find((candidate) => candidate.adminId === outcome.adminId)!;
    for (const held of this.ledger.sessions)
      if (held.admin === target.admin && held.state === 'live') held.state = 'revoked';
  }

  /** Rolls back every acknowledged reset still applied (the run's end can cut a cycle). */
  async finish(deadline: number): Promise<void> {
    for (const outcome of this.outcomes) if (!outcome.rolledBack) await this.rollback(outcome, deadline, 'final');
  }
}
