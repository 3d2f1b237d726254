// Issue 6 (memory): the value profile off the main thread (profileTableAsync) must equal the
// single-thread scan exactly, and recycled COPY payload buffers must not change a single byte.
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { profileTable, profileTableAsync, releaseProfileThreads } from '../../src/sqlite/profile';
import { ChunkEncoder, PayloadPool } from '../../src/copy/encode-batch';
import { openBatchSource } from '../../src/copy/batch-source';
import { openSource } from '../../src/sqlite/open';
import { KeysetReader } from '../../src/sqlite/reader';
import type { SqliteColumn } from '../../src/sqlite/types';
import type { ColumnPlan, TablePlan } from '../../src/types';
import { makeSqlite, mixedValuesTableSql, tempDir } from '../helpers/sqlite';

const dir = tempDir('copy-memory');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = makeSqlite(
  dir,
  'm.db',
  mixedValuesTableSql(120000, 2) +
    `
   CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT);
   INSERT INTO small VALUES (1, 'a'), (2, '{"x":1}'), (5, NULL);
   CREATE TABLE wr (a TEXT PRIMARY KEY, v REAL) WITHOUT ROWID;
   WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 40000)
   INSERT INTO wr SELECT 'k' || i, i / 3.0 FROM k;
   CREATE TABLE empty (id INTEGER PRIMARY KEY, v TEXT);`,
);

function columnsOf(db: Database.Database, table: string): SqliteColumn[] {
  return (db.prepare(`SELECT name, type FROM pragma_table_info(?)`).all(table) as { name: string; type: string }[]).map(
    (r): SqliteColumn => ({ name: r.name, declaredType: r.type, notNull: false, defaultSql: null, pkIndex: 0, hidden: 0, collation: null }),
  );
}

function withProfileThreads<T>(v: string, f: () => T): T {
  const prev = process.env.CUTOVER_PROFILE_THREADS;
  process.env.CUTOVER_PROFILE_THREADS = v;
  try {
    return f();
  } finally {
    if (prev === undefined) delete process.env.CUTOVER_PROFILE_THREADS;
    else process.env.CUTOVER_PROFILE_THREADS = prev;
  }
}

describe('profileTableAsync', () => {
  it('equals the single-thread scan, table by table (helper threads, calling thread, WITHOUT ROWID, empty)', async () => {
    const db = new Database(file, { readonly: true });
    db.defaultSafeIntegers(true);
    try {
      for (const table of ['t', 'small', 'wr', 'empty']) {
        const cols = columnsOf(db, table);
        const serial = withProfileThreads('0', () => profileTable(db, table, cols));
        const prev = process.env.CUTOVER_PROFILE_THREADS;
        process.env.CUTOVER_PROFILE_THREADS = '1';
        let threaded;
        try {
          threaded = await profileTableAsync(db, table, cols);
        } finally {
          if (prev === undefined) delete process.env.CUTOVER_PROFILE_THREADS;
          else process.env.CUTOVER_PROFILE_THREADS = prev;
        }
        expect(threaded, table).toEqual(serial);
      }
      expect(withProfileThreads('0', () => profileTable(db, 't', columnsOf(db, 't'))).id!.rows).toBe(120000);
    } finally {
      db.close();
      await releaseProfileThreads();
    }
  }, 60_000);
});

describe('payload buffers', () => {
  it('PayloadPool reuses a large-enough buffer and lets too-small ones go', () => {
    const pool = new PayloadPool(2);
    const a = pool.take(100_000);
    expect(a.length).toBeGreaterThanOrEqual(100_000);
    pool.put(a.buffer as ArrayBuffer);
    expect(pool.size).toBe(1);
    const b = pool.take(50_000);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.size).toBe(0);
    pool.put(b.buffer as ArrayBuffer);
    const c = pool.take(10_000_000);
    expect(c.buffer).not.toBe(a.buffer);
    expect(pool.size).toBe(0);
    pool.put(new ArrayBuffer(10));
    pool.put(new ArrayBuffer(10));
    pool.put(new ArrayBuffer(10));
    expect(pool.size).toBe(2);
  });

  it('recycled buffers give byte-identical batches (worker thread and inline)', async () => {
    const col = (name: string, converter: ColumnPlan['converter']): ColumnPlan =>
      ({ source: name, target: name, pgType: 'text', nullable: true, converter, warnings: [] }) as unknown as ColumnPlan;
    const t = {
      source: 't',
      target: 't',
      key: { kind: 'rowid', columns: ['rowid'], display: ['id'] },
      columns: [col('id', { kind: 'integer', bits: 64 }), col('s', { kind: 'text' }), col('r', { kind: 'float' })],
    } as unknown as TablePlan;
    const db = openSource(file);
    try {
      // Batches of different sizes, so a recycled buffer is sometimes larger than the payload.
      for (const threads of ['2', '0']) {
        const prev = process.env.CUTOVER_COPY_THREADS;
        process.env.CUTOVER_COPY_THREADS = threads;
        const enc = new ChunkEncoder(db, t, new PayloadPool());
        const src = openBatchSource(db, t, null, null, 3000);
        let after = null;
        let rows = 0;
        try {
          for (let i = 0; ; i++) {
            const want = enc.next(after, null, 3000);
            const got = await src.next();
            if (want === null) {
              expect(got).toBeNull();
              break;
            }
            expect(Buffer.from(got!.payload).equals(Buffer.from(want.payload)), `batch ${i}, threads ${threads}`).toBe(true);
            expect(got!.lastKey).toEqual(want.lastKey);
            rows += got!.rows;
            after = want.lastKey;
            src.recycle(got!);
          }
        } finally {
          src.close();
          if (prev === undefined) delete process.env.CUTOVER_COPY_THREADS;
          else process.env.CUTOVER_COPY_THREADS = prev;
        }
        expect(rows).toBe(120000);
      }
    } finally {
      db.close();
    }
  }, 60_000);
});

describe('KeysetReader.scan (paged .all())', () => {
  it('gives the rows read() gives, across page boundaries, for rowid and text keys', () => {
    const db = openSource(file);
    try {
      const cases = [
        { table: 't', key: { kind: 'rowid', columns: ['rowid'], display: ['id'] }, cols: ['id', 's', 'r', 'b'] },
        { table: 'wr', key: { kind: 'pk', columns: ['a'] }, cols: ['a', 'v'] },
      ] as const;
      for (const c of cases) {
        const reader = new KeysetReader(db, c.table, c.key as never, [...c.cols]);
        for (const limit of [1, 999, 1000, 1001, 2500]) {
          let after = null;
          for (let batch = 0; batch < 4; batch++) {
            const want = reader.read(after, null, limit);
            const got: unknown[] = [];
            const r = reader.scan(after, null, limit, (row) => got.push(row));
            expect(r.rows, `${c.table} limit ${limit}`).toBe(want.rows.length);
            expect(got).toEqual(want.rows);
            expect(r.lastKey).toEqual(want.lastKey);
            after = r.lastKey;
          }
        }
        // Bounded above (a chunk's hi): stops there even in the middle of a page.
        const all = reader.read(null, null, 5000);
        const hi = all.rows[2345]!.slice(0, 1).map((v) => (typeof v === 'bigint' ? { t: 'i' as const, v: v.toString() } : { t: 's' as const, v: String(v) }));
        const got: unknown[] = [];
        const r = reader.scan(null, hi, 5000, (row) => got.push(row));
        expect(r.rows).toBe(2346);
        expect(got).toEqual(all.rows.slice(0, 2346));
      }
    } finally {
      db.close();
    }
  });
});
