// What must hold once the faults are over: sessions (alive exactly when they should be), audit
// (chain intact with the key ring, every acknowledged event present), MFA resets (never half
// applied). Reads the database directly, as an auditor would.
import knex, { type Knex } from 'knex';
import { listChainKeys, verifyChain } from '@portcullis/audit';
import { createKeyRing } from '@portcullis/crypto';
import type { Cluster } from './cluster.js';
import type { HeldSession, Ledger } from './actors.js';
import type { Population, ResetOutcome } from './workload.js';
import { sleep } from './http.js';

export interface CheckResult {
  sessionsChecked: number;
  sessionsLost: HeldSession[];
  sessionsResurrected: HeldSession[];
  /** Neither 200 nor 401 after retries: counted as a failure of the check, listed apart. */
  sessionsUnanswered: HeldSession[];
  eventsChecked: number;
  eventsLost: { requestId: string; action: string }[];
  chainsChecked: number;
  chainBreaks: string[];
  resetsChecked: number;
  halfApplied: string[];
}

/** GET /auth/me until a 200 or 401 (a 5xx or no answer is retried a few times). */
async function meStatus(cluster: Cluster, held: HeldSession): Promise<number> {
  let status = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    status = (await held.admin.request(cluster, held.jar.clone(), 'GET', '/auth/me')).status;
    if (status === 200 || status === 401) return status;
    await sleep(1000);
  }
  return status;
}

async function checkSessions(cluster: Cluster, ledger: Ledger, result: CheckResult): Promise<void> {
  const queue = [...ledger.sessions];
  result.sessionsChecked = queue.length;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      for (let held = queue.shift(); held; held = queue.shift()) {
        const status = await meStatus(cluster, held);
        if (status !== 200 && status !== 401) result.sessionsUnanswered.push(held);
        else if (held.state === 'live' && status !== 200) result.sessionsLost.push(held);
        else if (held.state !== 'live' && status === 200) result.sessionsResurrected.push(held);
      }
    }),
  );
}

async function checkAudit(db: Knex, cluster: Cluster, ledger: Ledger, result: CheckResult): Promise<void> {
  const found = new Set<string>();
  const ids = [...new Set(ledger.acknowledged.map((event) => event.requestId))];
  for (let i = 0; i < ids.length; i += 500) {
    const rows: { request_id: string; action: string }[] = await db('audit_events')
      .whereIn('request_id', ids.slice(i, i + 500))
      .select('request_id', 'action');
    for (const row of rows) found.add(`${row.request_id} ${row.action}`);
  }
  result.eventsChecked = ledger.acknowledged.length;
  result.eventsLost = ledger.acknowledged.filter((event) => !found.has(`${event.requestId} ${event.action}`));

  const keys = createKeyRing({
    primary: { name: 'AUDIT_DETAILS_ENCRYPTION_KEY', value: cluster.env.AUDIT_DETAILS_ENCRYPTION_KEY! },
  });
  const chains = await listChainKeys(db);
  result.chainsChecked = chains.length;
  for (const chain of chains) {
    const report = await verifyChain(db, chain, { keys });
    if (!report.ok)
      result.chainBreaks.push(`${chain}: ${report.firstBreak?.reason ?? 'not ok'} at ${report.firstBreak?.seq ?? '?'}`);
  }
}

/**
 * A reset is whole when the admin row matches the newest log row: rolled back → the factor is
 * back (and the authenticator from before the reset signs in), not rolled back → no factor.
 * Every older reset must be rolled back, and every acknowledged step must be in the log.
 */
async function checkResets(
  db: Knex,
  cluster: Cluster,
  ledger: Ledger,
  population: Population,
  outcomes: ResetOutcome[],
  result: CheckResult,
): Promise<void> {
  for (const target of population.targets) {
    const logs: { id: string; rolled_back_at: unknown }[] = await db('tenant_admin_mfa_reset_logs')
      .where({ tenant_admin_id: target.adminId })
      .orderBy('id', 'asc')
      .select('id', 'rolled_back_at');
    const admin: { mfa_enabled: boolean; totp_secret: string | null } | undefined = await db('tenant_admins')
      .where({ id: target.adminId })
      .first('mfa_enabled', 'totp_secret');
    result.resetsChecked += logs.length;
    const label = target.admin.email;
    if (!admin) {
      result.halfApplied.push(`${label}: admin row missing`);
      continue;
    }
    logs
      .slice(0, -1)
      .forEach(
        (log) =>
          log.rolled_back_at === null &&
          result.halfApplied.push(`${label}: reset ${log.id} still applied under a newer reset`),
      );
    const newest = logs.at(-1);
    const factorBack = admin.mfa_enabled && admin.totp_secret !== null;
    const factorGone = !admin.mfa_enabled && admin.totp_secret === null;
    if (newest && newest.rolled_back_at === null && !factorGone)
      result.halfApplied.push(`${label}: reset ${newest.id} logged but the factor is still set`);
    if ((!newest || newest.rolled_back_at !== null) && !factorBack)
      result.halfApplied.push(`${label}: rolled back but the factor is not restored`);
    for (const outcome of outcomes.filter((candidate) => candidate.adminId === target.adminId)) {
      const log = logs.find((row) => String(row.id) === outcome.logId);
      if (!log) result.halfApplied.push(`${label}: acknowledged reset ${outcome.logId} not in the log`);
      else if (outcome.rolledBack && log.rolled_back_at === null)
        result.halfApplied.push(`${label}: acknowledged rollback of ${outcome.logId} not in the log`);
    }
    // The proof a rollback restored exactly the old factor: the old authenticator works.
    if (factorBack) {
      let held: HeldSession | undefined;
      for (let attempt = 0; attempt < 2 && !held; attempt++)
        held = await target.admin.signIn(cluster, ledger, 'after rollback');
      if (!held)
        result.halfApplied.push(
          `${label}: the authenticator from before the reset does not sign in after the rollback`,
        );
    }
  }
}

export async function runChecks(
  cluster: Cluster,
  ledger: Ledger,
  population: Population,
  outcomes: ResetOutcome[],
): Promise<CheckResult> {
  const result: CheckResult = {
    sessionsChecked: 0,
    sessionsLost: [],
    sessionsResurrected: [],
    sessionsUnanswered: [],
    eventsChecked: 0,
    eventsLost: [],
    chainsChecked: 0,
    chainBreaks: [],
    resetsChecked: 0,
    halfApplied: [],
  };
  const db = knex({ client: 'pg', connection: cluster.backends.database.url, pool: { min: 0, max: 2 } });
  try {
    // Resets first: the sign-in that proves a rollback adds a session and an event to check.
    await checkResets(db, cluster, ledger, population, outcomes, result);
    await checkSessions(cluster, ledger, result);
    await checkAudit(db, cluster, ledger, result);
  } finally {
    await db.destroy();
  }
  return result;
}
