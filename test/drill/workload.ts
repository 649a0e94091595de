// The drill's synthetic admins. Each keeps a session and uses it on whichever replica the load
// balancer picks (a read, then the save that moves lastSeenAt); some sign out, some revoke all
// their sessions. A session that is gone while its admin still holds it is a forced re-login; a
// signed-out session that any replica still serves is a logout undone. Time is the drill's clock,
// so one idle timeout passes in a moment.
import { randomBytes } from 'node:crypto';
import type { Clock, SessionData, SessionStore } from '@portcullis/session-store';

/** SESSION_IDLE_TIMEOUT_SECONDS (the default, 30 min): every save sets expiry = now + this. */
export const IDLE_MS = 30 * 60_000;

export class DrillClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface Totals {
  forcedRelogins: number;
  logoutsUndone: number;
}

const newId = () => randomBytes(32).toString('base64url');
const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;

export class Admins {
  tracked = 0;
  private readonly live = new Map<string, SessionData & { userId: string }>();
  private readonly gone: string[] = [];
  private readonly names: string[];
  private round = 0;

  constructor(
    prefix: string,
    count: number,
    readonly totals: Totals,
  ) {
    this.names = Array.from({ length: count }, (_, index) => `${prefix}-admin-${index}`);
  }

  private async signIn(store: SessionStore, userId: string): Promise<void> {
    const id = newId();
    const session = { userId, signedInAt: Date.now() };
    await store.set(id, session, IDLE_MS);
    this.live.set(id, session);
    this.tracked++;
  }

  /** `rounds` rounds of every admin using their session, with sign-outs, revocations and checks. */
  async work(stores: SessionStore[], rounds: number): Promise<void> {
    for (let done = 0; done < rounds; done++) {
      this.round++;
      const holders = new Set([...this.live.values()].map((session) => session.userId));
      for (const name of this.names) if (!holders.has(name)) await this.signIn(pick(stores), name);
      for (const [id, session] of [...this.live]) {
        const store = pick(stores);
        if (!(await store.get(id))) {
          this.totals.forcedRelogins++;
          this.live.delete(id);
          await this.signIn(store, session.userId);
        } else {
          await store.set(id, session, IDLE_MS, { rolling: false, changed: true });
        }
      }
      // One admin signs out; every third round another revokes all of theirs ("sign out everywhere").
      const [leaving] = [...this.live.keys()].slice(Math.floor(Math.random() * this.live.size));
      if (leaving) {
        await pick(stores).destroy(leaving);
        this.live.delete(leaving);
        this.gone.push(leaving);
      }
      if (this.round % 3 === 0) {
        const admin = pick(this.names);
        await pick(stores).destroyByUser(admin);
        for (const [id, session] of [...this.live]) {
          if (session.userId !== admin) continue;
          this.live.delete(id);
          this.gone.push(id);
        }
      }
      for (const id of this.gone.slice(-40)) if (await pick(stores).get(id)) this.totals.logoutsUndone++;
    }
  }

  /** Keeps every live session in use while `ms` of drill time passes (the wait before cutover). */
  async idle(stores: SessionStore[], clock: DrillClock, ms: number): Promise<void> {
    for (let step = 0; step < 4; step++) {
      clock.advance(ms / 4);
      await this.work(stores, 1);
    }
  }

  /**
   * The checklist's checks after the store read first changed, on the new store through every
   * replica: the concurrent-session limit sees all of an admin's sessions, an idle session
   * expires, and "sign out everywhere" ends them on every replica. Returns what failed.
   */
  static async postSwitchChecks(stores: SessionStore[], clock: DrillClock): Promise<string[]> {
    const failed: string[] = [];
    const admin = `post-switch-${newId().slice(0, 8)}`;
    const ids = [newId(), newId(), newId()];
    for (const [index, id] of ids.entries()) await stores[index % stores.length]!.set(id, { userId: admin }, IDLE_MS);
    for (const store of stores)
      if ((await store.listByUser(admin)).length !== ids.length)
        failed.push('concurrent-session limit: an admin’s sessions are not all listed on every replica');
    const idle = newId();
    await stores[0]!.set(idle, { userId: `${admin}-idle` }, 60_000);
    clock.advance(61_000);
    for (const store of stores)
      if (await store.get(idle)) failed.push('idle timeout: a session idle past its timeout is still served');
    await stores[stores.length - 1]!.destroyByUser(admin);
    for (const store of stores) {
      if (
        (await store.listByUser(admin)).length > 0 ||
        (await Promise.all(ids.map((id) => store.get(id)))).some(Boolean)
      )
        failed.push('sign out everywhere: a revoked session is still served');
    }
    return failed;
  }
}
