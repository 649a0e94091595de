// 20261203000100_audit_chain_keys: the columns the keyed audit chain needs; its way back is
// refused once an event is keyed (older code would report such a chain as broken).
import { randomUUID } from 'node:crypto';
import { createTestDb, type TestDb } from './support.js';

const NAME = '20261203000100_audit_chain_keys';
let db: TestDb;

beforeAll(async () => {
  db = await createTestDb();
  await db.migrator().latest();
});
afterAll(() => db.close());

const columns = async () =>
  (
    await db.knex.raw<{ rows: { c: string }[] }>(
      "select table_name || '.' || column_name as c from information_schema.columns where column_name in ('hash_key_id', 'mac', 'mac_key_id') order by 1",
    )
  ).rows.map((row) => row.c);

test('adds the key columns; down removes them while no event is keyed', async () => {
  expect(await columns()).toEqual([
    'audit_chain_heads.mac',
    'audit_chain_heads.mac_key_id',
    'audit_events.hash_key_id',
  ]);
  expect(await db.migrator().down()).toBe(NAME);
  expect(await columns()).toEqual([]);
  expect(await db.migrator().up()).toBe(NAME);
});

test('refuses the way back once an event is keyed, and keeps the columns', async () => {
  // An event as libs/audit writes it with a key ring (the hash itself does not matter here).
  await db.knex('audit_events').insert({
    chain_key: randomUUID(),
    seq: 1,
    actor_type: 'system',
    action: 'test.keyed',
    occurred_at: new Date(),
    details: '{}',
    prev_hash: '0'.repeat(64),
    hash: 'f'.repeat(64),
    hash_key_id: '0123456789ab',
  });
  await expect(db.migrator().down()).rejects.toThrow(/events are already keyed/);
  expect(await columns()).toHaveLength(3);
});
