import { describe, expect, it } from 'vitest';
import { mapColumn, translateDefault, type MapColumnInput, type MappedColumn } from '../../src/plan/typemap';
import { sqliteAffinity, parseDeclaredType } from '../../src/plan/affinity';
import type { ColumnProfile } from '../../src/sqlite/types';

function prof(p: Partial<ColumnProfile> = {}): ColumnProfile {
  const base: ColumnProfile = {
    rows: 0,
    nulls: 0,
    integers: 0,
    reals: 0,
    texts: 0,
    blobs: 0,
    minInteger: null,
    maxInteger: null,
    zeroOne: false,
    jsonTexts: 0,
    uuidTexts: 0,
    isoNaiveTexts: 0,
    isoZonedTexts: 0,
    dateTexts: 0,
    maxTextLength: 0,
    numericTexts: 0,
    wholeReals: 0,
    maxScale: 0,
    maxPrecision: 0,
    booleanTexts: 0,
    uuidBlobs: 0,
  };
  const out = { ...base, ...p };
  if (p.rows === undefined) out.rows = out.nulls + out.integers + out.reals + out.texts + out.blobs;
  return out;
}

const ints = (min: bigint | number, max: bigint | number, n = 10, extra: Partial<ColumnProfile> = {}) =>
  prof({
    integers: n,
    minInteger: String(min),
    maxInteger: String(max),
    zeroOne: BigInt(min) >= 0n && BigInt(max) <= 1n,
    maxPrecision: Math.max(String(min).replace('-', '').length, String(max).replace('-', '').length),
    ...extra,
  });

function map(declaredType: string, profile: ColumnProfile, opts: Partial<MapColumnInput> & { name?: string } = {}): MappedColumn {
  return mapColumn({
    table: 't',
    column: { name: opts.name ?? 'c', declaredType, notNull: false, defaultSql: null, pkIndex: 0, hidden: 0, collation: null },
    profile,
    isRowidAlias: opts.isRowidAlias ?? false,
    override: opts.override ?? null,
    infer: opts.infer ?? false,
    strict: opts.strict,
  });
}

describe('SQLite affinity (datatype3 §3.1)', () => {
  it.each([
    ['INTEGER', 'INTEGER'],
    ['tinyint', 'INTEGER'],
    ['UNSIGNED BIG INT', 'INTEGER'],
    ['INTEGER_OR_TEXT', 'INTEGER'],
    ['POINT', 'INTEGER'], // contains "INT"
    ['VARCHAR(255)', 'TEXT'],
    ['NCHAR(10)', 'TEXT'],
    ['CLOB', 'TEXT'],
    ['BLOB', 'BLOB'],
    ['', 'BLOB'],
    ['REAL', 'REAL'],
    ['FLOAT', 'REAL'],
    ['DOUBLE PRECISION', 'REAL'],
    ['NUMERIC', 'NUMERIC'],
    ['DECIMAL(10,2)', 'NUMERIC'],
    ['BOOLEAN', 'NUMERIC'],
    ['DATETIME', 'NUMERIC'],
    ['STRING', 'NUMERIC'],
    ['ENUM', 'NUMERIC'],
    ['YEAR', 'NUMERIC'],
    ['CHARINT', 'INTEGER'], // rule 1 wins over rule 2
  ])('%s → %s', (decl, aff) => {
    expect(sqliteAffinity(decl)).toBe(aff);
  });
  it('parses names and parameters', () => {
    expect(parseDeclaredType('decimal( 10 , 2 )')).toMatchObject({ name: 'DECIMAL', params: [10, 2] });
    expect(parseDeclaredType('character  varying(40)')).toMatchObject({ name: 'CHARACTER VARYING', params: [40] });
    expect(parseDeclaredType('INT UNSIGNED')).toMatchObject({ name: 'INT UNSIGNED', params: [] });
  });
});

describe('mapColumn: integers', () => {
  it.each([
    ['INTEGER', ints(-5, 5), 'bigint', 64],
    ['BIGINT', ints(0, 10), 'bigint', 64],
    ['INT', ints(-2147483648n, 2147483647n), 'integer', 32],
    ['INT4', ints(0, 1000), 'integer', 32],
    ['MEDIUMINT', ints(0, 1000), 'integer', 32],
    ['INT', ints(0, 2147483648n), 'bigint', 64],
    ['SMALLINT', ints(-32768, 32767), 'smallint', 16],
    ['INT2', ints(0, 40000), 'bigint', 64],
    ['tinyint', ints(0, 200), 'smallint', 16],
    ['UNSIGNED BIG INT', ints(0, 9223372036854775807n), 'bigint', 64],
    ['INTEGER_OR_TEXT', ints(1, 2), 'bigint', 64],
    ['INT UNSIGNED', ints(0, 4000000000), 'bigint', 64],
  ] as const)('%s with %o → %s', (decl, p, pg, bits) => {
    const m = map(decl, p);
    expect(m.pgType).toBe(pg);
    expect(m.converter).toEqual({ kind: 'integer', bits });
    expect(m.warnings).toEqual([]);
  });

  it('explains why a narrow declared type became bigint', () => {
    const m = map('SMALLINT', ints(0, 40000));
    expect(m.reason).toMatch(/values 0\.\.40000 exceed smallint/);
  });

  it('keeps texts in an INTEGER column by mapping to text, naming the counts', () => {
    const m = map('INTEGER', prof({ integers: 7, texts: 3, minInteger: '1', maxInteger: '9' }));
    expect(m.pgType).toBe('text');
    expect(m.converter).toEqual({ kind: 'text' });
    expect(m.warnings.join()).toMatch(/declared INTEGER holds 7 integer, 3 text values: mapped to text/);
  });

  it('integers and fractional reals → double precision when every integer is exact', () => {
    const m = map('INTEGER', prof({ integers: 2, reals: 1, minInteger: '1', maxInteger: '9007199254740992' }));
    expect(m.pgType).toBe('double precision');
    expect(m.warnings.join()).toMatch(/2 integer, 1 real values/);
  });

  it('integers beyond 2^53 and reals → numeric', () => {
    const m = map('INTEGER', prof({ integers: 2, reals: 1, minInteger: '1', maxInteger: '9007199254740993' }));
    expect(m.pgType).toBe('numeric');
    expect(m.converter).toEqual({ kind: 'numeric' });
  });

  it('an INTEGER PRIMARY KEY rowid alias is bigint', () => {
    const m = map('INTEGER', ints(1, 100), { isRowidAlias: true });
    expect(m).toMatchObject({ pgType: 'bigint', converter: { kind: 'integer', bits: 64 } });
    expect(m.reason).toMatch(/rowid/);
  });

  it('empty columns follow the declared width', () => {
    expect(map('SMALLINT', prof({ rows: 3, nulls: 3 })).pgType).toBe('smallint');
    expect(map('INTEGER', prof()).pgType).toBe('bigint');
  });
});

describe('mapColumn: reals and numerics', () => {
  it.each(['REAL', 'FLOAT', 'DOUBLE', 'DOUBLE PRECISION', 'float8'])('%s → double precision, never real', (decl) => {
    const m = map(decl, prof({ reals: 5 }));
    expect(m.pgType).toBe('double precision');
    expect(m.converter).toEqual({ kind: 'float' });
    expect(m.reason).toMatch(/lossless; float4 would round/);
  });

  it('REAL holding text → text with a warning', () => {
    const m = map('REAL', prof({ reals: 5, texts: 1 }));
    expect(m.pgType).toBe('text');
    expect(m.warnings.join()).toMatch(/5 real, 1 text values/);
  });

  it('DECIMAL(10,2) → numeric(10,2) when every value fits', () => {
    const m = map('DECIMAL(10,2)', prof({ reals: 3, integers: 1, minInteger: '5', maxInteger: '5', maxScale: 2, maxPrecision: 10 }));
    expect(m.pgType).toBe('numeric(10,2)');
    expect(m.converter).toEqual({ kind: 'numeric', precision: 10, scale: 2 });
  });

  it('DECIMAL(10,2) → numeric when a value has more scale', () => {
    const m = map('DECIMAL(10,2)', prof({ reals: 3, maxScale: 3, maxPrecision: 5 }));
    expect(m.pgType).toBe('numeric');
    expect(m.converter).toEqual({ kind: 'numeric' });
    expect(m.warnings.join()).toMatch(/do not fit numeric\(10,2\)/);
  });

  it('DECIMAL(5,2) → numeric when a value has too many integer digits', () => {
    const m = map('DECIMAL(5,2)', prof({ reals: 3, maxScale: 1, maxPrecision: 5 }));
    expect(m.pgType).toBe('numeric');
    expect(m.reason).toMatch(/4 digits before and 1 after/);
  });

  it('NUMERIC(8) means scale 0', () => {
    expect(map('NUMERIC(8)', ints(0, 99999999)).pgType).toBe('numeric(8,0)');
  });

  it('NUMERIC with numeric texts stays numeric; with other texts becomes text', () => {
    expect(map('NUMERIC', prof({ integers: 1, minInteger: '1', maxInteger: '1', texts: 2, numericTexts: 2 })).pgType).toBe('numeric');
    const m = map('NUMERIC', prof({ integers: 1, minInteger: '1', maxInteger: '1', texts: 2, numericTexts: 1 }));
    expect(m.pgType).toBe('text');
    expect(m.warnings.join()).toMatch(/1 integer, 2 text values/);
  });
});

describe('mapColumn: booleans', () => {
  it('BOOLEAN with 0/1 → boolean', () => {
    expect(map('BOOLEAN', ints(0, 1)).converter).toEqual({ kind: 'boolean' });
    expect(map('BOOL', ints(0, 1)).pgType).toBe('boolean');
  });
  it('BOOLEAN with boolean words → boolean', () => {
    const m = map('BOOLEAN', prof({ texts: 4, booleanTexts: 4 }));
    expect(m.pgType).toBe('boolean');
    expect(m.reason).toMatch(/boolean words/);
  });
  it('BOOLEAN with other integers → bigint with a warning', () => {
    const m = map('BOOLEAN', ints(0, 2));
    expect(m.pgType).toBe('bigint');
    expect(m.warnings.join()).toMatch(/integers other than 0\/1 \(0\.\.2\)/);
  });
  it('BOOLEAN with other text → text with a warning', () => {
    const m = map('BOOLEAN', prof({ texts: 4, booleanTexts: 3 }));
    expect(m.pgType).toBe('text');
    expect(m.warnings.join()).toMatch(/not all 0\/1 or boolean words/);
  });
});

describe('mapColumn: dates and times', () => {
  it('naive ISO text → timestamp (no shift)', () => {
    const m = map('DATETIME', prof({ texts: 5, isoNaiveTexts: 4, dateTexts: 1 }));
    expect(m.pgType).toBe('timestamp');
    expect(m.converter).toEqual({ kind: 'timestamp' });
    expect(m.reason).toMatch(/no time-zone shift/);
  });
  it('zoned ISO text → timestamptz', () => {
    const m = map('TIMESTAMP', prof({ texts: 5, isoZonedTexts: 5 }));
    expect(m).toMatchObject({ pgType: 'timestamptz', converter: { kind: 'timestamptz' } });
  });
  it('naive and zoned mixed → text with a warning', () => {
    const m = map('DATETIME', prof({ texts: 5, isoZonedTexts: 2, isoNaiveTexts: 3 }));
    expect(m.pgType).toBe('text');
    expect(m.warnings.join()).toMatch(/mixes 2 zoned and 3 naive/);
  });
  it('non-ISO text → text with a warning', () => {
    const m = map('DATETIME', prof({ texts: 5, isoNaiveTexts: 3 }));
    expect(m.pgType).toBe('text');
    expect(m.warnings.join()).toMatch(/2 text values that are not ISO-8601/);
  });
  it('integer epochs in DATETIME stay bigint (never years) with a suggestion', () => {
    const m = map('DATETIME', ints(1600000000, 1700000000), { name: 'created' });
    expect(m.pgType).toBe('bigint');
    expect(m.reason).toMatch(/never read as years/);
    expect(m.warnings.join()).toMatch(/kept as bigint; they look like epoch seconds; use --map t\.created=timestamp:s/);
    expect(m.suggestions.join()).toMatch(/--map t\.created=timestamp:s/);
  });
  it('small integers in DATETIME (pgloader reads them as years) stay bigint', () => {
    const m = map('DATETIME', ints(0, 2024), { name: 'EndTime' });
    expect(m.pgType).toBe('bigint');
    expect(m.warnings.join()).toMatch(/kept as bigint; if they are Unix epochs use --map t\.EndTime=timestamp:s \(or :ms\/:us\)/);
    expect(m.suggestions).toEqual([]);
  });
  it('--infer applies the epoch unit', () => {
    const m = map('DATETIME', ints(1600000000000n, 1700000000000n), { infer: true });
    expect(m.converter).toEqual({ kind: 'epoch', unit: 'ms', tz: false });
    expect(m.pgType).toBe('timestamp');
    expect(m.reason).toMatch(/^--infer/);
  });
  it('YYYYMMDDHHMMSS integers (NUMERIC affinity) → timestamp', () => {
    const m = map('DATETIME', ints(20240101103000n, 20241231235959n));
    expect(m).toMatchObject({ pgType: 'timestamp', converter: { kind: 'timestamp' } });
  });
  it('DATE with bare dates → date; with times → timestamp', () => {
    expect(map('DATE', prof({ texts: 3, dateTexts: 3 })).pgType).toBe('date');
    const m = map('DATE', prof({ texts: 3, dateTexts: 1, isoNaiveTexts: 2 }));
    expect(m.pgType).toBe('timestamp');
    expect(m.warnings.join()).toMatch(/2 values with a time of day/);
  });
  it('TIMESTAMPTZ with naive text → timestamptz read as UTC', () => {
    const m = map('TIMESTAMP WITH TIME ZONE', prof({ texts: 3, isoNaiveTexts: 3 }));
    expect(m.pgType).toBe('timestamptz');
    expect(m.warnings.join()).toMatch(/read as UTC/);
  });
  it('an empty DATETIME column → timestamp', () => {
    expect(map('DATETIME', prof({ rows: 2, nulls: 2 })).pgType).toBe('timestamp');
  });
  it('Julian-day reals → double precision with a hint', () => {
    const m = map('DATETIME', prof({ reals: 3 }));
    expect(m.pgType).toBe('double precision');
    expect(m.warnings.join()).toMatch(/Julian days use --map t\.c=timestamp/);
  });
});

describe('mapColumn: json, uuid, text', () => {
  it('JSON → jsonb when every text is JSON', () => {
    expect(map('JSON', prof({ texts: 3, jsonTexts: 3 })).converter).toEqual({ kind: 'jsonb' });
    const m = map('JSON', prof({ texts: 3, jsonTexts: 2 }));
    expect(m.pgType).toBe('text');
    expect(m.warnings.join()).toMatch(/1 of 3 texts are not JSON/);
  });
  it('UUID → uuid when every value is a UUID (text or 16-byte blob)', () => {
    expect(map('UUID', prof({ texts: 3, uuidTexts: 3 })).pgType).toBe('uuid');
    expect(map('GUID', prof({ blobs: 2, uuidBlobs: 2 })).pgType).toBe('uuid');
    expect(map('UUID', prof({ texts: 3, uuidTexts: 2 })).pgType).toBe('text');
  });
  it('VARCHAR(n) → varchar(n) only when every value fits', () => {
    const fits = map('VARCHAR(20)', prof({ texts: 3, maxTextLength: 20 }));
    expect(fits).toMatchObject({ pgType: 'varchar(20)', converter: { kind: 'text', maxLength: 20 } });
    const over = map('VARCHAR(20)', prof({ texts: 3, maxTextLength: 21 }));
    expect(over).toMatchObject({ pgType: 'text', converter: { kind: 'text' } });
    expect(over.reason).toMatch(/exceed the declared length 20/);
    expect(map('NVARCHAR(5)', prof({ texts: 1, maxTextLength: 5 })).pgType).toBe('varchar(5)');
  });
  it('TEXT → text', () => {
    expect(map('TEXT', prof({ texts: 3 }))).toMatchObject({ pgType: 'text', warnings: [] });
  });
  it('TEXT holding blobs → text with a UTF-8 warning and a bytea hint', () => {
    const m = map('TEXT', prof({ texts: 3, blobs: 1 }));
    expect(m.pgType).toBe('text');
    expect(m.warnings.join()).toMatch(/not valid UTF-8 are rejected \(use --map t\.c=bytea/);
  });
  it('TEXT holding only blobs → bytea', () => {
    expect(map('TEXT', prof({ blobs: 2 })).pgType).toBe('bytea');
  });
});

describe('mapColumn: no type, BLOB and unknown names, by values', () => {
  it.each([
    ['', prof({ blobs: 3 }), 'bytea'],
    ['BLOB', prof({ blobs: 3 }), 'bytea'],
    ['', ints(1, 3), 'bigint'],
    ['', prof({ reals: 2 }), 'double precision'],
    ['', prof({ reals: 2, integers: 1, minInteger: '1', maxInteger: '1' }), 'double precision'],
    ['', prof({ reals: 2, integers: 1, minInteger: '1', maxInteger: '9223372036854775807' }), 'numeric'],
    ['', prof({ texts: 2 }), 'text'],
    ['', prof({ rows: 4, nulls: 4 }), 'text'],
    ['BLOB', prof({ rows: 4, nulls: 4 }), 'bytea'],
    ['ENUM', prof({ texts: 4 }), 'text'],
    ['YEAR', ints(1990, 2024), 'bigint'],
    ['STRING', prof({ texts: 4 }), 'text'],
  ] as const)('%s %o → %s', (decl, p, pg) => {
    expect(map(decl, p).pgType).toBe(pg);
  });
  it('texts declared BLOB are kept as bytes', () => {
    const m = map('BLOB', prof({ blobs: 2, texts: 1 }));
    expect(m.pgType).toBe('bytea');
    expect(m.warnings.join()).toMatch(/1 text value are stored as their UTF-8 bytes/);
  });
  it('mixed numbers and text → text with a warning naming the counts', () => {
    const m = map('', prof({ integers: 3, reals: 1, texts: 2, minInteger: '1', maxInteger: '2' }));
    expect(m.pgType).toBe('text');
    expect(m.warnings.join()).toMatch(/3 integer, 1 real, 2 text values: mapped to text/);
  });
  it('STRICT ANY is decided by values', () => {
    expect(map('ANY', prof({ blobs: 1 }), { strict: true }).pgType).toBe('bytea');
    expect(map('ANY', prof({ integers: 1, texts: 1, minInteger: '1', maxInteger: '1' }), { strict: true }).pgType).toBe('text');
  });
});

describe('mapColumn: suggestions and --infer', () => {
  it('0/1 INTEGER named is_* → boolean suggestion, applied only with infer', () => {
    const plain = map('INTEGER', ints(0, 1), { name: 'is_admin' });
    expect(plain.pgType).toBe('bigint');
    expect(plain.suggestions).toHaveLength(1);
    expect(plain.suggestions[0]).toMatch(/^boolean: .*--map t\.is_admin=boolean/);
    const inferred = map('INTEGER', ints(0, 1), { name: 'is_admin', infer: true });
    expect(inferred).toMatchObject({ pgType: 'boolean', converter: { kind: 'boolean' } });
  });
  it('no boolean suggestion for an ordinary 0/1 column name', () => {
    expect(map('INTEGER', ints(0, 1), { name: 'quantity' }).suggestions).toEqual([]);
  });
  it('TINYINT(1) 0/1 → boolean suggestion', () => {
    expect(map('TINYINT(1)', ints(0, 1), { name: 'x' }).suggestions.join()).toMatch(/boolean/);
  });
  it.each([
    [1600000000n, 1700000000n, 's'],
    [1600000000000n, 1700000000000n, 'ms'],
    [1600000000000000n, 1700000000000000n, 'us'],
  ] as const)('epoch-shaped integers %s..%s → timestamp:%s', (lo, hi, unit) => {
    const m = map('INTEGER', ints(lo, hi), { name: 'n' });
    expect(m.suggestions.join()).toMatch(new RegExp(`--map t\\.n=timestamp:${unit}`));
    expect(map('INTEGER', ints(lo, hi), { name: 'n', infer: true }).converter).toEqual({ kind: 'epoch', unit, tz: false });
  });
  it('a time-like name allows a zero in epoch-shaped integers; other names do not', () => {
    expect(map('INTEGER', ints(0, 1700000000), { name: 'updated_at' }).suggestions.join()).toMatch(/timestamp:s/);
    expect(map('INTEGER', ints(0, 1700000000), { name: 'amount' }).suggestions).toEqual([]);
  });
  it('ISO-shaped text → date/timestamp/timestamptz suggestions', () => {
    expect(map('VARCHAR(10)', prof({ texts: 3, dateTexts: 3, maxTextLength: 10 })).suggestions.join()).toMatch(/^date: .*--map t\.c=date/);
    expect(map('TEXT', prof({ texts: 3, dateTexts: 1, isoNaiveTexts: 2 })).suggestions.join()).toMatch(/^timestamp: /);
    expect(map('TEXT', prof({ texts: 3, isoZonedTexts: 3 }), { infer: true }).converter).toEqual({ kind: 'timestamptz' });
    expect(map('TEXT', prof({ texts: 3, isoZonedTexts: 1, isoNaiveTexts: 2 })).suggestions).toEqual([]);
  });

  it('JSON-shaped and UUID-shaped text → suggestions', () => {
    expect(map('TEXT', prof({ texts: 3, jsonTexts: 3 })).suggestions.join()).toMatch(/^jsonb: .*--map t\.c=jsonb/);
    expect(map('TEXT', prof({ texts: 3, uuidTexts: 3 }), { infer: true }).pgType).toBe('uuid');
    expect(map('TEXT', prof({ texts: 3, jsonTexts: 2 })).suggestions).toEqual([]);
  });
});

describe('mapColumn: overrides', () => {
  it.each([
    ['timestamp:ms', 'timestamp', { kind: 'epoch', unit: 'ms', tz: false }],
    ['timestamptz:s', 'timestamptz', { kind: 'epoch', unit: 's', tz: true }],
    ['timestamp:µs', 'timestamp', { kind: 'epoch', unit: 'us', tz: false }],
    ['timestamp', 'timestamp', { kind: 'timestamp' }],
    ['boolean', 'boolean', { kind: 'boolean' }],
    ['jsonb', 'jsonb', { kind: 'jsonb' }],
    ['text', 'text', { kind: 'text' }],
    ['numeric(10,2)', 'numeric(10,2)', { kind: 'numeric', precision: 10, scale: 2 }],
    ['varchar(20)', 'varchar(20)', { kind: 'text', maxLength: 20 }],
    ['Double Precision', 'double precision', { kind: 'float' }],
    ['integer', 'integer', { kind: 'integer', bits: 32 }],
    ['uuid', 'uuid', { kind: 'uuid' }],
    ['bytea', 'bytea', { kind: 'bytea' }],
    ['date', 'date', { kind: 'date' }],
  ] as const)('%s', (o, pg, conv) => {
    const m = map('INTEGER', ints(1, 2), { override: o });
    expect(m.pgType).toBe(pg);
    expect(m.converter).toEqual(conv);
    expect(m.reason).toMatch(/^--map t\.c=/);
  });
  it.each([
    ['foo', /--map t\.c=foo: unknown type 'foo'/],
    ['real', /real\/float4 would round/],
    ['text:s', /a unit only applies to timestamp/],
    ['timestamp:min', /unknown unit 'min'/],
    ['numeric(2000,1)', /precision must be 1\.\.1000/],
  ])('rejects %s with a clear error', (o, re) => {
    expect(() => map('INTEGER', ints(1, 2), { override: o })).toThrow(re);
  });
  it('warns when the profile shows values the override will reject', () => {
    const m = map('TEXT', prof({ texts: 5 }), { override: 'integer' });
    expect(m.warnings.join()).toMatch(/5 text values \(accepted only when integer literals\)/);
    expect(map('INTEGER', ints(1, 2), { override: 'bigint' }).warnings).toEqual([]);
  });
  it('the override wins over the rowid alias rule and the declared type', () => {
    expect(map('TEXT', prof({ texts: 1, uuidTexts: 1 }), { override: 'uuid', isRowidAlias: true }).pgType).toBe('uuid');
  });
});

describe('translateDefault', () => {
  const NOW_UTC = "(now() AT TIME ZONE 'UTC')";
  it.each([
    ['NULL', 'bigint', null],
    ['0', 'bigint', '0'],
    ['(1)', 'integer', '1'],
    ['-1', 'bigint', '-1'],
    ["'5'", 'bigint', '5'],
    ['1.0', 'bigint', '1'],
    ['0x10', 'bigint', '16'],
    ['1.5', 'double precision', '1.5'],
    ['1.25', 'numeric(10,2)', '1.25'],
    ["'it''s'", 'text', "'it''s'"],
    ['""', 'text', "''"],
    ['"a""b\'c"', 'text', "'a\"b''c'"],
    ["'back\\slash'", 'text', "'back\\slash'"],
    ['0', 'text', "'0'"],
    ["''", 'varchar(5)', "''"],
    ['0', 'boolean', 'false'],
    ['1', 'boolean', 'true'],
    ["'1'", 'boolean', 'true'],
    ["'f'", 'boolean', 'false'],
    ['TRUE', 'boolean', 'true'],
    ['false', 'boolean', 'false'],
    ['TRUE', 'bigint', '1'],
    ['CURRENT_TIMESTAMP', 'timestamp', NOW_UTC],
    ['current_timestamp', 'timestamptz', 'now()'],
    ['CURRENT_TIMESTAMP', 'text', `to_char(${NOW_UTC}, 'YYYY-MM-DD HH24:MI:SS')`],
    ['CURRENT_DATE', 'date', `(${NOW_UTC})::date`],
    ['CURRENT_DATE', 'text', `to_char(${NOW_UTC}, 'YYYY-MM-DD')`],
    ['CURRENT_TIME', 'text', `to_char(${NOW_UTC}, 'HH24:MI:SS')`],
    ["(datetime('now'))", 'timestamp', NOW_UTC],
    ["(datetime('now'))", 'text', `to_char(${NOW_UTC}, 'YYYY-MM-DD HH24:MI:SS')`],
    ["(date('now'))", 'date', `(${NOW_UTC})::date`],
    ["(strftime('%s','now'))", 'bigint', 'floor(extract(epoch from now()))::bigint'],
    ["(unixepoch())", 'bigint', 'floor(extract(epoch from now()))::bigint'],
    ["(strftime('%Y-%m-%dT%H:%M:%fZ','now'))", 'text', `to_char(${NOW_UTC}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`],
    ["(strftime('%Y-%m-%d %H:%M:%f', 'now'))", 'timestamp', `date_trunc('milliseconds', ${NOW_UTC})`],
    ["(strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))", 'timestamptz', 'now()'],
    ["'2024-01-01 00:00:00'", 'timestamp', "'2024-01-01 00:00:00'::timestamp"],
    ["'1970-01-01'", 'date', "'1970-01-01'::date"],
    ["X'00FF'", 'bytea', "'\\x00ff'::bytea"],
    ["'ab'", 'bytea', "'\\x6162'::bytea"],
    ["'{}'", 'jsonb', "'{}'::jsonb"],
    ["'[1, 2]'", 'jsonb', "'[1, 2]'::jsonb"],
    ["'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", 'uuid', "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid"],
  ])('%s for %s → %s', (def, pg, sql) => {
    const r = translateDefault(def, pg);
    expect(r).toEqual({ sql, warning: null });
  });

  it('translates random hex ids with a note', () => {
    const r = translateDefault('(lower(hex(randomblob(16))))', 'text');
    expect(r.sql).toBe("replace(gen_random_uuid()::text, '-', '')");
    expect(r.warning).toMatch(/6 of its 128 bits are fixed/);
    expect(translateDefault('(hex(randomblob(16)))', 'text').sql).toBe("upper(replace(gen_random_uuid()::text, '-', ''))");
  });

  it.each([
    ["'abc'", 'bigint', /'abc' is not an integer/],
    ['99999', 'smallint', /out of range/],
    ['2', 'boolean', /not a boolean/],
    ['1.005', 'numeric(10,2)', /does not fit numeric\(10,2\)/],
    ['CURRENT_TIMESTAMP', 'bigint', /no exact equivalent in a bigint column/],
    ["(datetime('now','localtime'))", 'timestamp', /modifiers are not translated/],
    ["'now'", 'timestamp', /not an exact date\/time/],
    ["'2023-02-29'", 'date', /February 2023 has 28 days/],
    ["'{bad'", 'jsonb', /not valid JSON/],
    ["'toolong'", 'varchar(3)', /longer than 3 characters/],
    ['(random())', 'bigint', /expression not translated/],
    ["(abs(random()) % 10)", 'bigint', /not translated/],
    ["(lower(hex(randomblob(16))))", 'bytea', /not translated/],
    ["(strftime('%w','now'))", 'text', /no exact to_char equivalent/],
    ['1e999', 'double precision', /out of range for double precision/],
  ])('%s for %s is skipped with a warning', (def, pg, re) => {
    const r = translateDefault(def, pg);
    expect(r.sql).toBeNull();
    expect(r.warning).toMatch(/^DEFAULT .* skipped: /);
    expect(r.warning).toMatch(re);
  });
});

describe('mapColumn: pgType and converter always agree', () => {
  function expectedType(c: MappedColumn['converter']): string {
    switch (c.kind) {
      case 'integer':
        return { 16: 'smallint', 32: 'integer', 64: 'bigint' }[c.bits];
      case 'float':
        return 'double precision';
      case 'numeric':
        return c.precision === undefined ? 'numeric' : `numeric(${c.precision},${c.scale ?? 0})`;
      case 'text':
        return c.maxLength === undefined ? 'text' : `varchar(${c.maxLength})`;
      case 'epoch':
        return c.tz ? 'timestamptz' : 'timestamp';
      default:
        return c.kind;
    }
  }
  const decls = ['', 'INTEGER', 'INT', 'SMALLINT', 'TEXT', 'VARCHAR(5)', 'BLOB', 'REAL', 'NUMERIC', 'DECIMAL(6,2)', 'BOOLEAN', 'DATE', 'DATETIME', 'TIMESTAMPTZ', 'JSON', 'UUID', 'ENUM'];
  const profiles: [string, ColumnProfile][] = [
    ['empty', prof({ rows: 2, nulls: 2 })],
    ['0/1', ints(0, 1)],
    ['epoch s', ints(1600000000, 1700000000)],
    ['big ints', ints(-9223372036854775808n, 9223372036854775807n)],
    ['reals', prof({ reals: 3, maxScale: 2, maxPrecision: 4 })],
    ['texts', prof({ texts: 3, maxTextLength: 4 })],
    ['iso', prof({ texts: 3, isoNaiveTexts: 3, maxTextLength: 19 })],
    ['json', prof({ texts: 3, jsonTexts: 3, maxTextLength: 9 })],
    ['uuids', prof({ texts: 3, uuidTexts: 3, maxTextLength: 36 })],
    ['blobs', prof({ blobs: 3, uuidBlobs: 3 })],
    ['mixed', prof({ integers: 1, reals: 1, texts: 1, blobs: 1, minInteger: '5', maxInteger: '5' })],
  ];
  for (const d of decls) {
    for (const [label, p] of profiles) {
      for (const infer of [false, true]) {
        it(`${d || '(none)'} × ${label}${infer ? ' --infer' : ''}`, () => {
          const m = map(d, p, { infer, name: 'is_x' });
          expect(m.pgType).toBe(expectedType(m.converter));
          expect(m.reason.length).toBeGreaterThan(10);
        });
      }
    }
  }
});
