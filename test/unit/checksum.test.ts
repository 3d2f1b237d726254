// Canonical value forms and row hashes of content validation (src/validate). Pure.
// For every ConverterSpec kind: a SQLite value and PostgreSQL's text output of what the copy
// stored must canonicalise identically; a different value must not.
import { describe, expect, it } from 'vitest';
import {
  canonicalFromLiteral,
  canonicalJson,
  canonTypeOf,
  converterFits,
  converterForCanon,
  decimalText,
  rowString,
  showValue,
  sourceCanonicalizer,
  targetExpr,
  REJECTED_PREFIX,
  type CanonType,
} from '../../src/validate/canonical';
import { unescapeCopyText } from '../../src/plan/copy-text';
import { MultisetHash } from '../../src/validate/hash';
import { checksumMode } from '../../src/validate/mode';
import { compareLayout, describeDifference, targetRangeSql } from '../../src/validate/compare';
import { parseDecimal } from '../../src/plan/decimal';
import type { ConverterSpec, TablePlan } from '../../src/types';
import type { SqliteValue } from '../../src/sqlite/types';

type Same = [source: SqliteValue, pgText: string];
type Differs = [source: SqliteValue, pgText: string];

function kind(spec: ConverterSpec, pgType: string, same: Same[], differs: Differs[]) {
  const canon = canonTypeOf(pgType);
  const src = sourceCanonicalizer(spec, canon);
  describe(`${JSON.stringify(spec)} → ${pgType} (${canon})`, () => {
    it('NULL is null', () => expect(src(null)).toBeNull());
    it.each(same)('source %s equals target text %j', (v, text) => {
      expect(src(v)).toBe(canonicalFromLiteral(canon, text));
    });
    it.each(differs)('source %s differs from target text %j', (v, text) => {
      expect(src(v)).not.toBe(canonicalFromLiteral(canon, text));
    });
  });
}

kind({ kind: 'integer', bits: 64 }, 'bigint', [
  [42n, '42'],
  [-9223372036854775808n, '-9223372036854775808'],
  [9007199254740993n, '9007199254740993'],
  [0n, '0'],
  [7, '7'],
  ['12', '12'],
], [
  [9007199254740993n, '9007199254740992'],
  [1n, '2'],
]);
kind({ kind: 'integer', bits: 32 }, 'integer', [[2147483647n, '2147483647'], [-5n, '-5']], [[5n, '-5']]);
kind({ kind: 'integer', bits: 16 }, 'smallint', [[32767n, '32767']], [[1n, '0']]);

kind({ kind: 'float' }, 'double precision', [
  [0.1, '0.1'],
  [1 / 3, '0.3333333333333333'],
  [1e-320, '1e-320'],
  [1.7976931348623157e308, '1.7976931348623157e+308'],
  [-0, '-0'],
  [0, '0'],
  [5n, '5'],
  [Number.NaN, 'NaN'],
  [Infinity, 'Infinity'],
  [-Infinity, '-Infinity'],
  ['1.5', '1.5'],
  [43521.37, '43521.37'],
  // PostgreSQL < 12 (extra_float_digits = 3) prints 17 digits: the same double.
  [0.1, '0.10000000000000001'],
], [
  [0.1, '0.1000000000000001'],
  [-0, '0'],
  [1, '1.0000000000000002'],
]);

kind({ kind: 'float' }, 'real', [
  // float4 is read as ::float8::text: a value float4 holds exactly survives…
  [1.5, '1.5'],
  [0.25, '0.25'],
], [
  // …a rounded one does not (0.1 in float4, widened, is 0.10000000149011612).
  [0.1, '0.10000000149011612'],
  [43521.37, '43521.37109375'],
]);

kind({ kind: 'numeric' }, 'numeric', [
  ['1.50', '1.50'],
  ['1.5', '1.50'],
  ['0001.5000', '1.5'],
  [12n, '12'],
  [0.1, '0.1'],
  ['1e3', '1000'],
  ['-0', '0'],
  ['123456789012345678901234567890.123456789', '123456789012345678901234567890.123456789'],
  [Number.NaN, 'NaN'],
  [Infinity, 'Infinity'],
], [
  ['1.5', '1.51'],
  ['123456789012345678901234567890.123456789', '123456789012345678901234567890.12345679'],
]);
kind({ kind: 'numeric', precision: 10, scale: 2 }, 'numeric(10,2)', [
  ['1.5', '1.50'],
  [3n, '3.00'],
  [2.25, '2.25'],
], [
  ['1.5', '1.49'],
]);

kind({ kind: 'text' }, 'text', [
  ['hello', 'hello'],
  ['tab\there\nnl\\bs', 'tab\there\nnl\\bs'],
  ['Zoë 🚀 漢字', 'Zoë 🚀 漢字'],
  [42n, '42'],
  [1.0, '1.0'],
  [Buffer.from('bytes as text'), 'bytes as text'],
  ['', ''],
], [
  ['hello', 'hello '],
  ['Hello', 'hello'],
  ['', '\\N'],
]);
kind({ kind: 'text', maxLength: 5 }, 'character varying(5)', [['abcde', 'abcde']], [['abcde', 'abcd']]);
kind({ kind: 'text' }, 'character(6)', [['ab', 'ab    ']], [['ab', 'abc   ']]);

kind({ kind: 'bytea' }, 'bytea', [
  [Buffer.from([0, 1, 2, 255]), '\\x000102ff'],
  [Buffer.alloc(0), '\\x'],
  ['hé', '\\x68c3a9'],
  [Buffer.from([0xab]), '\\xAB'],
], [
  [Buffer.from([0, 1, 2, 255]), '\\x000102fe'],
]);

kind({ kind: 'boolean' }, 'boolean', [
  [1n, 'true'],
  [0n, 'false'],
  ['yes', 't'],
  [1, 't'],
], [
  [1n, 'false'],
]);

kind({ kind: 'timestamp' }, 'timestamp without time zone', [
  ['2024-01-02 03:04:05', '2024-01-02 03:04:05'],
  ['2024-01-02T03:04:05.5', '2024-01-02 03:04:05.5'],
  ['2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456'],
  ['2024-01-02', '2024-01-02 00:00:00'],
  [20240102030405n, '2024-01-02 03:04:05'],
  [2460311.5, '2024-01-02 00:00:00'],
], [
  ['2024-01-02 03:04:05', '2024-01-02 03:04:05.000001'],
  ['2024-01-02 03:04:05.5', '2024-01-02 03:04:06'],
]);

kind({ kind: 'timestamptz' }, 'timestamp with time zone', [
  ['2024-01-02 03:04:05+02:00', '2024-01-02 01:04:05+00'],
  ['2024-01-02T03:04:05Z', '2024-01-02 03:04:05+00'],
  ['2024-01-02 03:04:05', '2024-01-02 03:04:05+00'],
  ['2024-01-01 23:30:00-05:30', '2024-01-02 05:00:00+00'],
  // Another session time zone: the same instant.
  ['2024-01-02 03:04:05Z', '2024-01-02 04:04:05+01'],
], [
  ['2024-01-02 03:04:05+02:00', '2024-01-02 03:04:05+00'],
]);

kind({ kind: 'date' }, 'date', [
  ['2024-02-29', '2024-02-29'],
  ['2024-02-29 00:00:00', '2024-02-29'],
], [
  ['2024-02-29', '2024-03-01'],
]);

for (const [unit, tz, pgType, value, text] of [
  ['s', true, 'timestamp with time zone', 1700000000n, '2023-11-14 22:13:20+00'],
  ['ms', false, 'timestamp without time zone', 1700000000123n, '2023-11-14 22:13:20.123'],
  ['us', true, 'timestamp with time zone', 1700000000123456n, '2023-11-14 22:13:20.123456+00'],
] as const) {
  kind({ kind: 'epoch', unit, tz }, pgType, [[value, text]], [[value, text.replace('20', '21')]]);
}

kind({ kind: 'jsonb' }, 'jsonb', [
  ['{"b": 1, "a": [1, 2.50, {"z": null, "y": true}]}', '{"a": [1, 2.50, {"y": true, "z": null}], "b": 1}'],
  // jsonb: last duplicate key wins; keys ordered shorter first, then bytewise.
  ['{"k": 1, "k": 2, "aa": 0, "b": 0}', '{"b": 0, "k": 2, "aa": 0}'],
  ['"\\u00e9"', '"é"'],
  ['1E2', '100'],
  ['[]', '[]'],
  [5n, '5'],
  ['{"big": 12345678901234567890123}', '{"big": 12345678901234567890123}'],
], [
  ['{"a": 1}', '{"a": 2}'],
  ['{"big": 12345678901234567890123}', '{"big": 12345678901234567890124}'],
  ['{"a": "1"}', '{"a": 1}'],
]);
kind({ kind: 'jsonb' }, 'json', [['{"a":1}', '{"a":1}']], [['{"a":1}', '{"a":1.5}']]);

kind({ kind: 'uuid' }, 'uuid', [
  ['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ['a0eebc999c0b4ef8bb6d6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  [Buffer.from('a0eebc999c0b4ef8bb6d6bb9bd380a11', 'hex'), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
], [
  ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'],
]);

describe('values the copy would reject', () => {
  it('never equal any target text and say why', () => {
    const src = sourceCanonicalizer({ kind: 'integer', bits: 16 }, 'int');
    const v = src(70000n)!;
    expect(v.startsWith(REJECTED_PREFIX)).toBe(true);
    expect(showValue(v)).toMatch(/not convertible: .*smallint/);
    expect(sourceCanonicalizer({ kind: 'text' }, 'text')('nul\0byte')).toMatch(/NUL/);
  });
});

describe('canonTypeOf', () => {
  it.each([
    ['bigint', 'int'],
    ['integer', 'int'],
    ['smallint', 'int'],
    ['double precision', 'float8'],
    ['real', 'float4'],
    ['float(24)', 'float4'],
    ['float(53)', 'float8'],
    ['numeric', 'numeric'],
    ['numeric(10,2)', 'numeric'],
    ['text', 'text'],
    ['character varying(20)', 'text'],
    ['varchar(20)', 'text'],
    ['character(3)', 'bpchar'],
    ['bytea', 'bytea'],
    ['boolean', 'bool'],
    ['timestamp without time zone', 'timestamp'],
    ['timestamp(3) without time zone', 'timestamp'],
    ['timestamp', 'timestamp'],
    ['timestamp with time zone', 'timestamptz'],
    ['timestamptz', 'timestamptz'],
    ['date', 'date'],
    ['jsonb', 'jsonb'],
    ['json', 'json'],
    ['uuid', 'uuid'],
    ['interval', 'other'],
    ['my_enum', 'other'],
  ] as [string, CanonType][])('%s → %s', (t, c) => expect(canonTypeOf(t)).toBe(c));

  it('reads float4 widened to float8', () => {
    expect(targetExpr('x', 'float4')).toBe('"x"::float8::text');
    expect(targetExpr('we"ird', 'text')).toBe('"we""ird"::text');
  });

  it('derives a converter when the plan does not fit the target', () => {
    expect(converterFits({ kind: 'integer', bits: 64 }, 'timestamptz')).toBe(false);
    expect(converterForCanon('timestamptz', 'timestamp with time zone')).toEqual({ kind: 'timestamptz' });
    expect(converterForCanon('int', 'smallint')).toEqual({ kind: 'integer', bits: 16 });
    expect(converterForCanon('int', 'integer')).toEqual({ kind: 'integer', bits: 32 });
    expect(converterFits({ kind: 'float' }, 'float4')).toBe(true);
  });
});

describe('helpers', () => {
  it('unescapes COPY text', () => {
    expect(unescapeCopyText('a\\tb\\nc\\\\d\\re')).toBe('a\tb\nc\\d\re');
    expect(unescapeCopyText('\\\\x00ff')).toBe('\\x00ff');
    expect(unescapeCopyText('\\101\\x42')).toBe('AB');
    expect(unescapeCopyText('plain')).toBe('plain');
  });
  it('prints decimals without exponent or trailing zeros', () => {
    expect(decimalText(parseDecimal('1.50')!)).toBe('1.5');
    expect(decimalText(parseDecimal('-0.00120')!)).toBe('-0.0012');
    expect(decimalText(parseDecimal('12e3')!)).toBe('12000');
    expect(decimalText(parseDecimal('0.0')!)).toBe('0');
  });
  it('canonical JSON rejects invalid JSON', () => {
    expect(canonicalJson('{"a":}')).toBeNull();
    expect(canonicalJson('{"a":1} x')).toBeNull();
    expect(canonicalJson(' { "a" : [ ] } ')).toBe('{"a":[]}');
  });
  it('row strings are unambiguous', () => {
    expect(rowString(['a', 'b'])).not.toBe(rowString(['ab', '']));
    expect(rowString([null])).not.toBe(rowString(['']));
    expect(rowString(['1:a'])).not.toBe(rowString(['1', 'a']));
  });
  it('truncates values for reports', () => {
    expect(showValue('x'.repeat(100))).toMatch(/… \(100 chars\)/);
    expect(showValue(null)).toBe('NULL');
  });
});

describe('multiset hash', () => {
  it('is order-independent and counts duplicates', () => {
    const a = new MultisetHash();
    const b = new MultisetHash();
    for (const r of ['r1', 'r2', 'r3']) a.add(r);
    for (const r of ['r3', 'r1', 'r2']) b.add(r);
    expect(a.hex()).toBe(b.hex());
    expect(a.hex()).toMatch(/^[0-9a-f]{64}$/);
    const c = new MultisetHash();
    for (const r of ['r1', 'r1', 'r2', 'r3']) c.add(r);
    expect(c.hex()).not.toBe(a.hex());
    const d = new MultisetHash();
    for (const r of ['r1', 'r2', 'r4']) d.add(r);
    expect(d.hex()).not.toBe(a.hex());
  });
  it('carries across words (no overflow loss)', () => {
    const h = new MultisetHash();
    const ff = Buffer.alloc(32, 0xff);
    h.addDigest(ff);
    h.addDigest(Buffer.from([1, ...new Array(31).fill(0)]));
    expect(h.hex()).toBe('0'.repeat(64)); // 2^256 - 1 + 1 ≡ 0
  });
});

const plan = (over: Partial<TablePlan>): TablePlan => ({
  source: 't',
  target: 't',
  withoutRowid: false,
  strict: false,
  key: { kind: 'rowid', columns: ['rowid'], display: ['id'] },
  columns: [
    { source: 'id', target: 'id', declaredType: 'INTEGER', pgType: 'bigint', converter: { kind: 'integer', bits: 64 }, notNull: true, defaultSql: null, identity: true, generated: false, reason: '', warnings: [], suggestions: [] },
    { source: 'name', target: 'name', declaredType: 'TEXT', pgType: 'text', converter: { kind: 'text' }, notNull: false, defaultSql: null, identity: false, generated: false, reason: '', warnings: [], suggestions: [] },
  ],
  primaryKey: ['id'],
  uniques: [],
  indexes: [],
  foreignKeys: [],
  checks: [],
  rowCount: 0,
  sqliteSequence: null,
  warnings: [],
  ...over,
});
const targetCols = [
  { name: 'id', pgType: 'bigint', notNull: true, hasDefault: false, identity: true },
  { name: 'name', pgType: 'text', notNull: false, hasDefault: false, identity: false },
];

describe('layout and range SQL', () => {
  it('uses the INTEGER PRIMARY KEY as the target key', () => {
    const l = compareLayout(plan({}), 'public', targetCols);
    expect(l.keyIdx).toEqual([0]);
    expect(checksumMode(plan({}).key)).toBe('chunk');
    expect(targetRangeSql(l, [{ t: 'i', v: '10' }], [{ t: 'i', v: '20' }])).toBe(
      `SELECT "id"::text, "name"::text FROM "public"."t" AS cutover_t WHERE cutover_t."id" > '10' AND cutover_t."id" <= '20' ORDER BY cutover_t."id" NULLS FIRST`,
    );
  });
  it('compares a rowid table without alias as a whole table', () => {
    const p = plan({ key: { kind: 'rowid', columns: ['rowid'] } });
    expect(checksumMode(p.key)).toBe('table');
    const l = compareLayout(p, 'public', targetCols);
    expect(l.keyIdx).toBeNull();
    expect(l.notes.join()).toMatch(/whole table/);
    expect(targetRangeSql(l, null, null)).toBe(`SELECT "id"::text, "name"::text FROM "public"."t" AS cutover_t`);
  });
  it('orders text keys bytewise (COLLATE "C") and compares composite keys as rows', () => {
    const p = plan({ key: { kind: 'pk', columns: ['name', 'id'] } });
    const l = compareLayout(p, 's', targetCols);
    expect(l.keyIdx).toEqual([1, 0]);
    expect(targetRangeSql(l, [{ t: 's', v: "o'k" }, { t: 'i', v: '3' }], null)).toBe(
      `SELECT "id"::text, "name"::text FROM "s"."t" AS cutover_t WHERE (cutover_t."name" COLLATE "C", cutover_t."id") > ('o''k', '3') ORDER BY cutover_t."name" COLLATE "C" NULLS FIRST, cutover_t."id" NULLS FIRST`,
    );
  });
  it('reports missing and extra columns, and compares by the target type', () => {
    const l = compareLayout(plan({}), 'public', [
      { name: 'id', pgType: 'bigint', notNull: true, hasDefault: false, identity: true },
      { name: 'other', pgType: 'real', notNull: true, hasDefault: false, identity: false },
    ]);
    expect(l.missingColumns).toEqual(['name']);
    expect(l.extraColumns).toEqual(['other']);
  });
  it('names differences in one sentence', () => {
    expect(describeDifference({ kind: 'changed', table: 't', chunkNo: 0, key: 'id=7', column: 'name', columns: ['name', 'x'], source: '"a"', target: '"b"' })).toBe(
      't chunk 0, id=7: column name differs (source "a", target "b"); also x',
    );
    expect(describeDifference({ kind: 'missing', table: 't', chunkNo: 2, key: 'id=9' })).toMatch(/id=9: row missing in the target/);
    expect(describeDifference({ kind: 'extra', table: 't', chunkNo: -1, key: 'id=10' })).toBe('t, id=10: extra row in the target, not in the source');
  });
});
