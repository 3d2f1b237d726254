import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import {
  describeRawValue,
  makeEncoder,
  RejectedValue,
  sqliteRealText,
  storageClass,
  type Encoder,
} from '../../src/plan/convert';
import type { ConverterSpec } from '../../src/types';
import type { SqliteValue } from '../../src/sqlite/types';

type Ok = [input: SqliteValue, output: string];
type Bad = [input: SqliteValue, reasonPart: RegExp];

function rejection(enc: Encoder, v: SqliteValue): RejectedValue {
  try {
    const out = enc(v);
    throw new Error(`expected a rejection, got ${JSON.stringify(out)}`);
  } catch (e) {
    if (!(e instanceof RejectedValue)) throw e;
    return e;
  }
}

function table(spec: ConverterSpec, ok: Ok[], bad: Bad[] = []) {
  const enc = makeEncoder(spec);
  describe(JSON.stringify(spec), () => {
    it('encodes NULL as \\N', () => {
      expect(enc(null)).toBe('\\N');
    });
    it.each(ok.map(([i, o]) => [describeRawValue(i), i, o] as const))('%s → exact field', (_d, input, out) => {
      expect(enc(input)).toBe(out);
    });
    if (bad.length) {
      it.each(bad.map(([i, r]) => [describeRawValue(i), i, r] as const))('%s → rejected', (_d, input, re) => {
        const e = rejection(enc, input);
        expect(e.reason).toMatch(re);
        expect(e.valueClass).toBe(storageClass(input));
      });
    }
  });
}

const b = (hex: string) => Buffer.from(hex, 'hex');

describe('integers', () => {
  table(
    { kind: 'integer', bits: 64 },
    [
      [9223372036854775807n, '9223372036854775807'],
      [-9223372036854775808n, '-9223372036854775808'],
      [0n, '0'],
      [42, '42'],
      [-0, '0'],
      [2 ** 62, '4611686018427387904'], // exact, not String(2**62) = 4611686018427388000
      [-(2 ** 63), '-9223372036854775808'],
      [9007199254740993n, '9007199254740993'],
      ['123', '123'],
      ['-5', '-5'],
      ['+7', '7'],
      ['0', '0'],
      ['-9223372036854775808', '-9223372036854775808'],
    ],
    [
      [2 ** 63, /outside the range of bigint/],
      [1.5, /not a whole number/],
      [NaN, /not a whole number/],
      [Infinity, /not a whole number/],
      ['abc', /text 'abc' is not an integer/],
      ['007', /leading zeros/],
      ['1.0', /is not an integer/],
      [' 1', /is not an integer/],
      ['', /is not an integer/],
      ['-', /is not an integer/],
      ['1e3', /is not an integer/],
      ['9223372036854775808', /outside the range of bigint/],
      [b('01'), /blob of 1 bytes cannot be stored in a bigint/],
    ],
  );
  table(
    { kind: 'integer', bits: 32 },
    [
      [2147483647n, '2147483647'],
      [-2147483648n, '-2147483648'],
      [2147483647, '2147483647'],
    ],
    [
      [2147483648n, /outside the range of integer/],
      [-2147483649n, /outside the range of integer/],
      [2147483648, /outside the range of integer/],
      ['2147483648', /outside the range of integer/],
    ],
  );
  table(
    { kind: 'integer', bits: 16 },
    [
      [32767n, '32767'],
      [-32768n, '-32768'],
      [12.0, '12'],
    ],
    [
      [32768n, /outside the range of smallint \(-32768 to 32767\)/],
      [-32769, /outside the range of smallint/],
    ],
  );
});

describe('double precision', () => {
  table(
    { kind: 'float' },
    [
      [0.1 + 0.2, '0.30000000000000004'],
      [0.1, '0.1'],
      [1e-320, '1e-320'],
      [5e-324, '5e-324'],
      [-0, '-0'],
      [0, '0'],
      [Infinity, 'Infinity'],
      [-Infinity, '-Infinity'],
      [NaN, 'NaN'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [16777217, '16777217'], // float4 would round this to 16777216
      [3.4028235677973366e38, '3.4028235677973366e+38'],
      [0.30000001192092896, '0.30000001192092896'],
      [123n, '123'],
      [9007199254740992n, '9007199254740992'],
      [-9007199254740992n, '-9007199254740992'],
      [2n ** 60n, '1152921504606847000'], // exactly 2^60 as a double
      ['1.50', '1.5'],
      ['-0', '-0'],
      ['1e10', '10000000000'],
      ['0.30000000000000004', '0.30000000000000004'],
      ['.5', '0.5'],
      ['Infinity', 'Infinity'],
      ['-inf', '-Infinity'],
      ['NaN', 'NaN'],
    ],
    [
      [9007199254740993n, /not exactly representable as a double; precision would be lost/],
      [9223372036854775807n, /precision would be lost/],
      ['abc', /is not a number/],
      ['0.1000000000000000000001', /more precision than double precision holds/],
      ['9007199254740993', /more precision than double precision holds/],
      ['1e400', /outside the range of double precision/],
      ['1e-400', /too small for double precision/],
      [' 1', /is not a number/],
      [b('00'), /cannot be stored in a double precision column/],
    ],
  );
});

describe('numeric', () => {
  table(
    { kind: 'numeric' },
    [
      [0.1, '0.1'],
      [0.1 + 0.2, '0.30000000000000004'],
      [1e21, '1e+21'],
      [1.2e-7, '1.2e-7'],
      [-0, '0'],
      [Infinity, 'Infinity'],
      [-Infinity, '-Infinity'],
      [NaN, 'NaN'],
      [9223372036854775807n, '9223372036854775807'],
      [-9223372036854775808n, '-9223372036854775808'],
      ['1.500', '1.500'],
      ['12345678901234567890.123456789', '12345678901234567890.123456789'],
      ['.5', '.5'],
      ['-1e-3', '-1e-3'],
      ['nan', 'NaN'],
      ['-Infinity', '-Infinity'],
    ],
    [
      ['abc', /is not a number/],
      ['1,5', /is not a number/],
      ['1e131073', /outside the range of PostgreSQL numeric/],
      [b('31'), /cannot be stored in a numeric column/],
    ],
  );
  table(
    { kind: 'numeric', precision: 10, scale: 2 },
    [
      [1.25, '1.25'],
      [12345678.99, '12345678.99'],
      ['0.10', '0.10'],
      [5n, '5'],
      [NaN, 'NaN'],
      ['1.500', '1.500'],
    ],
    [
      [1.005, /3 digits after the decimal point; numeric\(10,2\) would round it/],
      [0.1 + 0.2, /would round it/],
      [123456789.5, /would round|digits before the decimal point/],
      [123456789n, /9 digits before the decimal point; numeric\(10,2\) holds at most 8/],
      [Infinity, /cannot hold infinity/],
      ['Infinity', /cannot hold infinity/],
      ['1.234', /would round it/],
    ],
  );
});

describe('text', () => {
  table(
    { kind: 'text' },
    [
      ['plain', 'plain'],
      ['', ''],
      ['a\tb', 'a\\tb'],
      ['line1\nline2', 'line1\\nline2'],
      ['cr\r', 'cr\\r'],
      ['back\\slash', 'back\\\\slash'],
      ['\\N', '\\\\N'],
      ['\\.', '\\\\.'],
      ['héllo 😀 中文', 'héllo 😀 中文'],
      ['\u0001\u001f', '\u0001\u001f'],
      [12n, '12'],
      [-9223372036854775808n, '-9223372036854775808'],
      [1.5, '1.5'],
      [3, '3.0'],
      [1e21, '1.0e+21'],
      [1e-5, '1.0e-05'],
      [b('68c3a96c6c6f'), 'héllo'],
      [b(''), ''],
      [b('0a'), '\\n'],
    ],
    [
      ['a\0b', /contains a NUL byte, which PostgreSQL text cannot store/],
      ['\ud800x', /unpaired UTF-16 surrogate/],
      [b('ff'), /blob of 1 bytes is not valid UTF-8 text/],
      [b('c328'), /not valid UTF-8/],
      [b('610062'), /NUL byte/],
    ],
  );
  it('names the text value in the reason', () => {
    const e = rejection(makeEncoder({ kind: 'text' }), 'abc\0def');
    expect(e.reason).toBe("text 'abc\\0def' contains a NUL byte, which PostgreSQL text cannot store");
  });
  it('strips NUL characters only under onNul=strip', () => {
    expect(makeEncoder({ kind: 'text' }, { onNul: 'strip' })('a\0b\tc')).toBe('ab\\tc');
  });
  it('decodes invalid UTF-8 with U+FFFD only under onInvalidUtf8=replace', () => {
    expect(makeEncoder({ kind: 'text' }, { onInvalidUtf8: 'replace' })(b('61ff62'))).toBe('a\ufffdb');
  });
  table(
    { kind: 'text', maxLength: 3 },
    [
      ['abc', 'abc'],
      ['😀😀😀', '😀😀😀'], // 3 characters, 6 UTF-16 units
    ],
    [
      ['abcd', /is 4 characters long; varchar\(3\) holds at most 3 \(it is never truncated\)/],
      ['😀😀😀😀', /is 4 characters long/],
    ],
  );
});

describe('text form of REAL values matches SQLite', () => {
  const db = new Database(':memory:');
  const cast = db.prepare('SELECT CAST(? AS TEXT) AS t');
  const exact = [0.5, 3, 100, 1e21, 1e-5, 1e-4, 1e16, 1e17, 0.1, 0.1 + 0.2, 1.5e-7, -2.5, 123456.789, 1.7976931348623157e308, -1e100];
  it.each(exact)('%s prints as SQLite prints it', (v) => {
    expect(sqliteRealText(v)).toBe((cast.get(v) as { t: string }).t);
  });
  it('denotes the same double as SQLite for random values, with the same layout', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < 3000; i++) {
      const v = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20);
      const ours = sqliteRealText(v);
      const theirs = (cast.get(v) as { t: string }).t;
      expect(Number(ours)).toBe(v);
      expect(Number(theirs)).toBe(v);
      expect(ours.includes('e')).toBe(theirs.includes('e'));
    }
  });
  it('keeps the sign of -0 and names infinities like SQLite', () => {
    expect(sqliteRealText(-0)).toBe('-0.0');
    expect(sqliteRealText(Infinity)).toBe((cast.get(Infinity) as { t: string }).t);
  });
});

describe('bytea', () => {
  table({ kind: 'bytea' }, [
    [b('000102ff5c090a'), '\\\\x000102ff5c090a'],
    [b(''), '\\\\x'],
    ['héllo', '\\\\x68c3a96c6c6f'], // text declared BLOB: the bytes of that text
    ['a\0b', '\\\\x610062'],
    [12n, '\\\\x3132'],
    [0.5, '\\\\x302e35'],
  ]);
});

describe('boolean', () => {
  table(
    { kind: 'boolean' },
    [
      [0n, 'f'],
      [1n, 't'],
      [0, 'f'],
      [1, 't'],
      [-0, 'f'],
      ['0', 'f'],
      ['1', 't'],
      ['t', 't'],
      ['F', 'f'],
      ['TRUE', 't'],
      ['false', 'f'],
      ['Yes', 't'],
      ['no', 'f'],
      ['y', 't'],
      ['N', 'f'],
      ['on', 't'],
      ['OFF', 'f'],
    ],
    [
      [2n, /integer 2 is not a boolean/],
      [-1n, /is not a boolean/],
      [0.5, /is not a boolean/],
      ['maybe', /is not a boolean/],
      ['', /is not a boolean/],
      [' true', /is not a boolean/],
      [b('01'), /cannot be stored in a boolean column/],
    ],
  );
});

describe('timestamp (naive)', () => {
  table(
    { kind: 'timestamp' },
    [
      ['2024-02-29', '2024-02-29 00:00:00'],
      ['2024-02-29 23:59:59', '2024-02-29 23:59:59'],
      ['2024-01-01T10:00', '2024-01-01 10:00:00'],
      ['2024-01-01t10:00:05', '2024-01-01 10:00:05'],
      ['2024-01-01 10:00:00.5', '2024-01-01 10:00:00.5'],
      ['2024-01-01 10:00:00.123456', '2024-01-01 10:00:00.123456'],
      ['2024-01-01 10:00:00.1234560000', '2024-01-01 10:00:00.123456'],
      ['20240101103000', '2024-01-01 10:30:00'],
      ['2000-02-29 00:00:00', '2000-02-29 00:00:00'],
      ['0001-01-01 00:00:00', '0001-01-01 00:00:00'],
      ['9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999'],
      [2460000.5, '2023-02-25 00:00:00'], // Julian day
      [2440587.5, '1970-01-01 00:00:00'],
      [2440588.0, '1970-01-01 12:00:00'],
      [2440587.5 + 1.5 / 86400, '1970-01-01 00:00:01.5'],
      // 'YYYYMMDDHHMMSS' text that NUMERIC affinity (DATETIME) stored as an integer
      [20240229103000n, '2024-02-29 10:30:00'],
    ],
    [
      ['2023-02-29', /not a valid date \(February 2023 has 28 days\)/],
      ['1900-02-29', /February 1900 has 28 days/],
      ['2024-04-31', /April 2024 has 30 days/],
      ['2024-13-01', /month 13/],
      ['2024-00-10', /month 00/],
      ['0000-01-01', /year 0000/],
      ['2024-01-01 24:00:00', /hour 24; PostgreSQL would roll it into the next day/],
      ['2016-12-31 23:59:60', /leap second/],
      ['2024-01-01 10:60', /minute 60/],
      ['2024-01-01 10:00:00.1234567', /7 fractional digits; PostgreSQL keeps microseconds \(6\) and would round it/],
      ['2024-01-01 10:00:00Z', /carries a time zone \(Z\); timestamp without time zone would drop it/],
      ['2024-01-01 10:00:00+02:00', /carries a time zone \(\+02:00\)/],
      ['yesterday', /is not an ISO-8601 date\/time/],
      ['2024/01/01', /is not an ISO-8601 date\/time/],
      ['2024-01-01 10', /is not an ISO-8601 date\/time/],
      ['2024-01-01 10:00:00 junk', /is not an ISO-8601 date\/time/],
      [1700000000n, /integer 1700000000 is not a date\/time; if the column holds Unix epochs use --map <table>.<column>=timestamp:s \(or :ms\/:us\) — it is never read as a year/],
      [20230229103000n, /integer 20230229103000 is not a valid date \(February 2023 has 28 days\)/],
      [20240101103000.5, /not a Julian day/],
      [1700000000.5, /not a Julian day between years 0001 and 9999/],
      [-1, /not a Julian day/],
      [b('00'), /cannot be stored in a timestamp column/],
    ],
  );
});

describe('timestamptz', () => {
  table(
    { kind: 'timestamptz' },
    [
      ['2024-01-01 10:00:00+02:00', '2024-01-01 10:00:00+02:00'],
      ['2024-01-01T10:00:00Z', '2024-01-01 10:00:00+00:00'],
      ['2024-01-01T10:00:00z', '2024-01-01 10:00:00+00:00'],
      ['2024-01-01 10:00:00-0530', '2024-01-01 10:00:00-05:30'],
      ['2024-01-01 10:00:00 +05', '2024-01-01 10:00:00+05:00'],
      ['2024-01-01 10:00:00.25+15:59', '2024-01-01 10:00:00.25+15:59'],
      // naive text is read as UTC
      ['2024-01-01 10:00:00', '2024-01-01 10:00:00+00'],
      ['2024-01-01', '2024-01-01 00:00:00+00'],
    ],
    [
      ['2024-01-01 10:00:00+16:00', /UTC offset beyond ±15:59/],
      ['2024-01-01 10:00:00+02:60', /not an ISO-8601/],
      ['2024-01-01 10:00:00+2', /not an ISO-8601/],
      [1n, /timestamptz:s/],
    ],
  );
});

describe('date', () => {
  table(
    { kind: 'date' },
    [
      ['2024-02-29', '2024-02-29'],
      ['2024-01-01 00:00:00', '2024-01-01'],
      ['2024-01-01T00:00:00.000', '2024-01-01'],
      [2460000.5, '2023-02-25'],
      [20240229n, '2024-02-29'],
    ],
    [
      ['2024-01-01 10:00:00', /has a time of day; a date column would drop it/],
      ['2024-01-01T00:00:00Z', /carries a time zone/],
      ['2023-02-29', /February 2023 has 28 days/],
      [2460000.75, /has a time of day/],
      [20230229n, /integer 20230229 is not a valid YYYYMMDD date/],
      [1700000000n, /is not a date\/time; if the column holds Unix epochs use --map <table>.<column>=timestamp:s/],
    ],
  );
});

describe('epoch', () => {
  table(
    { kind: 'epoch', unit: 's', tz: false },
    [
      [0n, '1970-01-01 00:00:00'],
      [1700000000n, '2023-11-14 22:13:20'],
      [-1n, '1969-12-31 23:59:59'],
      [-86401n, '1969-12-30 23:59:59'],
      [951782400n, '2000-02-29 00:00:00'],
      [253402300799n, '9999-12-31 23:59:59'],
      [-62135596800n, '0001-01-01 00:00:00'],
      [1700000000, '2023-11-14 22:13:20'],
      [1700000000.25, '2023-11-14 22:13:20.25'],
      [1700000000.123456, '2023-11-14 22:13:20.123456'],
      ['1700000000', '2023-11-14 22:13:20'],
    ],
    [
      [253402300800n, /outside years 0001–9999 \(check the unit\)/],
      [-62135596801n, /outside years 0001–9999/],
      [1700000000.1234567, /sub-microsecond precision/],
      [Infinity, /not a finite epoch/],
      ['soon', /is not an epoch in seconds/],
      [b('00'), /cannot be read as an epoch/],
    ],
  );
  table(
    { kind: 'epoch', unit: 'ms', tz: true },
    [
      [1700000000123n, '2023-11-14 22:13:20.123+00'],
      [-1n, '1969-12-31 23:59:59.999+00'],
      [1700000000123.5, '2023-11-14 22:13:20.1235+00'],
    ],
    [[1700000000123.0005, /sub-microsecond/]],
  );
  table(
    { kind: 'epoch', unit: 'us', tz: false },
    [
      [1700000000123456n, '2023-11-14 22:13:20.123456'],
      [-1n, '1969-12-31 23:59:59.999999'],
      [-1700000000123456n, '1916-02-18 01:46:39.876544'],
    ],
    [
      [9223372036854775807n, /outside years 0001–9999/],
      [0.5, /sub-microsecond/],
    ],
  );
});

describe('jsonb', () => {
  table(
    { kind: 'jsonb' },
    [
      ['{"a":1}', '{"a":1}'],
      ['[1, 2.5, "x"]', '[1, 2.5, "x"]'],
      ['"str"', '"str"'],
      ['null', 'null'],
      ['{"k":"tab\\there"}', '{"k":"tab\\\\there"}'],
      ['{\n "a": 1\n}', '{\\n "a": 1\\n}'],
      ['{"lit":"\\\\u0000"}', '{"lit":"\\\\\\\\u0000"}'], // an escaped backslash, not a NUL
      ['{"\\ud83d\\ude00":1}', '{"\\\\ud83d\\\\ude00":1}'],
      [12n, '12'],
      [0.5, '0.5'],
    ],
    [
      ['{a:1}', /is not valid JSON/],
      ['', /is not valid JSON/],
      ['{"a":"\\u0000"}', /contains \\u0000, which PostgreSQL jsonb refuses/],
      ['{"\\u0000":1}', /\\u0000/],
      ['["\\ud800"]', /unpaired/],
      [NaN, /JSON has no NaN or Infinity/],
      [b('7b7d'), /cannot be stored in a jsonb column/],
    ],
  );
});

describe('uuid', () => {
  table(
    { kind: 'uuid' },
    [
      ['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
      ['a0eebc999c0b4ef8bb6d6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
      [b('a0eebc999c0b4ef8bb6d6bb9bd380a11'), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
    ],
    [
      ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g', /is not a UUID/],
      ['{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', /is not a UUID/],
      ['a0eebc99_9c0b_4ef8_bb6d_6bb9bd380a11', /is not a UUID/],
      [b('a0eebc99'), /a UUID blob has 16 bytes/],
      [1n, /cannot be stored in a uuid column/],
    ],
  );
});

describe('describeRawValue', () => {
  it.each([
    [null, 'NULL'],
    [9223372036854775807n, '9223372036854775807'],
    [0.1 + 0.2, '0.30000000000000004'],
    [-0, '-0'],
    [NaN, 'NaN'],
    ['abc', 'abc'],
    ['a\0b', 'a\\0b'],
    [b('00ff'), '\\x00ff'],
  ] as [SqliteValue, string][])('%s', (v, out) => {
    expect(describeRawValue(v)).toBe(out);
  });
  it('truncates long text with a marker and the length', () => {
    const d = describeRawValue('x'.repeat(500));
    expect(d).toBe('x'.repeat(200) + '… (500 chars)');
  });
  it('truncates long blobs as hex with the byte count', () => {
    const d = describeRawValue(Buffer.alloc(300, 0xab));
    expect(d).toBe('\\x' + 'ab'.repeat(100) + '… (300 bytes)');
  });
});

describe('storageClass', () => {
  it.each([
    [null, 'null'],
    [1n, 'integer'],
    [1.5, 'real'],
    ['x', 'text'],
    [b('00'), 'blob'],
  ] as [SqliteValue, string][])('%s is %s', (v, c) => {
    expect(storageClass(v)).toBe(c);
  });
});

describe('RejectedValue', () => {
  it('is an Error carrying reason and value class', () => {
    const e = rejection(makeEncoder({ kind: 'integer', bits: 64 }), 'abc');
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe("text 'abc' is not an integer");
    expect(e.valueClass).toBe('text');
  });
});

describe('throughput', () => {
  it('encodes a million bigints and doubles quickly', () => {
    const ints = makeEncoder({ kind: 'integer', bits: 64 });
    const floats = makeEncoder({ kind: 'float' });
    const texts = makeEncoder({ kind: 'text' });
    const t0 = performance.now();
    let n = 0;
    for (let i = 0; i < 1_000_000; i++) {
      n += ints(BigInt(i)).length + floats(i * 0.37).length + texts('customer name').length;
    }
    const ms = performance.now() - t0;
    expect(n).toBeGreaterThan(0);
    expect(ms).toBeLessThan(3000);
  });
});
