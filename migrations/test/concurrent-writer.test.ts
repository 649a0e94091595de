// A writer keeps inserting and updating reset-log rows through the whole conversion, while a
// long transaction holds the table when the swap comes: the writer loses nothing and never
// waits longer than the lock bound, because the swap gives up and retries instead of queueing.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { CONVERSION, createTestDb, instants, seedLegacyRows, upThrough, type TestDb } from './support.js';

const LOCK_TIMEOUT_MS = 100;
const BLOCKER_HOLDS_MS = 4_000;
// The one wall-clock assertion, required by the acceptance criteria: a writer waits at most one
// lock_timeout (a swap attempt queued ahead of it) or one backfill batch (20 ms target), plus a
// generous margin for a loaded 2-core machine (other test files run alongside: 1,460 ms was seen
// at load average 13). Without the bound it would wait for the blocker's 4 s, which this margin
// stays well below.
const WRITER_WAIT_BOUND_MS = LOCK_TIMEOUT_MS + 1_900;

let db: TestDb;

beforeAll(async () => {
  db = await createTestDb();
  await upThrough(db.migrator(), '20261124000100_create_sessions_table');
});

afterAll(() => db.close());

interface WriterResult {
  latenciesMs: number[];
  inserted: Map<string, string>;
  updated: Map<string, string>;
}

/** Alternates an insert and an update of a random row, each timed, until stopped. */
function startWriter(url: string, rows: { tenantId: string; adminId: string; ids: string[] }) {
  const client = new pg.Client({ connectionString: url });
  const result: WriterResult = { latenciesMs: [], inserted: new Map(), updated: new Map() };
  let stopped = false;
  const timed = async <T>(work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const value = await work();
    result.latenciesMs.push(performance.now() - started);
    return value;
  };
  const running = (async () => {
    await client.connect();
    for (let n = 0; !stopped; n++) {
      // Text with an explicit offset: valid in the text column before the swap and in the timestamptz one after.
      const instant = new Date(Date.UTC(2025, 0, 1) + n * 1000).toISOString();
      if (n % 2 === 0) {
        const inserted = await timed(() =>
          client.query<{ id: string }>(
            'insert into tenant_admin_mfa_reset_logs (tenant_id, tenant_admin_id, reset_by, reason, created_at) values ($1, $2, $2, $3, $4) returning id',
            [rows.tenantId, rows.adminId, `writer ${n}`, instant],
          ),
        );
        result.inserted.set(inserted.rows[0]!.id, instant);
      } else {
        const id = rows.ids[Math.floor(Math.random() * rows.ids.length)]!;
        await timed(() =>
          client.query('update tenant_admin_mfa_reset_logs set rolled_back_at = $1 where id = $2', [instant, id]),
        );
        result.updated.set(id, instant);
      }
    }
    await client.end();
  })();
  return {
    async stop(): Promise<WriterResult> {
      stopped = true;
      await running;
      return result;
    },
  };
}

/** A transaction that writes one row of the table and keeps its locks for `ms` (wrapped: an async function would flatten the inner promise). */
async function holdTable(url: string, id: string, ms: number): Promise<{ released: Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('begin');
  await client.query("update tenant_admin_mfa_reset_logs set reason = reason || '' where id = $1", [id]);
  const released = (async () => {
    await sleep(ms);
    await client.query('commit');
    await client.end();
  })();
  return { released };
}

const asMicros = (iso: string) => iso.replace('Z', '000Z');

test('a writer inserting and updating during the whole conversion loses nothing and never waits longer than the lock bound', async () => {
  const { tenantId, adminId } = await seedLegacyRows(db.knex, 0);
  await db.knex.raw(
    `insert into tenant_admin_mfa_reset_logs (tenant_id, tenant_admin_id, reset_by, reason, created_at)
     select ?, ?, ?, 'seed', (1704067200 + i * 60)::text from generate_series(1, 20000) i`,
    [tenantId, adminId, adminId],
  );
  const [blockedId, ...ids] = await db.knex('tenant_admin_mfa_reset_logs').orderBy('id').pluck<string[]>('id');
  const writer = startWriter(db.url, { tenantId, adminId, ids });
  let blocker: Promise<void> | undefined;
  const migrator = db.migrator({
    lockTimeoutMs: LOCK_TIMEOUT_MS,
    batchTargetMs: 20,
    onEvent: async (event) => {
      if (event.type === 'step' && event.step === 'swap' && event.table === 'tenant_admin_mfa_reset_logs') {
        blocker = (await holdTable(db.url, blockedId!, BLOCKER_HOLDS_MS)).released;
      }
    },
  });

  await sleep(100);
  await upThrough(migrator, CONVERSION);
  await sleep(100);
  const { latenciesMs, inserted, updated } = await writer.stop();
  await blocker;

  expect(db.events.filter((event) => event.type === 'lock-retry').length).toBeGreaterThan(0);
  expect(db.events.filter((event) => event.type === 'batch').length).toBeGreaterThan(5);
  expect(Math.max(...latenciesMs)).toBeLessThan(WRITER_WAIT_BOUND_MS);

  const rows = await db.knex('tenant_admin_mfa_reset_logs').orderBy('id').pluck<string[]>('id');
  const created = await instants(db.knex, 'tenant_admin_mfa_reset_logs', 'created_at');
  const rolledBack = await instants(db.knex, 'tenant_admin_mfa_reset_logs', 'rolled_back_at');
  expect(rows).toHaveLength(20_000 + inserted.size);
  rows.forEach((id, index) => {
    if (inserted.has(id)) expect(created[index]).toBe(asMicros(inserted.get(id)!));
    expect(rolledBack[index]).toBe(updated.has(id) ? asMicros(updated.get(id)!) : null);
  });
});
