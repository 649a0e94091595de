// The session store contract, unchanged, over `dual` for every pair of real stores in both
// directions, plus what the contract cannot see: the secondary ends up holding what the primary holds.
import { createDualBackend, createSessionStore, type SessionBackend } from '@portcullis/session-store';
import { createSessionIdHasher } from '@portcullis/crypto';
import { DUAL_PAIRS, realStores } from './backends.js';
import { newId, runSessionStoreContract, TestClock } from './contract.js';

const stores = realStores();
afterAll(() => stores.dispose());

for (const [primaryKind, secondaryKind] of DUAL_PAIRS) {
  runSessionStoreContract(`dual (${primaryKind} primary, ${secondaryKind} secondary)`, async (clock) => {
    const [primary, secondary] = await Promise.all([stores.create(primaryKind), stores.create(secondaryKind)]);
    const backend = createDualBackend({ primary: primary.connect(clock), secondary: secondary.connect(clock), clock });
    return {
      backend,
      cleanup: async () => {
        await backend.close();
        await Promise.all([primary.drop(), secondary.drop()]);
      },
    };
  });
}

/** Both stores' copy of each hash, side by side. */
async function copies(hashes: string[], primary: SessionBackend, secondary: SessionBackend) {
  return Promise.all(
    hashes.map(async (hash) => ({ hash, primary: await primary.get(hash), secondary: await secondary.get(hash) })),
  );
}

describe.each(DUAL_PAIRS)('dual (%s primary, %s secondary) mirrors every write', (primaryKind, secondaryKind) => {
  it('leaves the secondary holding exactly what the primary holds after sets, an owner change, destroys and revoke-all', async () => {
    const clock = new TestClock();
    const [a, b] = await Promise.all([stores.create(primaryKind), stores.create(secondaryKind)]);
    const [primary, secondary] = [a.connect(clock), b.connect(clock)];
    const dual = createDualBackend({ primary: a.connect(clock), secondary: b.connect(clock), clock });
    const store = createSessionStore({
      backend: dual,
      hashers: [createSessionIdHasher('mirror-secret-0123456789abcdefghijklmnopq')],
      clock,
    });
    try {
      const ids = Array.from({ length: 6 }, newId);
      for (const [i, id] of ids.entries()) await store.set(id, { userId: `admin-${i % 2}`, n: i }, 60_000);
      await store.set(ids[0]!, { userId: 'admin-1', n: 'moved' }, 60_000, { rolling: true, changed: true });
      await store.destroy(ids[2]!);
      expect(await store.destroyByUser('admin-1')).toBe(4);

      const both = await copies(
        ids.map((id) => store.hashOf(id)),
        primary,
        secondary,
      );
      for (const { primary: p, secondary: s } of both) expect(s).toEqual(p);
      expect(both.filter((copy) => copy.primary).map((copy) => copy.hash)).toEqual([store.hashOf(ids[4]!)]);
    } finally {
      await Promise.all([dual.close(), primary.close(), secondary.close()]);
      await Promise.all([a.drop(), b.drop()]);
    }
  });
});
