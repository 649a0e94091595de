// The legacy parser is SQL (it runs in the sync trigger and the backfill), so its properties
// are checked against PostgreSQL itself, a whole generated batch per query.
import fc from 'fast-check';
import knexFactory, { type Knex } from 'knex';
import { FORMAT_FUNCTION, installConversionFunctions, PARSE_FUNCTION } from '../index.js';
import { testPostgres, type TestDatabase } from '../../test/support/index.js';

let database: TestDatabase;
let knex: Knex;

beforeAll(async () => {
  database = await testPostgres();
  knex = knexFactory({ client: 'pg', connection: database.url, pool: { min: 0, max: 1 } });
  await installConversionFunctions(knex);
});

afterAll(async () => {
  await knex.destroy();
  await database.drop();
});

/** The parser's result for each raw value, as ISO 8601 UTC with microseconds (or null). */
async function parse(raws: (string | null)[], zone = 'UTC'): Promise<(string | null)[]> {
  const result = await knex.raw<{ rows: { value: string | null }[] }>(
    `select ${FORMAT_FUNCTION}(${PARSE_FUNCTION}(raw, ?)) as value from jsonb_array_elements_text(?::jsonb) with ordinality as input(raw, n) order by n`,
    [zone, JSON.stringify(raws)],
  );
  return result.rows.map((row) => row.value);
}

/** ISO 8601 UTC with microseconds from whole microseconds since the epoch. */
function isoMicros(micros: bigint): string {
  const millis = micros / 1000n;
  const extra = (micros % 1000n).toString().padStart(3, '0');
  return new Date(Number(millis)).toISOString().replace(/Z$/, `${extra}Z`);
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');
// A day inside the four-digit years, so a wall-clock time 14 h away still has four digits.
const dates = fc.date({
  min: new Date('1000-01-02T00:00:00Z'),
  max: new Date('9999-12-30T23:59:59Z'),
  noInvalidDate: true,
});
const batch = <T>(arbitrary: fc.Arbitrary<T>) => fc.array(arbitrary, { minLength: 1, maxLength: 60 });
const runs = { numRuns: 25 };

test('reads back every instant written as ISO 8601 in UTC (Z)', async () => {
  await fc.assert(
    fc.asyncProperty(batch(dates), async (values) => {
      expect(await parse(values.map((date) => date.toISOString()))).toEqual(
        values.map((date) => isoMicros(BigInt(date.getTime()) * 1000n)),
      );
    }),
    runs,
  );
});

test('reads ISO 8601 with a numeric offset in each of its spellings as the same instant', async () => {
  const withOffset = fc.record({
    date: dates,
    offsetMinutes: fc.integer({ min: -14 * 60, max: 14 * 60 }),
    style: fc.constantFrom('+HH:MM', '+HHMM', '+HH'),
  });
  await fc.assert(
    fc.asyncProperty(batch(withOffset), async (values) => {
      const raws = values.map(({ date, offsetMinutes, style }) => {
        const minutes = style === '+HH' ? offsetMinutes - (offsetMinutes % 60) : offsetMinutes;
        const wall = new Date(date.getTime() + minutes * 60_000).toISOString().slice(0, 23);
        const sign = minutes < 0 ? '-' : '+';
        const [hours, rest] = [pad(Math.floor(Math.abs(minutes) / 60)), pad(Math.abs(minutes) % 60)];
        return `${wall}${sign}${hours}${style === '+HH:MM' ? `:${rest}` : style === '+HHMM' ? rest : ''}`;
      });
      expect(await parse(raws)).toEqual(values.map(({ date }) => isoMicros(BigInt(date.getTime()) * 1000n)));
    }),
    runs,
  );
});

test('reads YYYY-MM-DD HH:MM:SS and ISO without offset as wall-clock time in UTC by default', async () => {
  await fc.assert(
    fc.asyncProperty(batch(fc.tuple(dates, fc.boolean())), async (values) => {
      const raws = values.map(([date, spaced]) =>
        date
          .toISOString()
          .slice(0, 19)
          .replace('T', spaced ? ' ' : 'T'),
      );
      const expected = values.map(([date]) => isoMicros(BigInt(Math.floor(date.getTime() / 1000)) * 1_000_000n));
      expect(await parse(raws)).toEqual(expected);
    }),
    runs,
  );
});

test('reads up to 11 digits as epoch seconds, with an optional fraction of up to 6 digits', async () => {
  const seconds = fc.record({
    whole: fc.bigInt({ min: 0n, max: 99_999_999_999n }),
    fraction: fc.option(fc.stringMatching(/^[0-9]{1,6}$/), { nil: undefined }),
  });
  await fc.assert(
    fc.asyncProperty(batch(seconds), async (values) => {
      const raws = values.map(({ whole, fraction }) => `${whole}${fraction === undefined ? '' : `.${fraction}`}`);
      const expected = values.map(({ whole, fraction }) =>
        isoMicros(whole * 1_000_000n + BigInt((fraction ?? '').padEnd(6, '0'))),
      );
      expect(await parse(raws)).toEqual(expected);
    }),
    runs,
  );
});

test('reads 12 to 15 digits as epoch milliseconds', async () => {
  const millis = fc.bigInt({ min: 100_000_000_000n, max: 253_402_300_799_999n }); // 1973 .. 9999-12-31
  await fc.assert(
    fc.asyncProperty(batch(millis), async (values) => {
      expect(await parse(values.map(String))).toEqual(values.map((value) => isoMicros(value * 1000n)));
    }),
    runs,
  );
});

test('parses nothing outside the documented forms and never raises an error', async () => {
  const documented =
    /^(\d{1,15}|\d{1,11}\.\d{1,6}|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}(:?\d{2})?)?)$/;
  const text = fc
    .oneof(fc.string(), fc.stringMatching(/^[0-9T:+\-. Zz]{0,32}$/))
    .map((value) => value.replaceAll('\0', ''));
  await fc.assert(
    fc.asyncProperty(batch(text), async (values) => {
      const parsed = await parse(values);
      values.forEach((value, index) => {
        if (parsed[index] !== null) expect(value.trim()).toMatch(documented);
      });
    }),
    { numRuns: 40 },
  );
});

test('refuses impossible dates and times, ambiguous digit counts and other shapes instead of guessing', async () => {
  const refused = [
    '2023-02-29 10:00:00',
    '2024-02-30T00:00:00Z',
    '2024-04-31 00:00:00',
    '2024-13-01 00:00:00',
    '2024-00-10 00:00:00',
    '2024-01-00 00:00:00',
    '2024-01-01T24:00:00Z',
    '2024-01-01T10:60:00Z',
    '2024-01-01T10:00:60Z',
    '0000-01-01 00:00:00',
    '2024-01-01T00:00:00+24:00',
    '2024-01-01T00:00:00+02:60',
    '2024-01-01T00:00:00+02:',
    '2024-01-01T00:00:00.1234567Z',
    '2024-01-01',
    '01/02/2024 10:00:00',
    '2024-1-1 10:00:00',
    'yesterday',
    'now',
    'infinity',
    'NaN',
    '1234567890123456',
    '-1700000000',
    '1700000000.1234567',
    '+1700000000',
    '1e9',
    '',
  ];
  expect(await parse(refused)).toEqual(refused.map(() => null));
});

test('treats NULL and whitespace-only values as no value', async () => {
  expect(await parse([null, ' ', '\t\n'])).toEqual([null, null, null]);
});

test('reads offset-less values in the configured legacy time zone and refuses wall-clock times DST skipped or repeated', async () => {
  const raws = [
    '2024-07-01 12:00:00', // CEST, UTC+2
    '2024-01-15T12:00:00', // CET, UTC+1
    '2024-03-31 02:30:00', // skipped: clocks went from 02:00 to 03:00
    '2024-10-27 02:30:00', // shown twice: clocks went from 03:00 back to 02:00
    '2024-10-27 01:30:00',
    '2024-10-27 03:30:00',
    '2024-07-01T12:00:00Z', // an explicit offset wins over the setting
    '1719835200', // epoch values have no zone
  ];
  expect(await parse(raws, 'Europe/Paris')).toEqual([
    '2024-07-01T10:00:00.000000Z',
    '2024-01-15T11:00:00.000000Z',
    null,
    null,
    '2024-10-26T23:30:00.000000Z',
    '2024-10-27T02:30:00.000000Z',
    '2024-07-01T12:00:00.000000Z',
    '2024-07-01T12:00:00.000000Z',
  ]);
});
