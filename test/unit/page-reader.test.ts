// The page reader (src/sqlite/page-reader.ts, src/sqlite/record.ts) must hand the copy exactly the
// rows SQLite hands it — same values, same types, same order, same bounds — or step aside. Every
// test compares it with KeysetReader (better-sqlite3) on real SQLite files built to reach each part
// of the file format: every serial type, REAL affinity's integers, overflow pages, records
// shorter than their table, negative and 64-bit rowids, B-trees several levels deep, free space
// left by deletes; and the files and tables it must refuse.
import Database from 'better-sqlite3';
import { copyFileSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChunkEncoder, PayloadPool } from '../../src/copy/encode-batch';
import { firstDifference } from '../../src/sqlite/row-compare';
import { planFromFile } from '../../src/plan/plan-file';
import { PageKeysetReader } from '../../src/sqlite/page-reader';
import { readVarint } from '../../src/sqlite/record';
import { openSource, type SqliteDb } from '../../src/sqlite/open';
import { KeysetReader, encodeKeyValue } from '../../src/sqlite/reader';
import type { SqliteValue } from '../../src/sqlite/types';
import type { KeyPlan, KeyTuple } from '../../src/types';
import { makeSqlite, mixedValuesTableSql, tempDir } from '../helpers/sqlite';
import { seededRandom } from '../helpers/random';

const dir = tempDir('page-reader');

function columnsOf(db: SqliteDb, table: string): string[] {
  return (db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name);
}

function rowidKey(name = 'rowid'): KeyPlan {
  return { kind: 'rowid', columns: [name] } as KeyPlan;
}

function scanAll(r: { scan(after: KeyTuple | null, hi: KeyTuple | null, limit: number, each: (row: SqliteValue[]) => void): { rows: number; lastKey: KeyTuple | null } }, after: KeyTuple | null, hi: KeyTuple | null, limit: number, batch: number): SqliteValue[][] {
  const out: SqliteValue[][] = [];
  let cursor = after;
  while (out.length < limit) {
    // A copy of each row: the page reader refills one array per scan.
    const got = r.scan(cursor, hi, Math.min(batch, limit - out.length), (row) => void out.push(row.slice()));
    if (got.rows === 0) break;
    cursor = got.lastKey;
  }
  return out;
}

/** Both readers over the whole table and over random ranges: the same rows. */
function expectSameAsSqlite(file: string, table: string, key: KeyPlan = rowidKey(), opts: { ranges?: number; sqliteRows?: (n: number) => void } = {}): number {
  const db = openSource(file);
  try {
    const cols = columnsOf(db, table);
    const pages = PageKeysetReader.open(db, table, key, cols);
    if (typeof pages === 'string') throw new Error(`page reader refused ${table}: ${pages}`);
    const sql = new KeysetReader(db, table, key, cols);
    const all = scanAll(sql, null, null, Infinity, 1000);
    expect(firstDifference(all, scanAll(pages, null, null, Infinity, 1000))).toBeNull();
    expect(firstDifference(all, scanAll(pages, null, null, Infinity, 7))).toBeNull();
    const rnd = seededRandom(all.length + 1);
    const keys = all.map((r) => r[0] as bigint);
    const pick = (): KeyTuple | null => {
      const x = rnd();
      if (x < 0.1 || keys.length === 0) return null;
      const k = keys[Math.floor(rnd() * keys.length)]!;
      // A key of a row, or one next to it (a bound that is not a row's key).
      const near = x < 0.5 ? k : k + (rnd() < 0.5 ? -1n : 1n);
      return [encodeKeyValue(BigInt.asIntN(64, near) === near ? near : k)];
    };
    for (let i = 0; i < (opts.ranges ?? 40); i++) {
      const after = pick();
      const hi = pick();
      const limit = 1 + Math.floor(rnd() * 300);
      const want = scanAll(sql, after, hi, limit, 1000);
      expect(firstDifference(want, scanAll(pages, after, hi, limit, limit)), `after ${JSON.stringify(after)}, hi ${JSON.stringify(hi)}, limit ${limit}`).toBeNull();
    }
    opts.sqliteRows?.(pages.rowsBySqlite);
    pages.close();
    return all.length;
  } finally {
    db.close();
  }
}

const INTEGERS = [
  0n, 1n, -1n, 127n, -128n, 128n, -129n, 32767n, -32768n, 32768n, 8388607n, -8388608n, 8388608n, 2147483647n, -2147483648n, 2147483648n,
  140737488355327n, -140737488355328n, 140737488355328n, 9007199254740991n, 9007199254740993n, -9007199254740993n, 9223372036854775807n, -9223372036854775808n,
];
const REALS = [0.5, -0.0, 0.0, 1.0, -3.0, 1e308, -1e308, 5e-324, Infinity, -Infinity, 2 ** 60, -(2 ** 63), 123456.125, 0.1 + 0.2, 9007199254740993.0];

describe('the page reader reads what SQLite reads', () => {
  it('every serial type, in columns of every affinity (REAL turns stored integers into doubles)', () => {
    const file = makeSqlite(dir, 'values.db', `CREATE TABLE v (a INTEGER, r REAL, f FLOAT, n NUMERIC, t TEXT, b BLOB, x);`, (db) => {
      const ins = db.prepare('INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const i of INTEGERS) ins.run(i, i, i, i, i, i, i);
      for (const r of REALS) ins.run(r, r, r, r, r, r, r);
      for (const s of ['', 'a', 'ünïcödé ✓ 𝄞', 'nul\0inside', '12', '1.5e3', 'x'.repeat(1000)]) ins.run(s, s, s, s, s, s, s);
      for (const b of [Buffer.alloc(0), Buffer.from([0]), Buffer.from('c3', 'hex'), Buffer.alloc(300, 7)]) ins.run(b, b, b, b, b, b, b);
      ins.run(null, null, null, null, null, null, null);
      // Bytes that are not UTF-8 stored as TEXT (what better-sqlite3 shows as U+FFFD).
      db.exec(`INSERT INTO v VALUES (CAST(x'c328' AS TEXT), CAST(x'ff' AS TEXT), CAST(x'e282' AS TEXT), CAST(x'80' AS TEXT), CAST(x'f0908080ff' AS TEXT), CAST(x'' AS TEXT), CAST(x'eda080' AS TEXT))`);
      db.exec(`INSERT INTO v VALUES (1e0, 2e0, 3.0, '4.0', 5.0, 6, true)`);
    });
    expect(expectSameAsSqlite(file, 'v')).toBe(INTEGERS.length + REALS.length + 7 + 4 + 3);
  });

  it('the same in STRICT tables', () => {
    const file = makeSqlite(dir, 'strict.db', `CREATE TABLE s (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, a ANY) STRICT;`, (db) => {
      const ins = db.prepare('INSERT INTO s (i, r, t, b, a) VALUES (?, ?, ?, ?, ?)');
      for (let k = 0; k < INTEGERS.length; k++) ins.run(INTEGERS[k], REALS[k % REALS.length], `t${k}`, Buffer.from([k]), k % 2 ? INTEGERS[k] : REALS[k % REALS.length]);
    });
    expectSameAsSqlite(file, 's', rowidKey('id'));
  });

  it('rowid aliases, a DESC primary key that is not one, negative and 64-bit rowids, gaps', () => {
    const file = makeSqlite(
      dir,
      'rowids.db',
      `CREATE TABLE alias (id INTEGER PRIMARY KEY, v TEXT);
       CREATE TABLE descpk (id INTEGER PRIMARY KEY DESC, v TEXT);
       CREATE TABLE plain (v TEXT, w INTEGER);`,
      (db) => {
        const ids = [-9223372036854775808n, -9223372036854775807n, -140737488355329n, -300n, -1n, 0n, 1n, 2n, 1000n, 2n ** 48n, 2n ** 53n + 1n, 9223372036854775806n, 9223372036854775807n];
        for (const t of ['alias', 'descpk']) for (const id of ids) db.prepare(`INSERT INTO ${t} VALUES (?, ?)`).run(id, `row ${id}`);
        for (const id of ids) db.prepare('INSERT INTO plain (rowid, v, w) VALUES (?, ?, ?)').run(id, `row ${id}`, id);
      },
    );
    expectSameAsSqlite(file, 'alias', rowidKey('id'));
    expectSameAsSqlite(file, 'alias');
    expectSameAsSqlite(file, 'descpk');
    expectSameAsSqlite(file, 'plain');
  });

  it('payloads on overflow pages and records shorter than their table are read through SQLite, row by row', () => {
    const file = makeSqlite(dir, 'overflow.db', `CREATE TABLE o (id INTEGER PRIMARY KEY, t TEXT, b BLOB);`, (db) => {
      const ins = db.prepare('INSERT INTO o (id, t, b) VALUES (?, ?, ?)');
      for (let i = 1; i <= 300; i++) ins.run(i, i % 10 === 0 ? 'é'.repeat(3000 * (i % 7)) : `short ${i}`, i % 15 === 0 ? Buffer.alloc(5000 + i, i) : null);
      db.exec(`ALTER TABLE o ADD COLUMN added INTEGER DEFAULT 42; ALTER TABLE o ADD COLUMN note TEXT DEFAULT 'n/a'; ALTER TABLE o ADD COLUMN r REAL DEFAULT 1;`);
      for (let i = 301; i <= 320; i++) ins.run(i, `after ${i}`, null);
      db.prepare('UPDATE o SET added = 7 WHERE id % 4 = 0').run();
    });
    let bySqlite = 0;
    expectSameAsSqlite(file, 'o', rowidKey('id'), { sqliteRows: (n) => (bySqlite = n) });
    expect(bySqlite).toBeGreaterThan(0);
  });

  it('B-trees several levels deep (512-byte pages), after deletes and updates left free space', () => {
    const file = makeSqlite(dir, 'deep.db', `PRAGMA page_size = 512; CREATE TABLE d (id INTEGER PRIMARY KEY, v TEXT, n INTEGER);`, (db) => {
      const rnd = seededRandom(7);
      const ins = db.prepare('INSERT INTO d VALUES (?, ?, ?)');
      db.transaction(() => {
        for (let i = 0; i < 20_000; i++) ins.run(BigInt(Math.floor(rnd() * 2 ** 40)) - 2n ** 39n, 'v'.repeat(Math.floor(rnd() * 60)), i);
      })();
      db.exec(`DELETE FROM d WHERE n % 3 = 0; UPDATE d SET v = v || 'grown' WHERE n % 5 = 0;`);
    });
    const db = new Database(file, { readonly: true });
    const depth = treeDepth(file, Number((db.prepare(`SELECT rootpage FROM sqlite_schema WHERE name = 'd'`).get() as { rootpage: number }).rootpage));
    db.close();
    expect(depth).toBeGreaterThanOrEqual(3);
    expect(expectSameAsSqlite(file, 'd', rowidKey('id'), { ranges: 100 })).toBeGreaterThan(13_000);
  });

  it('64 KiB pages, and a table in page 1 of a file with auto_vacuum', () => {
    const big = makeSqlite(dir, 'big-pages.db', `PRAGMA page_size = 65536; ${mixedValuesTableSql(5000, 3)}`);
    expectSameAsSqlite(big, 't', rowidKey('id'));
    const av = makeSqlite(dir, 'autovacuum.db', `PRAGMA auto_vacuum = FULL; ${mixedValuesTableSql(3000, 1)} DELETE FROM t WHERE id % 2 = 0;`);
    expectSameAsSqlite(av, 't', rowidKey('id'));
  });
});

describe('where the page reader steps aside', () => {
  it('refuses tables and files it cannot read as SQLite would, saying why', () => {
    const file = makeSqlite(
      dir,
      'refuse.db',
      `CREATE TABLE wr (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;
       CREATE TABLE gen (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL, c INTEGER);
       CREATE TABLE ok (a INTEGER);`,
    );
    const db = openSource(file);
    try {
      expect(PageKeysetReader.open(db, 'wr', { kind: 'pk', columns: ['k'] } as unknown as KeyPlan, ['k', 'v'])).toBe('not keyed by its rowid');
      expect(PageKeysetReader.open(db, 'gen', rowidKey(), ['a', 'c'])).toBe('has generated or hidden columns');
      expect(PageKeysetReader.open(db, 'ok', rowidKey(), ['a', 'nope'])).toBe('no column nope');
      expect(PageKeysetReader.open(db, 'ok', rowidKey(), ['a'])).toBeInstanceOf(PageKeysetReader);
    } finally {
      db.close();
    }
    const utf16 = makeSqlite(dir, 'utf16.db', `PRAGMA encoding = 'UTF-16le'; CREATE TABLE ok (a TEXT); INSERT INTO ok VALUES ('x');`);
    const db16 = openSource(utf16);
    expect(PageKeysetReader.open(db16, 'ok', rowidKey(), ['a'])).toBe('text encoding is not UTF-8');
    db16.close();
  });

  it('refuses a file with a write-ahead log beside it (its newest pages are in the log)', () => {
    const file = path.join(dir, 'wal.db');
    const writer = new Database(file);
    writer.pragma('journal_mode = WAL');
    writer.exec(`CREATE TABLE w (a INTEGER); INSERT INTO w VALUES (1), (2);`);
    const db = openSource(file);
    try {
      expect(PageKeysetReader.open(db, 'w', rowidKey(), ['a'])).toBe('a wal file lies beside it');
    } finally {
      db.close();
      writer.close();
    }
  });

  it('a page it does not expect makes the batch read through SQLite: SQLite then reports the file as corrupt, no value is made up', () => {
    const good = makeSqlite(dir, 'to-corrupt.db', `PRAGMA page_size = 512; ${mixedValuesTableSql(4000, 1)}`);
    const bad = path.join(dir, 'corrupt.db');
    copyFileSync(good, bad);
    const db0 = new Database(good, { readonly: true });
    const root = Number((db0.prepare(`SELECT rootpage FROM sqlite_schema WHERE name = 't'`).get() as { rootpage: number }).rootpage);
    db0.close();
    // A leaf in the middle of the table becomes an index page.
    const leaves = leafPages(good, root);
    const victim = leaves[Math.floor(leaves.length / 2)]!;
    const fd = openSync(bad, 'r+');
    writeSync(fd, Buffer.from([0x0a]), 0, 1, (victim - 1) * 512);
    closeSync(fd);
    const db = openSource(bad);
    try {
      const plan = planFromFile(good).tables.find((t) => t.source === 't')!;
      const enc = new ChunkEncoder(db, plan, new PayloadPool());
      let after: KeyTuple | null = null;
      let err: unknown = null;
      try {
        for (;;) {
          const b = enc.next(after, null, 500);
          if (!b) break;
          after = b.lastKey;
        }
      } catch (e) {
        err = e;
      }
      expect((err as { code?: string })?.code).toBe('SQLITE_CORRUPT');
      expect(enc.pageReaderOff).toMatch(/page \d+ of a table B-tree has type 10/);
      enc.close();
    } finally {
      db.close();
    }
  });
});

describe('the copy through the page reader', () => {
  it('encodes byte for byte the batches (payload, rejects, digests, value facts) that reading through SQLite encodes', () => {
    const file = makeSqlite(dir, 'encode.db', `${mixedValuesTableSql(6000, 2)} ALTER TABLE t ADD COLUMN late TEXT DEFAULT 'late'; UPDATE t SET s = printf('%.*c', 4000, 'x') WHERE id % 500 = 0;`);
    const plan = planFromFile(file);
    const table = plan.tables.find((t) => t.source === 't')!;
    const db = openSource(file);
    try {
      for (const batch of [1, 97, 1000]) {
        const a = new ChunkEncoder(db, table, new PayloadPool(), { digests: true, profile: true });
        const b = new ChunkEncoder(db, table, new PayloadPool(), { digests: true, profile: true, pageReader: false });
        let after: KeyTuple | null = null;
        let batches = 0;
        for (;;) {
          const x = a.next(after, [encodeKeyValue(11_000n)], batch);
          const y = b.next(after, [encodeKeyValue(11_000n)], batch);
          expect(x === null).toBe(y === null);
          if (!x || !y) break;
          batches++;
          expect(Buffer.from(x.payload).equals(Buffer.from(y.payload))).toBe(true);
          expect(x.format).toBe(y.format);
          expect([x.rows, x.copied, x.rejectedRows, x.lastKey]).toEqual([y.rows, y.copied, y.rejectedRows, y.lastKey]);
          expect(x.rejects).toEqual(y.rejects);
          expect(Buffer.from(x.digest!).equals(Buffer.from(y.digest!))).toBe(true);
          expect(JSON.parse(JSON.stringify(x.profile, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)))).toEqual(JSON.parse(JSON.stringify(y.profile, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))));
          after = x.lastKey;
        }
        expect(batches).toBeGreaterThan(0);
        expect(a.pageReaderOff).toBeNull();
        expect(a.rowsReadBySqlite).toBeGreaterThan(0);
        expect(b.pageReaderOff).toBe('turned off');
        a.close();
        b.close();
      }
    } finally {
      db.close();
    }
  });
});

describe('readVarint', () => {
  it('decodes 1- to 9-byte varints, two’s complement in 64 bits, as numbers when exact', () => {
    const v = { value: 0 as number | bigint, next: 0 };
    const enc = (x: bigint): Uint8Array => {
      const u = BigInt.asUintN(64, x);
      if (u > (1n << 56n) - 1n) {
        const out = new Uint8Array(9);
        out[8] = Number(u & 0xffn);
        let rest = u >> 8n;
        for (let i = 7; i >= 0; i--) {
          out[i] = Number(rest & 0x7fn) | (i < 7 ? 0x80 : 0x80);
          rest >>= 7n;
        }
        return out;
      }
      const bytes: number[] = [];
      let rest = u;
      do {
        bytes.unshift(Number(rest & 0x7fn));
        rest >>= 7n;
      } while (rest > 0n);
      return Uint8Array.from(bytes.map((b, i) => (i < bytes.length - 1 ? b | 0x80 : b)));
    };
    for (const x of [0n, 127n, 128n, 16383n, 16384n, 2n ** 49n - 1n, 2n ** 49n, 2n ** 53n, 2n ** 56n - 1n, 2n ** 56n, 2n ** 63n - 1n, -1n, -(2n ** 63n), -12345n]) {
      const b = enc(x);
      readVarint(b, 0, v);
      expect(BigInt(v.value)).toBe(x);
      expect(typeof v.value).toBe(x >= -(2n ** 53n) + 1n && x <= 2n ** 53n - 1n ? 'number' : 'bigint');
      expect(v.next).toBe(b.length);
    }
  });
});

/** Depth of a table B-tree (1: the root is a leaf). */
function treeDepth(file: string, root: number): number {
  const { read } = pager(file);
  let depth = 1;
  let p = root;
  for (;;) {
    const page = read(p);
    const at = p === 1 ? 100 : 0;
    if (page[at] === 0x0d) return depth;
    depth++;
    p = page.readUInt32BE(at + 8);
  }
}

/** Leaf pages of a table B-tree, in key order. */
function leafPages(file: string, root: number): number[] {
  const { read } = pager(file);
  const out: number[] = [];
  const walk = (p: number) => {
    const page = read(p);
    const at = p === 1 ? 100 : 0;
    if (page[at] === 0x0d) return void out.push(p);
    const cells = page.readUInt16BE(at + 3);
    for (let i = 0; i < cells; i++) walk(page.readUInt32BE(page.readUInt16BE(at + 12 + 2 * i)));
    walk(page.readUInt32BE(at + 8));
  };
  walk(root);
  return out;
}

function pager(file: string): { read(p: number): Buffer } {
  const fd = openSync(file, 'r');
  const h = Buffer.alloc(100);
  readSync(fd, h, 0, 100, 0);
  const raw = h.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  return {
    read(p: number) {
      const b = Buffer.alloc(pageSize);
      readSync(fd, b, 0, pageSize, (p - 1) * pageSize);
      return b;
    },
  };
}
