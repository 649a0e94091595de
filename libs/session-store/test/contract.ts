// The one contract every driver passes, unchanged: `runSessionStoreContract(name, factory)`.
// Each driver's test file calls it with a factory that builds the backend on a real server.
import { randomBytes } from 'node:crypto';
import {
  createSessionStore,
  newSessionId,
  revocationHashOf,
  SessionStoreError,
  type Clock,
  type SessionBackend,
  type SessionStore,
} from '@portcullis/session-store';
import { createSessionIdHasher } from '@portcullis/crypto';

export interface ContractFixture {
  backend: SessionBackend;
  /** Called after each test; drop tables, flush prefixes, close clients. */
  cleanup(): Promise<void>;
}

export type BackendFactory = (clock: Clock) => Promise<ContractFixture>;

export class TestClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

const secretA = 'contract-secret-a-0123456789abcdefghijklmnop';
const secretB = 'contract-secret-b-0123456789abcdefghijklmnop';
export const newId = () => randomBytes(32).toString('base64url');

export function runSessionStoreContract(name: string, factory: BackendFactory): void {
  describe(`session store contract: ${name}`, () => {
    let clock: TestClock;
    let fixture: ContractFixture;
    let store: SessionStore;

    beforeEach(async () => {
      clock = new TestClock();
      fixture = await factory(clock);
      store = createSessionStore({ backend: fixture.backend, hashers: [createSessionIdHasher(secretA)], clock });
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('round-trips a session and keeps only the HMAC of its id at rest', async () => {
      const id = newId();
      await store.set(id, { userId: 'admin-1', aal: 2, note: 'héllo ✓' }, 60_000);
      expect(await store.get(id, 60_000, { rolling: false })).toEqual({ userId: 'admin-1', aal: 2, note: 'héllo ✓' });
      const record = await fixture.backend.get(store.hashOf(id));
      expect(record?.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(record?.hash).not.toContain(id);
      expect(JSON.stringify(await fixture.backend.sample(10))).not.toContain(id);
      await store.destroy(id);
      expect(await store.get(id)).toBeUndefined();
    });

    it('answers undefined for an unknown id', async () => {
      expect(await store.get(newId())).toBeUndefined();
    });

    it('never returns an expired record, even while the backend still holds it', async () => {
      const id = newId();
      // Lifetimes in tens of seconds: the test clock runs with real time, and a loaded machine
      // can take a second between two calls (a one-second lifetime made these tests flaky).
      await store.set(id, { userId: 'admin-1' }, 60_000);
      clock.advance(90_000);
      expect(await fixture.backend.get(store.hashOf(id))).toBeDefined();
      expect(await store.get(id)).toBeUndefined();
      expect(await store.listByUser('admin-1')).toEqual([]);
    });

    it('extends the lifetime on every rolling write', async () => {
      const id = newId();
      await store.set(id, { userId: 'admin-1', n: 1 }, 60_000);
      clock.advance(48_000);
      await store.set(id, { userId: 'admin-1', n: 2 }, 60_000, { rolling: true, changed: false });
      clock.advance(48_000);
      expect(await store.get(id)).toEqual({ userId: 'admin-1', n: 2 });
      clock.advance(18_000);
      expect(await store.get(id)).toBeUndefined();
    });

    it('lists and destroys every session of one admin and no other', async () => {
      const mine = [newId(), newId(), newId()];
      const theirs = newId();
      const anonymous = newId();
      for (const id of mine) await store.set(id, { userId: 'admin-1' }, 60_000);
      await store.set(theirs, { userId: 'admin-2' }, 60_000);
      await store.set(anonymous, { csrf: 'x' }, 60_000);

      const listed = await store.listByUser('admin-1');
      expect(listed.map((session) => session.hash).sort()).toEqual(mine.map((id) => store.hashOf(id)).sort());
      expect(listed[0]!.session).toEqual({ userId: 'admin-1' });
      expect(listed[0]!.expiresAt).toBeGreaterThan(clock.now());

      expect(await store.destroyByUser('admin-1')).toBe(3);
      for (const id of mine) expect(await store.get(id)).toBeUndefined();
      expect(await store.listByUser('admin-1')).toEqual([]);
      expect(await store.get(theirs)).toEqual({ userId: 'admin-2' });
      expect(await store.get(anonymous)).toEqual({ csrf: 'x' });
    });

    it('moves a session between admins in the per-user index when its owner changes', async () => {
      const id = newId();
      await store.set(id, { csrf: 'pre-login' }, 60_000);
      await store.set(id, { userId: 'admin-1' }, 60_000);
      expect((await store.listByUser('admin-1')).map((session) => session.hash)).toEqual([store.hashOf(id)]);
      await store.set(id, { userId: 'admin-2' }, 60_000);
      expect(await store.listByUser('admin-1')).toEqual([]);
      expect((await store.listByUser('admin-2')).map((session) => session.hash)).toEqual([store.hashOf(id)]);
    });

    it('tells owners apart whose ids share a prefix and hold commas, quotes or non-ASCII letters', async () => {
      const id = newId();
      // Each id followed by one it is a prefix of, or that is a prefix of it (in UTF-8 bytes too).
      const owners = ['ää,"12', 'ää,"1', 'ää,"1\\', 'ää,"1', 'admin', 'ää,"12'];
      for (const [index, owner] of owners.entries()) {
        await store.set(id, { userId: owner, n: index }, 60_000);
        for (const other of new Set(owners)) {
          expect((await store.listByUser(other)).map((session) => session.hash)).toEqual(
            other === owner ? [store.hashOf(id)] : [],
          );
        }
      }
      expect(await store.get(id)).toEqual({ userId: 'ää,"12', n: 5 });
    });

    it('stays consistent under concurrent set and destroy of one id', async () => {
      for (let round = 0; round < 10; round++) {
        const id = newId();
        const values = [1, 2, 3].map((n) => ({ userId: 'racer', n }));
        await Promise.all([
          store.set(id, values[0]!, 60_000),
          store.destroy(id),
          store.set(id, values[1]!, 60_000),
          store.destroy(id),
          store.set(id, values[2]!, 60_000),
        ]);
        const final = await store.get(id);
        if (final !== undefined) expect(values).toContainEqual(final);
        const listed = (await store.listByUser('racer')).map((session) => session.hash);
        expect(listed.includes(store.hashOf(id))).toBe(final !== undefined);
        await store.destroy(id);
      }
    });

    it('stores a session near the backend limit and refuses one past it with a clear error', async () => {
      const limit = fixture.backend.maxDataBytes;
      const overhead = JSON.stringify({ userId: 'admin-1', blob: '' }).length;
      const id = newId();
      const big = { userId: 'admin-1', blob: 'x'.repeat(limit - overhead) };
      await store.set(id, big, 60_000);
      expect(await store.get(id)).toEqual(big);
      const tooBig = { userId: 'admin-1', blob: 'x'.repeat(limit - overhead + 1) };
      const error = await store.set(newId(), tooBig, 60_000).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SessionStoreError);
      expect(error).toMatchObject({ code: 'session.too_large' });
      expect((error as Error).message).toContain(`at most ${limit}`);
    });

    it('treats ids that are not valid strings as no session, and refuses to store under them', async () => {
      for (const bad of ['', undefined, null, 42, {}, 'x'.repeat(513)]) {
        expect(await store.get(bad)).toBeUndefined();
        await expect(store.set(bad, { userId: 'admin-1' }, 60_000)).rejects.toMatchObject({
          code: 'session.invalid_id',
        });
        await expect(store.destroy(bad)).resolves.toBeUndefined();
      }
      const odd = "ünïcode:/?#[]@!$&'()*+,;= \u0000 id";
      await store.set(odd, { userId: 'admin-1' }, 60_000);
      expect(await store.get(odd)).toEqual({ userId: 'admin-1' });
    });

    it('counts live and expired-not-yet-deleted sessions', async () => {
      await store.set(newId(), { userId: 'a' }, 60_000);
      await store.set(newId(), { userId: 'b' }, 60_000);
      await store.set(newId(), { userId: 'c' }, 10_000);
      clock.advance(15_000);
      const counts = await store.count();
      expect(counts).toEqual({ live: 2, expired: 1, exact: true });
    });

    it('samples stored records without returning more than asked', async () => {
      const ids = [newId(), newId(), newId(), newId()];
      for (const id of ids) await store.set(id, { userId: 'sampled' }, 60_000);
      const sample = await store.sample(3);
      expect(sample.length).toBeGreaterThan(0);
      expect(sample.length).toBeLessThanOrEqual(3);
      for (const record of sample) {
        expect(ids.map((id) => store.hashOf(id))).toContain(record.hash);
        expect(JSON.parse(record.data)).toEqual({ userId: 'sampled' });
      }
    });

    it('keeps sessions readable when SESSION_SECRET rotates (new secret first, old one still listed)', async () => {
      const id = newId();
      await store.set(id, { userId: 'admin-1' }, 60_000);
      const rotated = createSessionStore({
        backend: fixture.backend,
        hashers: [createSessionIdHasher(secretB), createSessionIdHasher(secretA)],
        clock,
      });
      expect(await rotated.get(id)).toEqual({ userId: 'admin-1' });
      expect(await fixture.backend.get(rotated.hashOf(id))).toBeDefined();
      await rotated.destroy(id);
      expect(await rotated.get(id)).toBeUndefined();
      expect(await store.get(id)).toBeUndefined();
    });

    it('reads several records in one call, in the order asked, absent ones as undefined', async () => {
      const [a, b] = [newId(), newId()];
      await store.set(a, { userId: 'admin-a' }, 60_000);
      await store.set(b, { userId: 'admin-b' }, 60_000);
      const missing = store.hashOf(newId());
      const records = await fixture.backend.getMany([store.hashOf(b), missing, store.hashOf(a)]);
      expect(records.map((record) => record && JSON.parse(record.data))).toEqual([
        { userId: 'admin-b' },
        undefined,
        { userId: 'admin-a' },
      ]);
      expect(await fixture.backend.getMany([store.hashOf(a), missing])).toEqual([
        await fixture.backend.get(store.hashOf(a)),
        undefined,
      ]);
      expect(await fixture.backend.getMany([])).toEqual([]);
    });

    it("reads a session with its owner's revocation cut-off, which only ever moves forward", async () => {
      const id = newSessionId('tenant:admin-1');
      await store.set(id, { userId: 'tenant:admin-1', createdAt: clock.now() }, 60_000);
      const first = await store.read(id);
      expect(first).toEqual({
        session: { userId: 'tenant:admin-1', createdAt: expect.any(Number) },
        raw: expect.any(String),
        revokedBefore: null,
      });
      expect(JSON.parse(first.raw!)).toEqual(first.session);
      const cutOff = clock.now() + 5;
      await store.revoke('tenant:admin-1', cutOff, 60_000);
      expect((await store.read(id)).revokedBefore).toBe(cutOff);
      await store.revoke('tenant:admin-1', cutOff - 1000, 60_000);
      expect((await store.read(id)).revokedBefore).toBe(cutOff);
      // The marker is no session: not listed, not deleted with the admin's sessions.
      expect((await store.listByUser('tenant:admin-1')).map((stored) => stored.hash)).toEqual([store.hashOf(id)]);
      await store.destroyByUser('tenant:admin-1');
      expect(await fixture.backend.get(revocationHashOf('tenant:admin-1'))).toBeDefined();
      // It lasts as long as asked, then reads as no cut-off.
      clock.advance(61_000);
      const later = newSessionId('tenant:admin-1');
      await store.set(later, { userId: 'tenant:admin-1' }, 60_000);
      expect((await store.read(later)).revokedBefore).toBeNull();
    });

    it('finds the cut-off of a session whose id does not name its owner (ids from before markers)', async () => {
      const legacy = newId();
      await store.set(legacy, { userId: 'tenant:admin-2' }, 60_000);
      const cutOff = clock.now() - 1000;
      await store.revoke('tenant:admin-2', cutOff, 60_000);
      expect(await store.read(legacy)).toMatchObject({ session: { userId: 'tenant:admin-2' }, revokedBefore: cutOff });
      // An id naming another admin's marker is checked against the session's real owner.
      const misnamed = newSessionId('tenant:someone-else');
      await store.set(misnamed, { userId: 'tenant:admin-2' }, 60_000);
      expect((await store.read(misnamed)).revokedBefore).toBe(cutOff);
      expect(await store.read(newSessionId('tenant:admin-2'))).toEqual({ revokedBefore: null });
    });
  });
}
