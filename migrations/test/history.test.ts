// The migration history: listed in name order (the order it runs in), one file per entry, and a
// renamed migration that a database applied under its old name is neither missing nor run again.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrations } from '../index.js';
import { CONTRACT, createTestDb, type TestDb } from './support.js';

const names = migrations.map((entry) => entry.name);
const FORMER_CONTRACT = '20261124000300_drop_legacy_timestamps';

test('lists the migrations in name order, each name once, each with its file', () => {
  expect(names).toEqual([...names].sort());
  expect(new Set(names).size).toBe(names.length);
  const files = readdirSync(join(import.meta.dirname, '..'))
    .filter((file) => /^\d{14}_\w+\.ts$/.test(file))
    .map((file) => file.replace(/\.ts$/, ''));
  expect(names).toEqual(files.sort());
});

test('a former name is no current name, and the renamed contract still runs last', () => {
  const former = migrations.flatMap((entry) => entry.formerNames ?? []);
  expect(former).toEqual([FORMER_CONTRACT]);
  expect(former.filter((name) => names.includes(name))).toEqual([]);
  expect(names.at(-1)).toBe(CONTRACT);
});

describe('a database that applied the contract under its former name', () => {
  let db: TestDb;
  const applied = async () =>
    (await db.knex<{ name: string }>('knex_migrations').select('name').orderBy('id')).map((row) => row.name);

  beforeAll(async () => {
    db = await createTestDb();
    await db.migrator().latest({ contract: true });
    // As production recorded it before the rename.
    await db.knex('knex_migrations').where({ name: CONTRACT }).update({ name: FORMER_CONTRACT });
  });
  afterAll(() => db.close());

  test('counts it as done, plans nothing and changes nothing', async () => {
    const status = await db.migrator().status();
    expect(status.map((migration) => [migration.name, migration.state])).toEqual(names.map((name) => [name, 'done']));
    expect(await db.migrator().plan({ contract: true })).toEqual([]);
    expect(await applied()).toContain(FORMER_CONTRACT);
  });

  test('runs nothing twice, and records it under its new name', async () => {
    expect(await db.migrator().latest({ contract: true })).toEqual([]);
    expect(await applied()).toEqual(names);
    expect(await db.migrator().latest({ contract: true })).toEqual([]);
    expect(await applied()).toEqual(names);
  });

  test('can still take it back by its new name', async () => {
    expect(await db.migrator().down()).toBe(CONTRACT);
    expect((await db.migrator().status()).at(-1)?.state).toBe('needs --contract');
    expect(await db.migrator().latest({ contract: true })).toEqual([CONTRACT]);
    expect(await applied()).toEqual(names);
  });
});
