// The knex session table's gauges read from the catalogue of real PostgreSQL and MariaDB:
// what a scrape shows after rows are written, deleted and vacuumed.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import createKnex, { type Knex } from 'knex';
import { Registry } from 'prom-client';
import { createSessionTable, createSessionTableMetrics } from '@portcullis/session-store';
import { testMysql, testPostgres, type TestDatabase } from '../../../test/support/index.js';

/** The gauges' values on one scrape, by metric name (label table=<name>). */
async function scrape(registry: Registry, table: string): Promise<Record<string, number>> {
  const text = await registry.metrics();
  return Object.fromEntries(
    [...text.matchAll(new RegExp(`^(session_store_\\w+)\\{table="${table}"\\} (\\S+)$`, 'gm'))].map((m) => [
      m[1]!,
      Number(m[2]),
    ]),
  );
}

/** Scrapes until `done` holds (statistics reach the catalogue asynchronously), at most 10 s. */
async function scrapeUntil(
  registry: Registry,
  table: string,
  done: (values: Record<string, number>) => boolean,
): Promise<Record<string, number>> {
  const deadline = Date.now() + 10_000;
  let values = await scrape(registry, table);
  while (!done(values) && Date.now() < deadline) {
    await sleep(200);
    values = await scrape(registry, table);
  }
  return values;
}

async function seed(knex: Knex, table: string, rows: number): Promise<void> {
  const now = Date.now();
  const row = () => ({
    hash: randomBytes(32).toString('hex'),
    user_id: 'admin-1',
    data: JSON.stringify({ pad: 'x'.repeat(200) }),
    expires_at: now + 60_000,
    created_at: now,
    updated_at: now,
  });
  await knex.batchInsert(table, Array.from({ length: rows }, row), 500);
}

describe('knex session table gauges on PostgreSQL', () => {
  let db: TestDatabase;
  let knex: Knex;
  beforeAll(async () => {
    db = await testPostgres();
    knex = createKnex({ client: 'pg', connection: db.url, pool: { min: 0, max: 2 } });
  });
  afterAll(async () => {
    await knex.destroy();
    await db.drop();
  });

  it('shows size, index size, dead rows and the last vacuum', async () => {
    const table = 'sessions_gauged';
    await createSessionTable(knex, table);
    // Autovacuum off for this table: the test decides when it is vacuumed.
    await knex.raw('alter table ?? set (autovacuum_enabled = false)', [table]);
    await seed(knex, table, 2000);
    await knex(table).whereIn('hash', knex(table).select('hash').limit(600)).delete();
    const registry = new Registry();
    createSessionTableMetrics(registry, { knex, tableName: table, cacheMs: 0 });

    // PostgreSQL's statistics arrive per backend (the inserts and the delete may have run on two
    // pool connections, flushed at different moments): wait for both figures.
    const before = await scrapeUntil(
      registry,
      table,
      (v) => (v.session_store_dead_rows ?? 0) >= 600 && (v.session_store_live_rows ?? 0) >= 1400,
    );
    expect(before.session_store_dead_rows).toBe(600);
    expect(before.session_store_live_rows).toBe(1400);
    expect(before.session_store_table_bytes).toBeGreaterThan(2000 * 200);
    // The primary key and two indexes over 2,000 rows: more than 64-byte keys alone.
    expect(before.session_store_index_bytes).toBeGreaterThan(2000 * 64);
    expect(before).not.toHaveProperty('session_store_last_autovacuum_seconds');
    expect(before).not.toHaveProperty('session_store_free_bytes');

    const vacuumedAt = Date.now() / 1000;
    await knex.raw('vacuum ??', [table]);
    const after = await scrapeUntil(
      registry,
      table,
      (v) => v.session_store_last_autovacuum_seconds !== undefined && v.session_store_dead_rows === 0,
    );
    expect(after.session_store_dead_rows).toBe(0);
    expect(after.session_store_last_autovacuum_seconds).toBeGreaterThanOrEqual(Math.floor(vacuumedAt) - 1);
    expect(after.session_store_last_autovacuum_seconds).toBeLessThanOrEqual(Date.now() / 1000 + 1);
  }, 30_000);

  it('exports nothing for a table that does not exist, and keeps the last figures while the database does not answer', async () => {
    const registry = new Registry();
    createSessionTableMetrics(registry, { knex, tableName: 'no_such_table', cacheMs: 0 });
    expect(await scrape(registry, 'no_such_table')).toEqual({});

    const table = 'sessions_outage';
    await createSessionTable(knex, table);
    const flaky = createKnex({ client: 'pg', connection: db.url, pool: { min: 0, max: 1 } });
    const errors: unknown[] = [];
    const kept = new Registry();
    createSessionTableMetrics(kept, {
      knex: flaky,
      tableName: table,
      cacheMs: 0,
      onError: (error) => errors.push(error),
    });
    const first = await scrape(kept, table);
    expect(first.session_store_table_bytes).toBeGreaterThan(0);
    await flaky.destroy();
    expect(await scrape(kept, table)).toEqual(first);
    expect(errors.length).toBeGreaterThan(0);
  });
});

describe('knex session table gauges on MariaDB', () => {
  let db: TestDatabase;
  let knex: Knex;
  beforeAll(async () => {
    db = await testMysql();
    knex = createKnex({ client: 'mysql2', connection: db.url, pool: { min: 0, max: 2 } });
  });
  afterAll(async () => {
    await knex.destroy();
    await db.drop();
  });

  it('shows data, index and free bytes; InnoDB keeps no dead-row or vacuum figure', async () => {
    const table = 'sessions_gauged';
    await createSessionTable(knex, table);
    await seed(knex, table, 2000);
    await knex.raw('analyze table ??', [table]);
    const registry = new Registry();
    createSessionTableMetrics(registry, { knex, tableName: table, cacheMs: 0 });
    const values = await scrape(registry, table);
    expect(values.session_store_table_bytes).toBeGreaterThan(2000 * 200);
    expect(values.session_store_index_bytes).toBeGreaterThan(0);
    expect(values.session_store_live_rows).toBeGreaterThan(1000);
    expect(values.session_store_free_bytes).toBeGreaterThanOrEqual(0);
    expect(values).not.toHaveProperty('session_store_dead_rows');
    expect(values).not.toHaveProperty('session_store_last_autovacuum_seconds');
  });
});
