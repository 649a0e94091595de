// One process of the floor `npm run bench -- mfa-logs` measures beside the real jobs: the least
// work a reset-log job can do per row, written plainly. Keyset reads of its id range in batches,
// raw node:crypto AES-256-GCM of the five values (random 96-bit IV, AAD = row id and column, as
// the envelope binds them), and one batched UPDATE … FROM unnest() per batch, written on a second
// connection while the next batch is read and encrypted (the jobs overlap the same way; without
// it the floor came out slower than encrypt-legacy itself). No envelope header, no key ring, no
// cursor table, no change check: what is left when all that is gone.
//   node --conditions=development --import tsx bench/mfa-logs/floor.ts <encrypt|rewrap> <first id> <last id>
// Env: FLOOR_DATABASE_URL, FLOOR_TABLE, FLOOR_KEY_A, FLOOR_KEY_B (hex), FLOOR_BATCH.
// Prints {"rows": n} when done.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import pg from 'pg';
import { PREVIOUS_COLUMNS as COLUMNS } from '@portcullis/mfa-reset-log';

const [mode, first, last] = process.argv.slice(2);
const env = (name: string) =>
  process.env[name] ??
  (() => {
    throw new Error(`${name} is required`);
  })();
const keyA = Buffer.from(env('FLOOR_KEY_A'), 'hex');
const keyB = Buffer.from(env('FLOOR_KEY_B'), 'hex');
const table = env('FLOOR_TABLE');
const batch = Number(process.env.FLOOR_BATCH ?? 5000);

function seal(key: Buffer, value: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
}

function open(key: Buffer, sealed: string, aad: string): string {
  const bytes = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString('utf8');
}

const client = new pg.Client({ connectionString: env('FLOOR_DATABASE_URL') });
const writer = new pg.Client({ connectionString: env('FLOOR_DATABASE_URL') });
await Promise.all([client.connect(), writer.connect()]);
const update = `update ${table} t set ${COLUMNS.map((column, i) => `${column} = v.c${i}`).join(', ')}
  from unnest($1::bigint[], ${COLUMNS.map((_, i) => `$${i + 2}::text[]`).join(', ')}) as v(id, ${COLUMNS.map((_, i) => `c${i}`).join(', ')}) where t.id = v.id`;
let after = BigInt(first!) - 1n;
let rows = 0;
let inflight: Promise<unknown> = Promise.resolve();
for (;;) {
  // id is int8: node-postgres gives it as a string, and ORDER BY sorts the column, not text.
  const { rows: page } = await client.query<Record<string, string | null>>(
    `select id, ${COLUMNS.join(', ')} from ${table} where id > $1 and id <= $2 order by id limit $3`,
    [after.toString(), last, batch],
  );
  if (page.length === 0) break;
  const ids: string[] = [];
  const values: (string | null)[][] = COLUMNS.map(() => []);
  for (const row of page) {
    ids.push(row.id!);
    COLUMNS.forEach((column, i) => {
      const value = row[column] ?? null;
      const aad = `${row.id}:${column}`;
      values[i]!.push(
        value === null ? null : mode === 'rewrap' ? seal(keyB, open(keyA, value, aad), aad) : seal(keyA, value, aad),
      );
    });
  }
  await inflight;
  inflight = writer.query(update, [ids, ...values]);
  // Thrown at the next `await inflight`, not as an unhandled rejection meanwhile.
  inflight.catch(() => undefined);
  rows += page.length;
  after = BigInt(ids.at(-1)!);
}
await inflight;
await Promise.all([client.end(), writer.end()]);
process.stdout.write(`${JSON.stringify({ rows })}\n`);
