// The export's CSV cells read back to exactly what was written: null apart from '', formula
// guards removed once, quotes, commas and line breaks inside cells.
import { csvCell, readCsv } from '../src/index.js';

const values = [
  null,
  '',
  'plain',
  '=SUM(A1)',
  '+1',
  '-1',
  '@cmd',
  '\tindented',
  "'already quoted",
  "''twice",
  'a, "quoted" word\r\nand a second line',
  { details: ['=x', null] },
];

it('reads back every value csvCell wrote, row by row', () => {
  const row = values.map(csvCell).join(',');
  const text = `${row}\r\n${row}\r\n`;
  const expected = values.map((value) =>
    value === null ? null : typeof value === 'object' ? JSON.stringify(value) : value,
  );
  expect(readCsv(text)).toEqual([expected, expected]);
  expect(csvCell('=SUM(A1)')).toBe("'=SUM(A1)");
  expect(csvCell('')).toBe('""');
  expect(csvCell(null)).toBe('');
});

it('keeps a trailing empty cell, and refuses a quoted cell left open', () => {
  expect(readCsv('a,\r\nb,""\r\n')).toEqual([
    ['a', null],
    ['b', ''],
  ]);
  expect(() => readCsv('"open')).toThrow('a quoted cell is not closed');
  expect(() => readCsv('"a"b')).toThrow('followed by something other than a comma');
});
