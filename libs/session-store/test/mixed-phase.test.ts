// Pods of adjacent phases side by side, as during a rolling deploy, over the same real stores:
// A = knex (PostgreSQL), B = dynamodb (moto). Backs the pairs and settings of
// docs/session-cutover.md. Backfill and verify are the library functions behind
// `portcullis sessions backfill` and `portcullis sessions verify`.
// eslint-disable-next-line import-x/no-extraneous-dependencies -- test only: it proves safe the settings the config lib derives; the library itself does not depend on it
import { settingsOfPhase, type SessionPhase } from '@portcullis/config';
import {
  backfillSessions,
  createDualBackend,
  createSessionStore,
  dualOptionsOf,
  verifyStores,
  type DualBackendOptions,
  type SessionBackend,
  type SessionData,
  type SessionStore,
} from '@portcullis/session-store';
import { createSessionIdHasher } from '@portcullis/crypto';
import { realStores, type RealStore } from './backends.js';
import { newId, TestClock } from './contract.js';

const stores = realStores();
afterAll(() => stores.dispose());
const hashers = [createSessionIdHasher('phases-secret-0123456789abcdefghijklmnopq')];
/** SESSION_IDLE_TIMEOUT_SECONDS: every save sets expiry = now + this; a session in use is saved once a minute. */
const IDLE = 30 * 60_000;

type Phase = 'A' | 'dual(A→B)' | 'dual(B→A)' | 'B';
type DualSettings = Pick<DualBackendOptions, 'fallbackOnMiss' | 'readRepair' | 'secondaryMaxTtlMs'>;
/** The settings SESSION_STORE_PHASE derives for each dual phase, as the services apply them. */
const settingsOf = (phase: SessionPhase): DualSettings =>
  dualOptionsOf(settingsOfPhase({ phase, from: 'knex', to: 'dynamodb' }));
const FIRST_DUAL = settingsOf('dual-write');
const CUTOVER = settingsOf('cutover');
const RETIRING = settingsOf('retiring');

let clock: TestClock;
let a: RealStore;
let b: RealStore;
const opened: SessionBackend[] = [];
beforeEach(async () => {
  clock = new TestClock();
  [a, b] = await Promise.all([stores.create('knex'), stores.create('dynamodb')]);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((backend) => backend.close().catch(() => undefined)));
  await Promise.all([a.drop(), b.drop()]);
});

/** One pod's session store in `phase`, with its own connections to A and B. */
function pod(phase: Phase, settings: DualSettings = {}): SessionStore {
  const [first, second] = phase === 'A' || phase === 'dual(A→B)' ? [a, b] : [b, a];
  const backend = phase.startsWith('dual')
    ? createDualBackend({
        primary: first.connect(clock),
        secondary: second.connect(clock),
        clock,
        repairIntervalMs: 3_600_000,
        ...settings,
      })
    : first.connect(clock);
  opened.push(backend);
  return createSessionStore({ backend, hashers, clock, defaultTtlMs: IDLE });
}

/** A direct connection to one store, for backfill and verify. */
function direct(store: RealStore): SessionBackend {
  const backend = store.connect(clock);
  opened.push(backend);
  return backend;
}

/** What every pod must answer: live sessions by id, and the ids that were logged out. */
class Expected {
  readonly live = new Map<string, SessionData>();
  readonly gone = new Set<string>();

  async signIn(on: SessionStore, label: string, userId = 'admin-1'): Promise<string> {
    const id = newId();
    const session = { userId, label };
    await on.set(id, session, IDLE);
    this.live.set(id, session);
    return id;
  }

  async logout(on: SessionStore, id: string): Promise<void> {
    await on.destroy(id);
    this.live.delete(id);
    this.gone.add(id);
  }

  /** A request on `on` for every live session that re-saves it (lastSeenAt moved). */
  async touch(on: SessionStore): Promise<void> {
    for (const [id, session] of this.live) await on.set(id, session, IDLE, { rolling: false, changed: true });
  }

  async checkOn(...pods: SessionStore[]): Promise<void> {
    for (const on of pods) {
      for (const [id, session] of this.live) expect(await on.get(id)).toEqual(session);
      for (const id of this.gone) expect(await on.get(id)).toBeUndefined();
    }
  }
}

describe('A beside dual(A→B): the rollout into the first dual phase', () => {
  it('serves a session made on either pod from both, and keeps a logout on either in force on both', async () => {
    const [single, dual] = [pod('A'), pod('dual(A→B)', FIRST_DUAL)];
    const expected = new Expected();
    const [fromSingle, fromDual] = [await expected.signIn(single, 'single'), await expected.signIn(dual, 'dual')];
    await expected.signIn(single, 'single, kept');
    await expected.signIn(dual, 'dual, kept');
    await expected.checkOn(single, dual);
    await expected.logout(single, fromDual);
    await expected.logout(dual, fromSingle);
    await expected.checkOn(single, dual);
  });

  it('lets the dual pod bring back a logout or revoke-all of the A pod when fallback on miss is on (why it is off here)', async () => {
    const [single, withFallback, withoutFallback] = [
      pod('A'),
      pod('dual(A→B)', { fallbackOnMiss: true }),
      pod('dual(A→B)', FIRST_DUAL),
    ];
    const id = newId();
    await withFallback.set(id, { userId: 'admin-1' }, IDLE);
    const revoked = newId();
    await withFallback.set(revoked, { userId: 'admin-2' }, IDLE);

    await single.destroy(id); // A only: this pod knows nothing of B
    await single.destroyByUser('admin-2');
    expect(await withFallback.get(id)).toEqual({ userId: 'admin-1' });
    expect(await withFallback.get(revoked)).toEqual({ userId: 'admin-2' });
    expect((await withFallback.listByUser('admin-2')).map((session) => session.hash)).toEqual([
      withFallback.hashOf(revoked),
    ]);
    expect(await withoutFallback.get(id)).toBeUndefined();
    expect(await withoutFallback.get(revoked)).toBeUndefined();
    expect(await withoutFallback.listByUser('admin-2')).toEqual([]);
  });
});

describe('the backfill between dual(A→B) and dual(B→A)', () => {
  it('leaves in B a session an A pod logged out during the first rollout; verify flags it, and it is gone one idle timeout later', async () => {
    const [single, first] = [pod('A'), pod('dual(A→B)', FIRST_DUAL)];
    const expected = new Expected();
    await expected.signIn(first, 'stays');
    const loggedOut = await expected.signIn(first, 'logged out on A');
    await expected.logout(single, loggedOut);

    // The rollout is over: no A pod is left. Backfill copies what A holds, and nothing else.
    await backfillSessions({ source: direct(a), target: direct(b), clock });
    const cutover = pod('dual(B→A)', CUTOVER);
    expect(await cutover.get(loggedOut)).toEqual({ userId: 'admin-1', label: 'logged out on A' });
    const report = await verifyStores({ primary: direct(a), secondary: direct(b), clock });
    expect(report.go).toBe(false);
    expect(report.mismatches.map((mismatch) => mismatch.kind)).toEqual(['missing_in_primary']);

    // Waiting one idle timeout after the rollout, while users keep their sessions alive, clears it.
    for (let step = 0; step < 4; step++) {
      clock.advance(IDLE / 3);
      await expected.touch(first);
    }
    expect((await verifyStores({ primary: direct(a), secondary: direct(b), clock })).go).toBe(true);
    await expected.checkOn(cutover, first);
  });
});

describe('dual(A→B) beside dual(B→A): the cutover rollout, after backfill and verify', () => {
  it('serves a session made on either pod from both, and keeps a logout or revoke-all on either in force on both', async () => {
    const first = pod('dual(A→B)', FIRST_DUAL);
    const expected = new Expected();
    const before = await expected.signIn(first, 'before the backfill');
    await backfillSessions({ source: direct(a), target: direct(b), clock });
    const cutover = pod('dual(B→A)', CUTOVER);
    const [onFirst, onCutover] = [await expected.signIn(first, 'first'), await expected.signIn(cutover, 'cutover')];
    await expected.signIn(cutover, 'revoked', 'admin-2');
    await expected.signIn(first, 'revoked too', 'admin-2');
    await expected.checkOn(first, cutover);

    await expected.logout(first, onCutover);
    await expected.logout(cutover, onFirst);
    expect(await first.destroyByUser('admin-2')).toBe(2);
    for (const [id, session] of expected.live) if (session.userId === 'admin-2') await expected.logout(cutover, id);
    await expected.checkOn(first, cutover);
    expect(await cutover.get(before)).toEqual({ userId: 'admin-1', label: 'before the backfill' });
  });
});

describe('dual(B→A) beside B: the rollout out of dual mode', () => {
  it('serves a session made on either pod from both, and keeps a logout on either in force on both', async () => {
    const [retiring, single] = [pod('dual(B→A)', RETIRING), pod('B')];
    const expected = new Expected();
    const [fromDual, fromSingle] = [await expected.signIn(retiring, 'dual'), await expected.signIn(single, 'single')];
    await expected.signIn(retiring, 'dual, kept');
    await expected.checkOn(retiring, single);
    await expected.logout(single, fromDual);
    await expected.logout(retiring, fromSingle);
    await expected.checkOn(retiring, single);
  });

  it('lets the dual pod bring back a logout of the B pod when fallback on miss is on (why it is off here)', async () => {
    const [withFallback, single] = [pod('dual(B→A)', { ...RETIRING, fallbackOnMiss: true }), pod('B')];
    const id = newId();
    await withFallback.set(id, { userId: 'admin-1' }, IDLE);
    await single.destroy(id); // B only
    expect(await withFallback.get(id)).toEqual({ userId: 'admin-1' });
    expect(await pod('dual(B→A)', RETIRING).get(id)).toBeUndefined();
  });
});

describe('the whole move from A to B', () => {
  it('loses no session and brings back no logout, phase by phase, with the runbook settings', async () => {
    const expected = new Expected();
    const single = pod('A');
    await expected.signIn(single, 'A');
    const early = await expected.signIn(single, 'A, logged out later');

    // 1. Rollout: A and dual(A→B) side by side.
    const first = pod('dual(A→B)', FIRST_DUAL);
    await expected.signIn(first, 'dual(A→B)');
    await expected.signIn(single, 'A during rollout');
    await expected.logout(single, await expected.signIn(first, 'dual(A→B), logged out on A'));
    await expected.logout(first, early);
    await expected.checkOn(single, first);

    // 2. No A pod left. Backfill, and wait one idle timeout while users stay active; verify.
    await backfillSessions({ source: direct(a), target: direct(b), clock });
    for (let step = 0; step < 4; step++) {
      clock.advance(IDLE / 3);
      await expected.touch(first);
    }
    expect((await verifyStores({ primary: direct(a), secondary: direct(b), clock })).reasons).toEqual([]);

    // 3. Cutover rollout: dual(A→B) and dual(B→A) side by side.
    const cutover = pod('dual(B→A)', CUTOVER);
    await expected.signIn(cutover, 'dual(B→A)');
    await expected.signIn(first, 'dual(A→B) during cutover');
    await expected.logout(cutover, await expected.signIn(first, 'dual(A→B), logged out on dual(B→A)'));
    await expected.checkOn(first, cutover);

    // 4. Fallback off and A's TTL shortened: dual(B→A) beside dual(B→A, retiring).
    const retiring = pod('dual(B→A)', RETIRING);
    await expected.signIn(retiring, 'retiring');
    await expected.logout(retiring, await expected.signIn(cutover, 'cutover, logged out on retiring'));
    await expected.checkOn(cutover, retiring);

    // 5. Out of dual mode: dual(B→A, retiring) and B side by side, then B alone.
    const last = pod('B');
    await expected.signIn(last, 'B');
    await expected.logout(last, await expected.signIn(retiring, 'retiring, logged out on B'));
    await expected.checkOn(retiring, last);
    expect([expected.live.size, expected.gone.size]).toEqual([7, 5]);
    await expected.checkOn(pod('B'));
  });
});
