import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Acc, add, addNumber, isoShape, profileTable } from '../../src/sqlite/profile';
import type { SqliteColumn } from '../../src/sqlite/types';
import { seededRandom } from '../helpers/random';

let dir: string;
let db: Database.Database;

function col(name: string, declaredType = ''): SqliteColumn {
  return { name, declaredType, notNull: false, defaultSql: null, pkIndex: 0, hidden: 0, collation: null };
}

function columnsOf(table: string): SqliteColumn[] {
  return (db.prepare(`SELECT name, type FROM pragma_table_info(?)`).all(table) as { name: string; type: string }[]).map((r) =>
    col(r.name, r.type),
  );
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-profile-'));
  const file = path.join(dir, 'p.db');
  const w = new Database(file);
  w.exec(`
    CREATE TABLE mixed ("weird ""name""" , n INTEGER, amount DECIMAL(10,2), flag INTEGER, ts DATETIME, doc TEXT, id TEXT, b BLOB);
    INSERT INTO mixed VALUES
      (9223372036854775807, 1, 1.25, 0, '2024-01-01 10:00:00', '{"a":1}', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', x'00112233445566778899aabbccddeeff'),
      (-9223372036854775808, 2, 0.1, 1, '2024-01-01T10:00:00Z', '[1,2]', 'a0eebc999c0b4ef8bb6d6bb9bd380a11', x'00'),
      ('text', 3, 12345.5, 1, '2024-01-01', ' {"b":2}', 'not-a-uuid', 'txt'),
      (1.5, 4, 100, 0, '20240101103000', '{bad json', 'x', NULL),
      (2.0, NULL, '7.125', NULL, '2024-01-01 10:00:00+02:00', 'plain', NULL, NULL),
      (NULL, NULL, 'abc', NULL, 'garbage', 'true', NULL, NULL);
    CREATE TABLE empty (a INTEGER, b TEXT);
    CREATE TABLE "select" ("from" TEXT, "a""b" INTEGER);
    INSERT INTO "select" VALUES ('yes', 1), ('No', 2), ('off', 3), ('maybe', 4);
    CREATE TABLE nums (r REAL, t, d DECIMAL(10,2), dd DECIMAL(10,2));
    INSERT INTO nums VALUES (9e999, '-12.500', 9e999, '-12.500'), (-1e300, '1e5', -1e300, 0.125), (0.30000000000000004, '+1', 0.30000000000000004, 10), (3.0, '007', 3.0, NULL), (NULL, '.5', NULL, NULL);
  `);
  w.close();
  db = new Database(file, { readonly: true });
  db.defaultSafeIntegers(true);
});

afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('profileTable', () => {
  it('profiles every column in one SELECT', () => {
    const seen: string[] = [];
    const orig = db.prepare.bind(db);
    const spy = Object.create(db) as Database.Database;
    spy.prepare = ((sql: string) => {
      seen.push(sql);
      return orig(sql);
    }) as typeof db.prepare;
    const cols = columnsOf('mixed');
    const p = profileTable(spy, 'mixed', cols);
    expect(seen).toHaveLength(1); // 8 columns: one scan
    expect(seen[0]).toMatch(/^SELECT .* FROM "mixed"$/);
    expect(Object.keys(p)).toEqual(cols.map((c) => c.name));
  });

  const mixed = () => profileTable(db, 'mixed', columnsOf('mixed'));

  it('counts storage classes and keeps 64-bit integer extremes exact', () => {
    const p = mixed()['weird "name"'];
    expect(p).toMatchObject({ rows: 6, nulls: 1, integers: 2, reals: 2, texts: 1, blobs: 0 });
    expect(p.minInteger).toBe('-9223372036854775808');
    expect(p.maxInteger).toBe('9223372036854775807');
    expect(p.wholeReals).toBe(1);
    expect(p.zeroOne).toBe(false);
  });

  it('detects 0/1-only columns', () => {
    const p = mixed().flag;
    expect(p.zeroOne).toBe(true);
    expect(p).toMatchObject({ integers: 4, nulls: 2, minInteger: '0', maxInteger: '1' });
    expect(mixed().n.zeroOne).toBe(false);
  });

  it('measures decimal scale and precision of reals and numeric texts', () => {
    const p = mixed().amount;
    // DECIMAL affinity: '7.125' became a real, 100 an integer, 'abc' stays text
    expect(p).toMatchObject({ integers: 1, reals: 4, texts: 1, numericTexts: 0 });
    expect(p.maxScale).toBe(3); // 7.125
    expect(p.maxPrecision).toBe(5 + 3); // 12345 has 5 digits before the point
  });

  it('reports infinities and huge reals as not fitting any precision', () => {
    const p = profileTable(db, 'nums', columnsOf('nums'));
    expect(p.d.reals).toBe(3);
    expect(p.d.maxPrecision).toBeGreaterThan(1000);
    expect(p.d.integers).toBe(1); // NUMERIC affinity stored 3.0 as the integer 3
    expect(p.r.wholeReals).toBe(1); // 3.0 only: ±huge values do not fit int64
    // numeric texts are JSON-number-shaped: '-12.500' and '1e5' count, '+1', '007', '.5' do not
    expect(p.t.numericTexts).toBe(2);
    expect(p.t.maxScale).toBeGreaterThan(1000); // '1e5': exponent form → unbounded
  });

  it('measures the scale of reals by their shortest round-trip decimal', () => {
    const p = profileTable(db, 'nums', columnsOf('nums'));
    expect(p.r.reals).toBe(4);
    expect(p.r.maxScale).toBe(17); // 0.30000000000000004
    expect(p.dd.maxScale).toBe(3); // DECIMAL: '-12.500' → 12.5 (1), 0.125 (3)
    expect(p.dd.maxPrecision).toBe(2 + 3);
  });

  it('reports the scale and integer digits String(v) gives for every real, in any order, also after a subnormal or huge value', () => {
    // The reference: every value's shortest round-trip decimal, read off String(v).
    const digitsOf = (v: number) => {
      const [mant, exp = '0'] = String(Math.abs(v)).split('e');
      const [i, f = ''] = mant!.split('.');
      let digits = i! + f;
      let point = i!.length + Number(exp);
      while (digits.startsWith('0')) {
        digits = digits.slice(1);
        point--;
      }
      digits = digits.replace(/0+$/, '');
      return digits === '' ? { scale: 0, int: 0 } : { scale: Math.max(0, digits.length - point), int: Math.max(0, point) };
    };
    const rnd = seededRandom(20261121);
    const values: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const exp = Math.floor(rnd() * 80) - 50; // 1e-50 … 1e29
      const digits = 1 + Math.floor(rnd() * 17);
      values.push((rnd() < 0.5 ? -1 : 1) * Number((rnd() * 10).toFixed(digits - 1)) * 10 ** exp);
    }
    values.push(5e-324, 1.2345678901234567e-310, 2.2250738585072014e-308, 1e300, 1.7976931348623157e308, 0.30000000000000004, 0, -0);
    /** The profile's maxima of a REAL column holding `order`, and the reference's. */
    const profiled = (order: readonly number[]) => {
      const w = new Database(path.join(dir, 'p.db'));
      w.exec(`DROP TABLE IF EXISTS reals; CREATE TABLE reals (r REAL)`);
      const ins = w.prepare('INSERT INTO reals VALUES (?)');
      w.transaction(() => order.forEach((v) => ins.run(v)))();
      w.close();
      const p = profileTable(db, 'reals', columnsOf('reals')).r!;
      const want = order.map(digitsOf).reduce((m, d) => ({ scale: Math.max(m.scale, d.scale), int: Math.max(m.int, d.int) }), { scale: 0, int: 0 });
      return { got: { scale: p.maxScale, int: p.maxPrecision - p.maxScale }, want };
    };
    // Where no subnormal sets the maximum: values down to 1e-20 only, alone, or after short tiny
    // ones (scale 23, then 30) that the longer, larger ones must still outgrow (up to ≈ 36).
    const modest = values.filter((v) => v === 0 || Math.abs(v) >= 1e-20);
    const orders: [string, readonly number[]][] = [
      ['as generated', values],
      ['subnormal first', [5e-324, ...values]],
      ['ascending magnitude', [...values].sort((a, b) => Math.abs(a) - Math.abs(b))],
      ['descending magnitude', [...values].sort((a, b) => Math.abs(b) - Math.abs(a))],
      ['down to 1e-20', modest],
      ['after 1e-23 and 1e-30', [1e-23, 1e-30, ...modest]],
    ];
    for (const [name, order] of orders) {
      const { got, want } = profiled(order);
      expect(want.scale).toBeGreaterThan(30);
      expect({ order: name, ...got }).toEqual({ order: name, ...want });
    }
  });

  it('gathers the same facts from a number with addNumber as with add', () => {
    const rnd = seededRandom(20261122);
    const values: number[] = [5e-324, 1e300, -0, 0, Infinity, -Infinity, NaN, 2 ** 53, -(2 ** 63), 2 ** 63, 0.1, 1e21, 123456789012345680000];
    for (let i = 0; i < 20_000; i++) {
      const exp = Math.floor(rnd() * 70) - 40;
      values.push((rnd() < 0.5 ? -1 : 1) * Number((rnd() * 10).toFixed(Math.floor(rnd() * 17))) * 10 ** exp);
      if (rnd() < 0.1) values.push(Math.floor(rnd() * 1e6));
    }
    // In batches, as the copy gathers them: a fresh Acc per batch.
    for (let from = 0; from < values.length; from += 3_000) {
      const generic = new Acc();
      const direct = new Acc();
      for (const v of values.slice(from, from + 3_000)) {
        add(generic, v);
        addNumber(direct, v);
      }
      expect(direct).toEqual(generic);
      expect(direct.reals).toBeGreaterThan(0);
    }
  });

  it('classifies ISO date/time shapes', () => {
    const p = mixed().ts;
    // DATETIME has NUMERIC affinity: SQLite stored '20240101103000' as an integer
    expect(p.integers).toBe(1);
    expect(p.texts).toBe(5);
    expect(p.isoNaiveTexts).toBe(1);
    expect(p.isoZonedTexts).toBe(2); // 'Z', '+02:00'
    expect(p.dateTexts).toBe(1);
    expect(p.maxTextLength).toBe('2024-01-01 10:00:00+02:00'.length);
  });

  it('counts JSON objects/arrays that parse and UUID-shaped texts', () => {
    const m = mixed();
    expect(m.doc.jsonTexts).toBe(3); // includes the one with leading whitespace
    expect(m.doc.texts).toBe(6);
    expect(m.id.uuidTexts).toBe(2);
    expect(m.id.texts).toBe(4);
  });

  it('counts 16-byte blobs and boolean words', () => {
    const m = mixed();
    expect(m.b).toMatchObject({ blobs: 2, texts: 1, uuidBlobs: 1 });
    expect(m.doc.booleanTexts).toBe(1);
    const s = profileTable(db, 'select', columnsOf('select'));
    expect(s.from.booleanTexts).toBe(3);
    expect(s['a"b'].integers).toBe(4);
  });

  it('handles empty tables', () => {
    const p = profileTable(db, 'empty', columnsOf('empty'));
    expect(p.a).toMatchObject({ rows: 0, nulls: 0, integers: 0, reals: 0, texts: 0, blobs: 0, minInteger: null, maxInteger: null, zeroOne: false, maxTextLength: 0 });
    expect(p.b).toMatchObject({ rows: 0, jsonTexts: 0, isoNaiveTexts: 0, booleanTexts: 0 });
  });

  it('counts the compact YYYYMMDDHHMMSS form in TEXT columns', () => {
    const p = mixed().doc;
    expect(p.isoNaiveTexts).toBe(0);
    const file = path.join(dir, 'compact.db');
    const w = new Database(file);
    w.exec(`CREATE TABLE c (t TEXT); INSERT INTO c VALUES ('20240101103000'), ('2024-01-01 10:00:00.5'), ('2024-01-01 10:00:00 x')`);
    w.close();
    const r = new Database(file, { readonly: true });
    const q = profileTable(r, 'c', [col('t', 'TEXT')]);
    r.close();
    expect(q.t.isoNaiveTexts).toBe(2);
  });

  it('profiles tables wider than one SELECT can aggregate', () => {
    const file = path.join(dir, 'wide.db');
    const w = new Database(file);
    const n = 1600;
    w.exec(`CREATE TABLE wide (${Array.from({ length: n }, (_, i) => `c${i} INTEGER`).join(', ')})`);
    w.exec(`INSERT INTO wide (c0, c1599) VALUES (7, 'x')`);
    w.close();
    const r = new Database(file, { readonly: true });
    r.defaultSafeIntegers(true);
    const cols = Array.from({ length: n }, (_, i) => col(`c${i}`, 'INTEGER'));
    const p = profileTable(r, 'wide', cols);
    r.close();
    expect(Object.keys(p)).toHaveLength(n);
    expect(p.c0.maxInteger).toBe('7');
    expect(p.c1599.texts).toBe(1);
  });
});

describe('isoShape', () => {
  it.each([
    ['2024-01-01', 'date'],
    ['2023-02-29', 'date'], // shape only: the converter rejects the bad calendar day per row
    ['2024-01-01 10:00', 'naive'],
    ['2024-01-01T10:00:00.123456', 'naive'],
    ['20240101103000', 'naive'],
    ['2024-01-01T10:00:00Z', 'zoned'],
    ['2024-01-01 10:00:00+02:00', 'zoned'],
    ['2024-01-01 10:00:00 -0530', 'zoned'],
    ['2024-01-01 10:00:00+05', 'zoned'],
    ['2024-01-01 10:00:00 junk', null],
    ['2024-01-01 10', null],
    ['2024/01/01', null],
    ['12345678901234x', null],
    ['hello', null],
  ] as const)('%s → %s', (s, shape) => {
    expect(isoShape(s)).toBe(shape);
  });
});
