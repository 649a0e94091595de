// Two runners never migrate at once: each holds a PostgreSQL advisory lock for its whole run on
// a connection of its own. It is a session-level lock, so the runner must reach PostgreSQL
// directly (RDS Proxy would pin or multiplex it); if the process dies, the closed session
// releases the lock by itself.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { RunnerLockTimeoutError } from './errors.js';
import type { EventListener } from './types.js';

/** Arbitrary, fixed: the 64-bit key every Portcullis runner locks. */
const LOCK_KEY = '7150531254391817';
const POLL_MS = 500;

async function tryLock(client: pg.Client): Promise<boolean> {
  const result = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [
    LOCK_KEY,
  ]);
  return result.rows[0]?.locked === true;
}

async function describeHolder(client: pg.Client): Promise<string> {
  const result = await client.query<{
    pid: number;
    application_name: string;
    client_addr: string | null;
    seconds: number;
  }>(
    `select a.pid, a.application_name, a.client_addr::text, extract(epoch from now() - a.backend_start)::int as seconds
       from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.objsubid = 1 and ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint
        -- advisory locks are per database: runners of other databases on the server do not count
        and l.database = (select oid from pg_database where datname = current_database())`,
    [LOCK_KEY],
  );
  const holder = result.rows[0];
  if (!holder) return 'a runner that just finished';
  return `pid ${holder.pid}${holder.application_name ? ` "${holder.application_name}"` : ''}${holder.client_addr ? ` from ${holder.client_addr}` : ''}, connected ${holder.seconds} s ago`;
}

/** Runs `work` while holding the runner lock; waits up to `waitMs` (0: no limit) for another runner to finish. */
export async function withRunnerLock<T>(
  connection: pg.ClientConfig,
  waitMs: number,
  report: EventListener,
  work: () => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ ...connection, application_name: 'portcullis migrate (runner lock)' });
  client.on('error', () => {
    // A dropped lock connection surfaces in the migration's own queries; this keeps it from crashing the process.
  });
  await client.connect();
  try {
    if (!(await tryLock(client))) {
      const holder = await describeHolder(client);
      await report({ type: 'runner-lock-wait', holder });
      const deadline = waitMs > 0 ? Date.now() + waitMs : Number.POSITIVE_INFINITY;
      // Polled, not a blocking pg_advisory_lock(): a statement waiting that long would hold a
      // snapshot the whole time, which stalls the other runner's CREATE INDEX CONCURRENTLY
      // (it waits for older snapshots) while that runner keeps the lock: a deadlock no one detects.
      while (!(await tryLock(client))) {
        if (Date.now() >= deadline) {
          throw new RunnerLockTimeoutError(
            `Another migration runner (${holder}) kept the migration lock for more than ${Math.round(waitMs / 1000)} s: let it finish, then run again`,
          );
        }
        await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
      }
    }
    return await work();
  } finally {
    // Ending the session releases the advisory lock.
    await client.end().catch(() => undefined);
  }
}
