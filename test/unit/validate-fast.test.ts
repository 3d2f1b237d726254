// The fast pass of content validation (src/validate/fast.ts): equal hashes must imply what the
// ordered comparison would find (no differing value), for every mapped type; and on an untouched
// copy it must decide "equal" by itself (else every chunk pays for both passes).
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalFromLiteral, canonTypeOf, fastNaiveTimestamp, sourceCanonicalizer, timestampCanonicalByParts, timestamptzCanonicalByParts, type CanonType } from '../../src/validate/canonical';
import { combineSegments, hashTargetCopy, isCanonicalNumeric, multisetOfSegments, segmentRows, TupleHasher, valueWriter, wireOf, type FastColumn } from '../../src/validate/fast';
import { BatchDigester } from '../../src/validate/chunk-digests';
import { compareChunk, compareLayout, compareTable, fastPass, type CompareLayout } from '../../src/validate/compare';
import { targetColumns } from '../../src/validate/catalog';
import { planFromFile } from '../../src/plan/plan-file';
import { createTableSql } from '../../src/postgres/ddl';
import { ChunkEncoder } from '../../src/copy/encode-batch';
import { openSource, type SqliteDb } from '../../src/sqlite/open';
import type { ConverterSpec, MigrationPlan } from '../../src/types';
import type { SqliteValue } from '../../src/sqlite/types';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { EVERY_TYPE_MAP as MAP, EVERY_TYPE_TABLE_SQL, EVERY_TYPE_TAMPER, NO_KEY_TABLE_SQL, fillEverything, fillNoKey } from '../fixtures/every-type';

// ---------------------------------------------------------------------------------------------
// Pure: canonical forms are fixed points (the raw-text wire relies on it)

const LITERALS: Record<CanonType, string[]> = {
  int: ['0', '-0', '+5', '007', '12', '-9223372036854775808', '9223372036854775807', '1e3', '1.0', '1.5', ' 3', 'x', ''],
  float8: ['0', '-0', '0.1', '1e-05', '1e+21', '1e21', '1.5e-7', '0.10000000000000001', '123456789012345.6', 'NaN', 'nan', 'Infinity', '-inf', '1e400', 'abc', '.5', '5.'],
  float4: ['0.1', '1e-45', '3.4028234663852886e+38'],
  numeric: ['0', '-0', '-0.00', '1.50', '.5', '1e3', '1.5e-7', '00012.3400', 'NaN', 'Infinity', '-Infinity', '1e-2500', '12345678901234567890.123', 'x'],
  text: ['', 'a', 'tab\there', 'back\\slash', 'Zoë 🚀', '\u0000x'],
  bpchar: ['ab  ', '  ', 'a b', ''],
  bytea: ['\\x0A0b', '\\x', 'abc\\\\def', '\\001x', 'plain'],
  bool: ['t', 'f', 'true', 'FALSE', '1', '0', 'yes', 'off', 'maybe'],
  timestamp: ['2024-01-02 03:04:05', '2024-01-02T03:04:05.5', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.1234560', '2024-01-02 03:04:05.1234567', '2024-01-02 03:04:05+02', '20240102030405', '2024-13-01 00:00:00', '2024-02-30', '2024-01-02', '0099-01-01 00:00:00 BC', 'garbage'],
  timestamptz: ['2024-01-02 03:04:05+00', '2024-01-02 03:04:05.5+05:30', '2024-01-02T03:04:05Z', '2024-01-02 03:04:05', '2024-01-02 03:04:05-08', '2024-12-31 23:59:59.999999-01', 'garbage'],
  date: ['2024-01-02', '2024-01-02 00:00:00', '2024-01-02 10:00:00', '2024-02-30', '99999-01-01', 'x'],
  jsonb: ['{"b":1,"a":[1,2.50,{"z":null}]}', '{"a": 1, "a": 2}', '"\\ud800"', '"\\u00e9"', '[1e2, -0, 0.0]', 'not json', '{"k": "tab\\t"}'],
  json: ['{"b": 1}', '[]', 'null', ' 1 '],
  uuid: ['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', 'a0eebc999c0b4ef8bb6d6bb9bd380a11', 'nope'],
  other: ['{1,2}', 'x'],
};

describe('canonical forms are fixed points', () => {
  for (const [canon, lits] of Object.entries(LITERALS) as [CanonType, string[]][]) {
    it.each(lits)(`${canon}: %j`, (s) => {
      const c = canonicalFromLiteral(canon, s);
      expect(canonicalFromLiteral(canon, c)).toBe(c);
    });
  }
  it('numeric: random spellings', () => {
    const alphabet = ['0', '1', '5', '9', '.', '-', 'e', '+'];
    for (let k = 0; k < 20000; k++) {
      let s = '';
      const n = 1 + (k % 9);
      for (let i = 0; i < n; i++) s += alphabet[(Math.random() * alphabet.length) | 0];
      for (const canon of ['numeric', 'int', 'float8'] as CanonType[]) {
        const c = canonicalFromLiteral(canon, s);
        expect(canonicalFromLiteral(canon, c), `${canon} ${s}`).toBe(c);
      }
    }
  });
});

describe('isCanonicalNumeric: only text that numericCanonical leaves as it is', () => {
  it('random spellings', () => {
    const alphabet = ['0', '0', '1', '9', '.', '-', 'e', '+', 'N'];
    let yes = 0;
    for (let k = 0; k < 100000; k++) {
      let s = '';
      const n = 1 + (k % 8);
      for (let i = 0; i < n; i++) s += alphabet[(Math.random() * alphabet.length) | 0];
      if (isCanonicalNumeric(Buffer.from(s), 0, s.length)) {
        yes++;
        expect(canonicalFromLiteral('numeric', s), s).toBe(s);
      }
    }
    expect(yes).toBeGreaterThan(1000);
  });
  it.each(['0', '10', '-1.5', '0.05', '123.456'])('PostgreSQL output %s is taken as it is', (s) => expect(isCanonicalNumeric(Buffer.from(s), 0, s.length)).toBe(true));
  it.each(['-0', '1.50', '0.0', '01', '.5', '5.', '1e3', 'NaN', '', '-'])('%j is canonicalised first', (s) => expect(isCanonicalNumeric(Buffer.from(s), 0, s.length)).toBe(false));
});

describe('fastNaiveTimestamp: exactly what parsing gives, or nothing', () => {
  const d = (lo: number, hi: number) => String(lo + Math.floor(Math.random() * (hi - lo + 1))).padStart(2, '0');
  it('random timestamps, valid and not, with and without zones', () => {
    // The digest takes fastNaiveTimestamp for a timestamp column's text (fast.ts valueWriter): it
    // must be what the copy's encoder writes, canonicalised.
    const copied = sourceCanonicalizer({ kind: 'timestamp' }, 'timestamp');
    let decided = 0;
    for (let k = 0; k < 50000; k++) {
      const year = k % 50 === 0 ? '0000' : k % 7 === 0 ? String(Math.floor(Math.random() * 10000)).padStart(4, '0') : `20${d(0, 40)}`;
      const frac = ['', '.5', '.123456', '.1234567', '.', '.12a', '.000000'][k % 7]!;
      const zone = ['', '+00', 'Z', '+01', ' +00', 'z', '-00'][(k >> 3) % 7]!;
      const sep = k % 97 === 0 ? 'T' : ' ';
      const s = `${year}-${d(0, 13)}-${d(0, 32)}${sep}${d(0, 25)}:${d(0, 61)}:${d(0, 61)}${frac}${zone}`;
      const naive = fastNaiveTimestamp(s, '');
      if (naive !== null) {
        decided++;
        expect(naive, s).toBe(timestampCanonicalByParts(s));
        expect(copied(s), s).toBe(naive);
      }
      for (const suffix of ['+00', 'Z', '']) {
        const f = fastNaiveTimestamp(s, suffix);
        if (f !== null) expect(f + 'Z', s).toBe(timestamptzCanonicalByParts(s));
      }
      expect(canonicalFromLiteral('timestamp', s), s).toBe(timestampCanonicalByParts(s));
      expect(canonicalFromLiteral('timestamptz', s), s).toBe(timestamptzCanonicalByParts(s));
    }
    expect(decided).toBeGreaterThan(1000);
  });
  it('leap days', () => {
    expect(fastNaiveTimestamp('2024-02-29 00:00:00', '')).toBe('2024-02-29 00:00:00.000000');
    expect(fastNaiveTimestamp('2023-02-29 00:00:00', '')).toBeNull();
    expect(fastNaiveTimestamp('1900-02-29 00:00:00', '')).toBeNull();
    expect(fastNaiveTimestamp('2000-02-29 23:59:59.9+00', '+00')).toBe('2000-02-29 23:59:59.900000');
  });
});

// ---------------------------------------------------------------------------------------------
// Pure: the wire forms. The target side is simulated from PostgreSQL's text output: a binary COPY
// sends int8/float8/bool as the value and everything else as the text output.

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

function binaryCopy(canons: CanonType[], rows: (string | null)[][]): Buffer | null {
  const parts: Buffer[] = [SIGNATURE, Buffer.alloc(8)];
  for (const row of rows) {
    const head = Buffer.alloc(2);
    head.writeInt16BE(row.length);
    parts.push(head);
    for (let i = 0; i < row.length; i++) {
      const t = row[i]!;
      const len = Buffer.alloc(4);
      if (t === null) {
        len.writeInt32BE(-1);
        parts.push(len);
        continue;
      }
      let data: Buffer;
      switch (wireOf(canons[i]!)) {
        case 'int8':
          if (!/^-?\d+$/.test(t)) return null; // not something PostgreSQL would send
          data = Buffer.alloc(8);
          data.writeBigInt64BE(BigInt(t));
          break;
        case 'float8': {
          const n = /^-?inf/i.test(t) ? (t.startsWith('-') ? -Infinity : Infinity) : Number(t);
          if (t.trim() === '' || (Number.isNaN(n) && t !== 'NaN')) return null;
          data = Buffer.alloc(8);
          data.writeDoubleBE(n);
          break;
        }
        case 'bool':
          if (t !== 't' && t !== 'f') return null;
          data = Buffer.from([t === 't' ? 1 : 0]);
          break;
        default:
          data = Buffer.from(t, 'utf8');
      }
      len.writeInt32BE(data.length);
      parts.push(len, data);
    }
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

async function* chunksOf(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function targetHash(canons: CanonType[], rows: (string | null)[][], chunk = 7, multiset = false): Promise<string | null> {
  const b = binaryCopy(canons, rows);
  if (!b) return null;
  return (await hashTargetCopy(chunksOf(b, chunk), canons, undefined, multiset)).hash;
}

function sourceHash(cols: FastColumn[], rows: SqliteValue[][], multiset = false): string | null {
  const out = new TupleHasher(multiset, 64);
  const writers = cols.map((c) => valueWriter(c));
  for (const row of rows) {
    out.beginRow(cols.length);
    for (let i = 0; i < cols.length; i++) if (!writers[i]!(row[i]!, out)) return null;
  }
  return out.hex();
}

type Case = [spec: ConverterSpec, pgType: string, sources: SqliteValue[], pgOutputs: string[], equalPairs: [SqliteValue, string][]];

const CASES: Case[] = [
  [{ kind: 'integer', bits: 64 }, 'bigint', [0n, 1n, -1n, 9007199254740993n, -9223372036854775808n, 5.0, '12', 2 ** 53], ['0', '1', '-1', '9007199254740993', '9007199254740992', '-9223372036854775808', '12', '5'], [[9007199254740993n, '9007199254740993'], [-1n, '-1'], [5.0, '5']]],
  [{ kind: 'integer', bits: 16 }, 'smallint', [1n, 40000n, -32768n], ['1', '-32768', '40000'], [[-32768n, '-32768']]],
  [{ kind: 'float' }, 'double precision', [0.1, -0, 0, 1e-320, 1.7976931348623157e308, 1 / 3, 1e21, 1e-7, 3n, 2n ** 60n, 2n ** 60n + 1n, '0.1', '1e400', 'NaN', Infinity], ['0.1', '-0', '0', '1e-320', '1.7976931348623157e+308', '0.3333333333333333', '1e+21', '1e-07', '3', '1.152921504606847e+18', 'NaN', 'Infinity', '0.10000000000000002'], [[0.1, '0.1'], [-0, '-0'], [1e21, '1e+21'], [1e-7, '1e-07'], [2n ** 60n, '1.152921504606847e+18'], [1 / 3, '0.3333333333333333']]],
  [{ kind: 'float' }, 'real', [0.1, 0.5, 16777217], ['0.10000000149011612', '0.5', '16777216'], [[0.5, '0.5']]],
  [{ kind: 'numeric' }, 'numeric', [1.5, '1.50', '-0.00', 10n, 0.1, 1e21, '1e3', 'NaN'], ['1.5', '1.50', '0.00', '10', '0.1', '1000000000000000000000', '1000', 'NaN', '-1.5'], [['1.50', '1.50'], [1.5, '1.50'], ['-0.00', '0.00'], [1e21, '1000000000000000000000']]],
  [{ kind: 'numeric', precision: 10, scale: 2 }, 'numeric(10,2)', ['1.5', 2n, '3.14'], ['1.50', '2.00', '3.14', '3.15'], [['1.5', '1.50'], [2n, '2.00']]],
  [{ kind: 'text' }, 'text', ['', 'a', 'tab\there\\n', 'Zoë 🚀', 'ctl\b\f\v', 'a\u0000b', 12n, 1.5, Buffer.from('bytes')], ['', 'a', 'tab\there\\n', 'Zoë 🚀', 'ctl\b\f\v', '12', '1.5', 'bytes', 'A'], [['', ''], ['tab\there\\n', 'tab\there\\n'], ['Zoë 🚀', 'Zoë 🚀'], [12n, '12'], [1.5, '1.5']]],
  [{ kind: 'text', maxLength: 3 }, 'character(3)', ['ab', 'abc', 'a  '], ['ab ', 'abc', 'a  ', 'ab'], [['ab', 'ab '], ['a  ', 'a  ']]],
  [{ kind: 'bytea' }, 'bytea', [Buffer.from([0, 255]), 'hé', Buffer.alloc(0)], ['\\x00ff', '\\x68c3a9', '\\x', '\\x00FF'], [[Buffer.from([0, 255]), '\\x00ff'], ['hé', '\\x68c3a9']]],
  [{ kind: 'boolean' }, 'boolean', [0n, 1n, 'true', 'no', 2n], ['t', 'f'], [[1n, 't'], ['no', 'f']]],
  [{ kind: 'timestamp' }, 'timestamp without time zone', ['2024-01-02 03:04:05', '2024-01-02T03:04:05.500', '2024-01-02 03:04:05.123456', '2024-01-02'], ['2024-01-02 03:04:05', '2024-01-02 03:04:05.5', '2024-01-02 03:04:05.123456', '2024-01-02 00:00:00', '2024-01-02 03:04:05.000001'], [['2024-01-02T03:04:05.500', '2024-01-02 03:04:05.5'], ['2024-01-02', '2024-01-02 00:00:00']]],
  [{ kind: 'timestamptz' }, 'timestamp with time zone', ['2024-01-02T03:04:05+02:00', '2024-01-02 03:04:05Z', '2024-01-02 03:04:05.25'], ['2024-01-02 01:04:05+00', '2024-01-02 03:04:05+00', '2024-01-02 03:04:05.25+00', '2024-01-02 03:04:05+01'], [['2024-01-02T03:04:05+02:00', '2024-01-02 01:04:05+00'], ['2024-01-02 03:04:05.25', '2024-01-02 03:04:05.25+00']]],
  [{ kind: 'epoch', unit: 's', tz: true }, 'timestamp with time zone', [1_700_000_000n, 0n], ['2023-11-14 22:13:20+00', '1970-01-01 00:00:00+00', '2023-11-14 22:13:21+00'], [[1_700_000_000n, '2023-11-14 22:13:20+00']]],
  [{ kind: 'date' }, 'date', ['2024-01-02', '2024-02-29', 20240102n], ['2024-01-02', '2024-02-29', '2024-01-03'], [['2024-01-02', '2024-01-02']]],
  [{ kind: 'jsonb' }, 'jsonb', ['{"b": 1, "a": [1, 2.50]}', '{"a":1,"a":2}', '"é"', '[]'], ['{"a": [1, 2.50], "b": 1}', '{"a": 2}', '"é"', '[]', '{"a": [1, 2.5], "b": 2}'], [['{"b": 1, "a": [1, 2.50]}', '{"a": [1, 2.50], "b": 1}'], ['{"a":1,"a":2}', '{"a": 2}']]],
  [{ kind: 'uuid' }, 'uuid', ['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', Buffer.alloc(16, 1)], ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '01010101-0101-0101-0101-010101010101', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'], [['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']]],
];

describe('fast pass: equal wire hashes imply equal canonical values', () => {
  for (const [spec, pgType, sources, outputs, equalPairs] of CASES) {
    const canon = canonTypeOf(pgType);
    const col: FastColumn = { source: 'c', target: 'c', canon, converter: spec };
    const slow = sourceCanonicalizer(spec, canon);
    it(`${JSON.stringify(spec)} → ${pgType}: every source value × every target output`, async () => {
      for (const v of [...sources, null]) {
        const s = sourceHash([col], [[v]]);
        for (const t of [...outputs, null]) {
          const th = await targetHash([canon], [[t]]);
          if (s === null || th === null || s !== th) continue;
          const same = slow(v) === (t === null ? null : canonicalFromLiteral(canon, t));
          expect(same, `source ${String(v)} vs target ${t}: fast says equal`).toBe(true);
        }
      }
    });
    it(`${JSON.stringify(spec)} → ${pgType}: decides "equal" for PostgreSQL's own output`, async () => {
      for (const [v, t] of equalPairs) {
        expect(slow(v), `${String(v)} vs ${t}`).toBe(canonicalFromLiteral(canon, t));
        expect(sourceHash([col], [[v]]), `${String(v)} vs ${t}`).toBe(await targetHash([canon], [[t]]));
      }
    });
  }

  it('rows: the same values in other rows or another order differ (ordered); not in multiset mode', async () => {
    const cols: FastColumn[] = [
      { source: 'a', target: 'a', canon: 'int', converter: { kind: 'integer', bits: 64 } },
      { source: 'b', target: 'b', canon: 'text', converter: { kind: 'text' } },
    ];
    const canons = cols.map((c) => c.canon);
    const src = [[1n, 'x'], [2n, null]] as SqliteValue[][];
    expect(sourceHash(cols, src)).toBe(await targetHash(canons, [['1', 'x'], ['2', null]], 5));
    expect(sourceHash(cols, src)).not.toBe(await targetHash(canons, [['2', null], ['1', 'x']]));
    expect(sourceHash(cols, src)).not.toBe(await targetHash(canons, [['1', null], ['2', 'x']]));
    expect(sourceHash(cols, src)).not.toBe(await targetHash(canons, [['1', 'x']]));
    expect(sourceHash(cols, src, true)).toBe(await targetHash(canons, [['2', null], ['1', 'x']], 3, true));
    expect(sourceHash(cols, [...src, src[0]!], true)).not.toBe(await targetHash(canons, [['2', null], ['1', 'x']], 3, true)); // duplicates count
  });

  it('a value the encoder rejects has no wire form (the pass is inconclusive)', () => {
    const col: FastColumn = { source: 'c', target: 'c', canon: 'int', converter: { kind: 'integer', bits: 16 } };
    expect(sourceHash([col], [[70000n]])).toBeNull();
    const txt: FastColumn = { source: 'c', target: 'c', canon: 'text', converter: { kind: 'text' } };
    expect(sourceHash([txt], [['a\u0000b']])).toBeNull();
  });

  it('large text values and buffer growth', async () => {
    const col: FastColumn = { source: 'c', target: 'c', canon: 'text', converter: { kind: 'text' } };
    const big = 'é'.repeat(300_000);
    expect(sourceHash([col], [[big], ['x']])).toBe(await targetHash(['text'], [[big], ['x']], 65536));
  });
});

// ---------------------------------------------------------------------------------------------
// Segmented hashes: the source side as the copy records it, batch by batch (chunk-digests.ts)

describe('segmented hashes: the copy\'s batch records vs the target cut at the same rows', () => {
  const raw: FastColumn[] = [
    { source: 'a', target: 'a', canon: 'int', converter: { kind: 'integer', bits: 64 } },
    { source: 'b', target: 'b', canon: 'text', converter: { kind: 'text' } },
  ];
  // A numeric column: the target's fields are canonicalised one by one (not hashed as received).
  const canonical: FastColumn[] = [...raw, { source: 'n', target: 'n', canon: 'numeric', converter: { kind: 'numeric' } }];
  const rows = (k: number, n = 10) => Array.from({ length: n }, (_, i) => [BigInt(i + k), i % 4 === 0 ? null : `v${i}`, `${i}.50`] as SqliteValue[]);
  const out = (k: number, n = 10) => rows(k, n).map((r) => [String(r[0]), r[1] as string | null, `${String(r[0] as bigint - BigInt(k))}.5`]);

  /** The records a copy writes for `rows` split into batches of these sizes. */
  function records(cols: FastColumn[], src: SqliteValue[][], batches: number[]): { digests: Buffer; segments: number[] } {
    const d = new BatchDigester(cols);
    const parts: Buffer[] = [];
    let at = 0;
    for (const n of batches) {
      for (const r of src.slice(at, at + n)) d.row(r.slice(0, cols.length), 0);
      at += n;
      parts.push(Buffer.from(d.finish()!));
    }
    const digests = Buffer.concat(parts);
    return { digests, segments: segmentRows(digests)! };
  }

  async function target(cols: FastColumn[], rows: (string | null)[][], segments: number[], chunk: number): Promise<string> {
    const canons = cols.map((c) => c.canon);
    const b = binaryCopy(canons, rows.map((r) => r.slice(0, cols.length)))!;
    return (await hashTargetCopy(chunksOf(b, chunk), canons, undefined, false, segments)).hash;
  }

  it.each([
    ['raw fields', raw],
    ['canonicalised fields', canonical],
  ])('%s: equal for the same rows, whatever the batches (empty ones too) and the stream\'s pieces', async (_, cols) => {
    for (const batches of [[10], [3, 7], [0, 4, 0, 6, 0], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [10, 0]]) {
      const { digests, segments } = records(cols, rows(1), batches);
      expect(segments).toEqual(batches);
      for (const chunk of [1, 5, 13, 4096]) expect(await target(cols, out(1), segments, chunk), `${batches} / ${chunk}`).toBe(combineSegments(digests));
    }
    // No batch at all (an empty chunk) and an empty target.
    expect(await target(cols, [], [], 7)).toBe(combineSegments(Buffer.alloc(0)));
  });

  it.each([
    ['raw fields', raw],
    ['canonicalised fields', canonical],
  ])('%s: a changed, missing, extra or moved row differs', async (_, cols) => {
    const { digests, segments } = records(cols, rows(1), [4, 0, 6]);
    const want = combineSegments(digests);
    const changed = out(1);
    changed[5]![1] = 'other';
    const moved = out(1);
    [moved[3], moved[4]] = [moved[4]!, moved[3]!];
    for (const bad of [changed, out(1).slice(0, 9), out(1).slice(1), [...out(1), ['99', 'x', '0.5']], moved, out(2)]) {
      for (const chunk of [3, 4096]) expect(await target(cols, bad, segments, chunk)).not.toBe(want);
    }
    // The empty chunk's records against a target that has rows.
    expect(await target(cols, out(1, 1), [], 7)).not.toBe(combineSegments(Buffer.alloc(0)));
  });

  it('key-less tables: batch sums add up to the multiset hash of the target, in any order', async () => {
    const src = rows(1);
    const d = new BatchDigester(raw, true);
    const parts: Buffer[] = [];
    for (const [from, to] of [[0, 3], [3, 3], [3, 10]] as const) {
      for (const r of src.slice(from, to)) d.row(r, 0);
      parts.push(Buffer.from(d.finish()!));
    }
    const recorded = multisetOfSegments(Buffer.concat(parts));
    const canons = raw.map((c) => c.canon);
    const shuffled = [...out(1)].reverse().map((r) => r.slice(0, 2));
    const target = async (rs: (string | null)[][]) => hashTargetCopy(chunksOf(binaryCopy(canons, rs)!, 5), canons, undefined, true);
    expect(recorded).toEqual({ rows: 10, hash: (await target(shuffled)).hash });
    expect(recorded.hash).toBe(sourceHash(raw, src.map((r) => r.slice(0, 2)), true));
    // A row missing, a row twice, a changed value.
    expect((await target(shuffled.slice(1))).hash).not.toBe(recorded.hash);
    expect((await target([...shuffled.slice(1), shuffled[2]!])).hash).not.toBe(recorded.hash);
    expect((await target(shuffled.map((r, i) => (i === 4 ? [r[0]!, 'x'] : r)))).hash).not.toBe(recorded.hash);
  });

  it('a batch with a value that has no wire form leaves no record', () => {
    const d = new BatchDigester([{ source: 'c', target: 'c', canon: 'int', converter: { kind: 'integer', bits: 16 } }]);
    d.row([1n], 0);
    d.row([70000n], 0);
    expect(d.finish()).toBeNull();
    d.row([2n], 0);
    expect(segmentRows(Buffer.from(d.finish()!))).toEqual([1]);
  });
});

// ---------------------------------------------------------------------------------------------
// Against PostgreSQL: a table of every mapped type copied as the copy does, then compared.

const SQL = `${EVERY_TYPE_TABLE_SQL}
${NO_KEY_TABLE_SQL}
`;
const ROWS = 400;

function fill(db: import('better-sqlite3').Database): void {
  fillEverything(db, ROWS);
  fillNoKey(db);
}

describe('fast pass against PostgreSQL', () => {
  let tdb: TestDatabase;
  let client: pg.Client;
  let sqlite: SqliteDb;
  let plan: MigrationPlan;
  const dir = tempDir('validate-fast');

  async function layoutOf(table: string): Promise<CompareLayout> {
    const t = plan.tables.find((x) => x.source === table)!;
    return compareLayout(t, 'public', (await targetColumns(client, 'public', t.target))!, { deriveConverters: true });
  }

  async function load(table: string): Promise<void> {
    const t = plan.tables.find((x) => x.source === table)!;
    await client.query(createTableSql('public', t));
    const b = new ChunkEncoder(sqlite, t).next(null, null, 1_000_000)!;
    expect(b.rejectedRows).toBe(0);
    const cols = t.columns.map((c) => `"${c.target}"`).join(', ');
    const format = b.format === 'binary' ? ' (FORMAT binary)' : '';
    await pipeline(Readable.from([Buffer.from(b.payload)]), client.query(copyFrom(`COPY "${t.target}" (${cols}) FROM STDIN${format}`)));
  }

  beforeAll(async () => {
    tdb = await createTestDatabase('validate_fast');
    client = new pg.Client({ connectionString: tdb.url });
    await client.connect();
    const file = makeSqlite(dir, 'everything.db', SQL, fill);
    plan = planFromFile(file, { map: MAP });
    sqlite = openSource(file);
    await load('everything');
    await load('nokey');
    await client.query(`ALTER TABLE everything ADD PRIMARY KEY (id)`);
  });

  afterAll(async () => {
    sqlite?.close();
    await client?.end().catch(() => undefined);
    await tdb?.drop();
  });

  const chunks = [
    { chunkNo: 0, lo: null, hi: [{ t: 'i' as const, v: '150' }] },
    { chunkNo: 1, lo: [{ t: 'i' as const, v: '150' }], hi: null },
  ];

  it.each([['worker thread', '2'], ['inline', '0']])('an untouched copy: the fast pass decides "equal" by itself (%s)', async (_, threads) => {
    const saved = process.env.CUTOVER_CHECKSUM_THREADS;
    process.env.CUTOVER_CHECKSUM_THREADS = threads;
    try {
      const plain = await layoutOf('everything');
      // Small tables hash inline; claim a large one so that the thread is used.
      const layout = threads === '0' ? plain : { ...plain, table: { ...plain.table, rowCount: 1_000_000 } };
      expect(layout.columns.map((c) => c.canon)).toEqual(
        ['int', 'int', 'int', 'int', 'float8', 'numeric', 'numeric', 'text', 'text', 'bytea', 'bool', 'timestamp', 'timestamptz', 'date', 'jsonb', 'uuid', 'timestamptz'],
      );
      let rows = 0;
      for (const chunk of chunks) {
        const f = await fastPass({ db: sqlite, client, layout }, chunk);
        expect(f.source.unconvertible).toBe(0);
        expect(f.equal).toBe(true);
        rows += f.source.rows;
        const r = await compareChunk({ db: sqlite, client, layout, chunk });
        expect(r).toMatchObject({ ok: true, rows: f.source.rows, targetRows: f.target.rows, sourceHash: f.source.hash });
      }
      expect(rows).toBe(ROWS);
      const nk = await layoutOf('nokey');
      const t = await fastPass({ db: sqlite, client, layout: nk }, { lo: null, hi: null }, true);
      expect(t).toMatchObject({ equal: true, source: { rows: 42 }, target: { rows: 42 } });
      expect((await compareTable({ db: sqlite, client, layout: nk })).ok).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.CUTOVER_CHECKSUM_THREADS;
      else process.env.CUTOVER_CHECKSUM_THREADS = saved;
    }
  });

  it('skips the rows the copy rejected', async () => {
    const layout = await layoutOf('everything');
    await client.query(`DELETE FROM everything WHERE id = 42`);
    const f = await fastPass({ db: sqlite, client, layout, rejectedKeys: new Set(['id=42']) }, chunks[0]!);
    expect(f).toMatchObject({ equal: true, source: { skipped: 1, rows: 149 }, target: { rows: 149 } });
    // Put row 42 back from the source, as the copy wrote it.
    const t = plan.tables.find((x) => x.source === 'everything')!;
    const b = new ChunkEncoder(sqlite, t).next([{ t: 'i', v: '41' }], [{ t: 'i', v: '42' }], 10)!;
    const cols = t.columns.map((c) => `"${c.target}"`).join(', ');
    await pipeline(Readable.from([Buffer.from(b.payload)]), client.query(copyFrom(`COPY everything (${cols}) FROM STDIN${b.format === 'binary' ? ' (FORMAT binary)' : ''}`)));
    expect((await fastPass({ db: sqlite, client, layout }, chunks[0]!)).equal).toBe(true);
  });

  // One change per mapped type on row 150 (chunk 0), as in verify.test.ts, plus control characters.
  const TAMPER: (readonly [column: string, set: string])[] = [
    ...EVERY_TYPE_TAMPER,
    ['i64', 'i64 = NULL'],
    ['dbl', 'dbl = -dbl'],
  ];

  it.each(TAMPER)('one changed value (%s: %s): the fast pass says "different", the ordered comparison names it', async (column, set) => {
    const layout = await layoutOf('everything');
    const before = await client.query(`SELECT ${column}::text AS v FROM everything WHERE id = 140`);
    await client.query(`UPDATE everything SET ${set} WHERE id = 140`);
    try {
      const f = await fastPass({ db: sqlite, client, layout }, chunks[0]!);
      expect(f.equal).toBe(false);
      const r = await compareChunk({ db: sqlite, client, layout, chunk: chunks[0]! });
      expect(r.ok).toBe(false);
      expect(r.firstDifference).toMatchObject({ kind: 'changed', key: 'id=140', column });
    } finally {
      await client.query(`UPDATE everything SET ${column} = $1 WHERE id = 140`, [before.rows[0].v]);
    }
    expect((await fastPass({ db: sqlite, client, layout }, chunks[0]!)).equal).toBe(true);
  });

  it('control characters in text (\\b \\f \\v \\r): changed one is caught', async () => {
    const layout = await layoutOf('everything');
    await client.query(`UPDATE everything SET txt = replace(txt, chr(12), chr(11)) WHERE id = 14`);
    try {
      expect((await fastPass({ db: sqlite, client, layout }, chunks[0]!)).equal).toBe(false);
      expect((await compareChunk({ db: sqlite, client, layout, chunk: chunks[0]! })).firstDifference).toMatchObject({ key: 'id=14', column: 'txt' });
    } finally {
      await client.query(`UPDATE everything SET txt = replace(txt, chr(11) || chr(11), chr(12) || chr(11)) WHERE id = 14`);
    }
    expect((await fastPass({ db: sqlite, client, layout }, chunks[0]!)).equal).toBe(true);
  });

  it('a missing and an extra row', async () => {
    const layout = await layoutOf('everything');
    await client.query(`CREATE TEMP TABLE saved AS SELECT * FROM everything WHERE id = 200`);
    await client.query(`DELETE FROM everything WHERE id = 200`);
    try {
      expect((await fastPass({ db: sqlite, client, layout }, chunks[1]!)).equal).toBe(false);
      expect((await compareChunk({ db: sqlite, client, layout, chunk: chunks[1]! })).firstDifference).toMatchObject({ kind: 'missing', key: 'id=200' });
    } finally {
      await client.query(`INSERT INTO everything SELECT * FROM saved; DROP TABLE saved`);
    }
    await client.query(`INSERT INTO everything (id) VALUES (100000)`);
    try {
      expect((await fastPass({ db: sqlite, client, layout }, chunks[1]!)).equal).toBe(false);
      expect((await compareChunk({ db: sqlite, client, layout, chunk: chunks[1]! })).firstDifference).toMatchObject({ kind: 'extra', key: 'id=100000' });
    } finally {
      await client.query(`DELETE FROM everything WHERE id = 100000`);
    }
  });

  it('a key-less table: a changed value and a removed duplicate are caught', async () => {
    const layout = await layoutOf('nokey');
    await client.query(`UPDATE nokey SET qty = 99 WHERE name = 'n7'`);
    try {
      expect((await fastPass({ db: sqlite, client, layout }, { lo: null, hi: null }, true)).equal).toBe(false);
      expect((await compareTable({ db: sqlite, client, layout })).firstDifference).toMatchObject({ kind: 'changed', column: 'qty' });
    } finally {
      await client.query(`UPDATE nokey SET qty = 8.75 WHERE name = 'n7'`);
    }
    await client.query(`DELETE FROM nokey WHERE ctid = (SELECT min(ctid) FROM nokey WHERE name = 'dup')`);
    try {
      expect((await fastPass({ db: sqlite, client, layout }, { lo: null, hi: null }, true)).equal).toBe(false);
      expect((await compareTable({ db: sqlite, client, layout })).ok).toBe(false);
    } finally {
      await client.query(`INSERT INTO nokey VALUES ('dup', 1.5)`);
    }
  });

  it('other spellings of the same values (numeric scale, json, wider ints): equal', async () => {
    await client.query(`ALTER TABLE everything ALTER COLUMN num TYPE numeric(12,4), ALTER COLUMN i32 TYPE bigint, ALTER COLUMN vc TYPE text, ALTER COLUMN js TYPE json USING js::text::json`);
    try {
      const layout = await layoutOf('everything');
      const f = await fastPass({ db: sqlite, client, layout }, chunks[0]!);
      expect(f.equal).toBe(true);
    } finally {
      await client.query(`ALTER TABLE everything ALTER COLUMN num TYPE numeric, ALTER COLUMN i32 TYPE integer, ALTER COLUMN vc TYPE varchar(20), ALTER COLUMN js TYPE jsonb USING js::text::jsonb`);
    }
  });

  it('a REAL column turned into float4 (rounded values) is caught', async () => {
    await client.query(`CREATE TEMP TABLE saved_dbl AS SELECT id, dbl FROM everything`);
    await client.query(`ALTER TABLE everything ALTER COLUMN dbl TYPE real USING (CASE WHEN abs(dbl) BETWEEN 1e-30 AND 1e30 THEN dbl END)::real`);
    try {
      const layout = await layoutOf('everything');
      expect((await fastPass({ db: sqlite, client, layout }, chunks[0]!)).equal).toBe(false);
      expect((await compareChunk({ db: sqlite, client, layout, chunk: chunks[0]! })).firstDifference).toMatchObject({ key: 'id=1', column: 'dbl' });
    } finally {
      await client.query(`ALTER TABLE everything ALTER COLUMN dbl TYPE double precision`);
      await client.query(`UPDATE everything e SET dbl = s.dbl FROM saved_dbl s WHERE s.id = e.id; DROP TABLE saved_dbl`);
    }
    expect((await fastPass({ db: sqlite, client, layout: await layoutOf('everything') }, chunks[0]!)).equal).toBe(true);
  });
});
