import knex, { type Knex } from 'knex';

export type { Knex } from 'knex';

export interface DatabaseOptions {
  url: string;
  poolMax?: number;
  /** knex client: `pg` (the product's database) or `mysql2` (knex session store only). */
  client?: 'pg' | 'mysql2';
}

/**
 * A knex instance. No session-level SET or named prepared statements here: RDS Proxy would
 * pin every connection that uses them.
 */
export function createDatabase({ url, poolMax = 10, client = 'pg' }: DatabaseOptions): Knex {
  return knex({
    client,
    connection: url,
    pool: { min: 0, max: poolMax, acquireTimeoutMillis: 10_000 },
    acquireConnectionTimeout: 10_000,
  });
}

/** Readiness probe: one round trip. */
export async function pingDatabase(db: Knex): Promise<void> {
  await db.raw('select 1');
}
