// Chunk boundaries (arithmetic for dense rowids, stepped otherwise) and the batch encoder:
// every row lands in exactly one chunk, and the worker-thread source gives what the inline one does.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { arithmeticBoundaries, chunkRowsFor, MIN_LANE_CHUNK_ROWS, planChunks } from '../../src/sqlite/chunk-bounds';
import { openSource } from '../../src/sqlite/open';
import { KeysetReader, SCAN_STEP } from '../../src/sqlite/reader';
import { BATCH_BYTES, ChunkEncoder, FIRST_BATCH_ROWS, batchRows, type EncodedBatch } from '../../src/copy/encode-batch';
import { openBatchSource } from '../../src/copy/batch-source';
import type { ChunkPlan, ColumnPlan, KeyPlan, KeyTuple, TablePlan } from '../../src/types';
import { makeSqlite, tempDir } from '../helpers/sqlite';

const dir = tempDir('copy-chunking');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = makeSqlite(
  dir,
  'c.db',
  `CREATE TABLE dense (id INTEGER PRIMARY KEY, v TEXT);
   CREATE TABLE sparse (id INTEGER PRIMARY KEY, v TEXT);
   CREATE TABLE pk2 (a TEXT, b INTEGER, v REAL, PRIMARY KEY (a, b)) WITHOUT ROWID;
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
   INSERT INTO dense SELECT i, 'row ' || i FROM n;
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
   INSERT INTO sparse SELECT CASE WHEN i < 900 THEN i ELSE i * 1000 END, 'r' || char(9) || i FROM n;
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 777)
   INSERT INTO pk2 SELECT 'k' || (i % 7), i, i / 3.0 FROM n;
   CREATE TABLE wide (id INTEGER PRIMARY KEY, v TEXT);
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
   INSERT INTO wide SELECT i, hex(zeroblob(500)) || i FROM n;
   CREATE TABLE widening_pages (id INTEGER PRIMARY KEY, v TEXT);
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
   INSERT INTO widening_pages SELECT i, CASE WHEN i <= 12000 THEN 'n' || i ELSE hex(zeroblob(1000)) || i END FROM n;
   CREATE TABLE narrow (id INTEGER PRIMARY KEY, v INTEGER);
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
   INSERT INTO narrow SELECT i, i % 7 FROM n;
   CREATE TABLE widening_sqlite (id INTEGER PRIMARY KEY, v TEXT);
   INSERT INTO widening_sqlite SELECT * FROM widening_pages;`,
);

function keysIn(table: string, key: KeyPlan, chunks: ChunkPlan[]): string[][] {
  const db = openSource(file);
  try {
    const reader = new KeysetReader(db, table, key, []);
    return chunks.map((c) => {
      const out: string[] = [];
      let after = c.lo;
      for (;;) {
        const b = reader.read(after, c.hi, 97);
        if (b.rows.length === 0) break;
        for (const r of b.rows) out.push(r.map(String).join('|'));
        after = b.lastKey;
      }
      return out;
    });
  }
  finally {
    db.close();
  }
}

describe('chunk boundaries', () => {
  it('chunkRowsFor: at most chunkSize; large tables in equal chunks, a multiple of the lanes', () => {
    // The bench's tables and the demo's at 1,000,000 rows a chunk, 2 lanes: as asked.
    expect(chunkRowsFor(2_000_000, 1_000_000, 2)).toBe(1_000_000);
    expect(chunkRowsFor(500_000, 1_000_000, 2)).toBe(1_000_000);
    expect(chunkRowsFor(900_000, 1_000_000, 2)).toBe(1_000_000);
    // Evened out, and rounded up to the lanes while chunks keep MIN_LANE_CHUNK_ROWS.
    expect(chunkRowsFor(1_200_000, 1_000_000, 2)).toBe(600_000);
    expect(chunkRowsFor(3_000_000, 1_000_000, 2)).toBe(750_000);
    expect(chunkRowsFor(3_000_000, 1_000_000, 3)).toBe(1_000_000);
    expect(chunkRowsFor(3_000_000, 1_000_000, 1)).toBe(1_000_000);
    expect(chunkRowsFor(2_500_000, 1_000_000, 4)).toBe(625_000);
    expect(chunkRowsFor(1_900_000, 1_000_000, 4)).toBe(950_000); // 4 chunks would be under the minimum
    // Small tables and small chunk sizes: exactly as asked.
    for (const [rows, size, lanes] of [[7, 1, 8], [201, 1, 8], [20_000, 5_000, 2], [0, 1_000, 2], [1_234_567, 100_000, 3]] as const) {
      expect(chunkRowsFor(rows, size, lanes)).toBe(size);
    }
    for (const [rows, size, lanes] of [[10_000_000, 1_000_000, 3], [7_777_777, 2_000_000, 2], [5_000_001, 5_000_000, 2]] as const) {
      const r = chunkRowsFor(rows, size, lanes);
      expect(r).toBeLessThanOrEqual(size);
      expect(r).toBeGreaterThanOrEqual(MIN_LANE_CHUNK_ROWS);
      expect(Math.ceil(rows / r) % lanes).toBe(0);
    }
  });

  it('planChunks: the chunk size of chunkRowsFor', () => {
    const db = openSource(file);
    try {
      // Chunks of a small table are as asked, whatever the lanes; planChunks takes chunkRowsFor's size.
      const key: KeyPlan = { kind: 'rowid', columns: ['rowid'], display: ['id'] };
      expect(planChunks(db, 'dense', key, 1000, 1_000_000, 2)).toHaveLength(1);
      expect(planChunks(db, 'dense', key, 1000, 300, 2).map((c) => c.estimatedRows)).toEqual([300, 300, 300, 100]);
      // A row count large enough for lanes (the count planChunks is given decides the split).
      expect(planChunks(db, 'dense', key, 3_000_000, 1_000_000, 2)).toHaveLength(4);
    } finally {
      db.close();
    }
  });

  it('arithmetic boundaries are ascending, distinct and below max', () => {
    expect(arithmeticBoundaries(1n, 1000n, 1000, 250)).toEqual([250n, 500n, 750n]);
    expect(arithmeticBoundaries(1n, 1000n, 1000, 300)).toEqual([250n, 500n, 750n]);
    const b = arithmeticBoundaries(5n, 9n, 5, 1);
    expect(b).toEqual([5n, 6n, 7n, 8n]);
  });

  for (const [table, key, rows] of [
    ['dense', { kind: 'rowid', columns: ['rowid'], display: ['id'] }, 1000],
    ['sparse', { kind: 'rowid', columns: ['rowid'], display: ['id'] }, 1000],
    ['pk2', { kind: 'pk', columns: ['a', 'b'] }, 777],
  ] as [string, KeyPlan, number][]) {
    it(`${table}: every row in exactly one chunk, chunks balanced`, () => {
      const db = openSource(file);
      const chunks = (() => {
        try {
          return planChunks(db, table, key, rows, 100);
        } finally {
          db.close();
        }
      })();
      const per = keysIn(table, key, chunks);
      const all = per.flat();
      expect(all.length).toBe(rows);
      expect(new Set(all).size).toBe(rows);
      if (table !== 'sparse') for (const c of per) expect(c.length).toBeLessThanOrEqual(100);
      expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(rows / 100) - (table === 'sparse' ? 1 : 0));
    });
  }
});

const col = (source: string, converter: ColumnPlan['converter']): ColumnPlan => ({
  source,
  target: source,
  declaredType: '',
  pgType: 'text',
  converter,
  notNull: false,
  defaultSql: null,
  identity: false,
  generated: false,
  reason: '',
  warnings: [],
  suggestions: [],
});

const plan = (source: string, key: KeyPlan, columns: ColumnPlan[]): TablePlan => ({
  source,
  target: source,
  withoutRowid: false,
  strict: false,
  key,
  columns,
  primaryKey: null,
  uniques: [],
  indexes: [],
  foreignKeys: [],
  checks: [],
  rowCount: 0,
  sqliteSequence: null,
  warnings: [],
});

describe('batch encoder', () => {
  const sparse = plan('sparse', { kind: 'rowid', columns: ['rowid'], display: ['id'] }, [
    col('id', { kind: 'integer', bits: 16 }),
    col('v', { kind: 'text' }),
  ]);

  it('encodes COPY text, rejects per row, and the line form agrees', () => {
    const db = openSource(file);
    try {
      const enc = new ChunkEncoder(db, sparse);
      const b = enc.next([{ t: 'i', v: '895' }], null, 10)!;
      // ids 895..899 fit smallint; 900000.. do not
      expect(b.rows).toBe(10);
      expect(b.copied).toBe(4);
      expect(b.rejectedRows).toBe(6);
      expect(Buffer.from(b.payload).toString('utf8')).toBe('896\tr\\t896\n897\tr\\t897\n898\tr\\t898\n899\tr\\t899\n');
      expect(b.rejects[0]).toMatchObject({ rowKey: 'id=900000', column: 'id' });
      expect(b.lastKey).toEqual([{ t: 'i', v: '905000' }]);
      const l = enc.lines([{ t: 'i', v: '895' }], b.lastKey, b.rows);
      expect(l.lines.join('')).toBe(Buffer.from(b.payload).toString('utf8'));
      expect(l.lineKeys).toEqual(['id=896', 'id=897', 'id=898', 'id=899']);
      expect(l.rejects).toEqual(b.rejects);
    } finally {
      db.close();
    }
  });

  it('the worker-thread source yields the same batches as the inline encoder', async () => {
    const t = plan('pk2', { kind: 'pk', columns: ['a', 'b'] }, [col('a', { kind: 'text' }), col('b', { kind: 'integer', bits: 64 }), col('v', { kind: 'float' })]);
    const db = openSource(file);
    try {
      const enc = new ChunkEncoder(db, t);
      const src = openBatchSource(db, t, null, null, 50);
      let after = null;
      let total = 0;
      for (;;) {
        const want = enc.next(after, null, 50);
        const got = await src.next();
        if (want === null) {
          expect(got).toBeNull();
          break;
        }
        expect(got).not.toBeNull();
        expect(Buffer.from(got!.payload).equals(Buffer.from(want.payload))).toBe(true);
        expect(got!.lastKey).toEqual(want.lastKey);
        total += got!.copied;
        after = want.lastKey;
      }
      src.close();
      expect(total).toBe(777);
    } finally {
      db.close();
    }
  });
});

/** Every batch of the table at 50,000 rows a batch, handed to `each` in order. */
function drain(enc: ChunkEncoder, each: (b: EncodedBatch) => void): void {
  let after: KeyTuple | null = null;
  for (;;) {
    const b = enc.next(after, null, 50_000);
    if (b === null) return;
    each(b);
    after = b.lastKey;
  }
}

describe('batch size', () => {
  it('batchRows: the row limit, or about BATCH_BYTES of payload once the row size is known', () => {
    expect(batchRows(50_000, 0)).toBe(FIRST_BATCH_ROWS);
    expect(batchRows(500, 0)).toBe(500);
    expect(batchRows(50_000, 100)).toBe(Math.floor(BATCH_BYTES / 100));
    expect(batchRows(1_000, 100)).toBe(1_000);
    // A row larger than the budget still makes a batch of one.
    expect(batchRows(50_000, BATCH_BYTES * 3)).toBe(1);
  });

  it('a batch of wide rows ends at about BATCH_BYTES, not at the row limit, and no row is lost', () => {
    const t = plan('wide', { kind: 'rowid', columns: ['rowid'], display: ['id'] }, [col('id', { kind: 'integer', bits: 64 }), col('v', { kind: 'text' })]);
    const db = openSource(file);
    try {
      const sizes: number[] = [];
      let rows = 0;
      drain(new ChunkEncoder(db, t), (b) => {
        sizes.push(b.rows);
        rows += b.rows;
        expect(b.copied).toBe(b.rows);
        // The first batch knows no row size yet and stops at the budget by its bytes; the later ones are sized for it.
        expect(b.payload.byteLength).toBeLessThanOrEqual(BATCH_BYTES * 1.05);
      });
      expect(rows).toBe(20_000);
      // ≈ 1,010 bytes a row: ≈ 4,150 rows a batch, not the first batch's 10,000 nor the limit's 50,000.
      for (const n of sizes.slice(0, -1)) {
        expect(n).toBeGreaterThan(3_500);
        expect(n).toBeLessThan(4_500);
      }
    } finally {
      db.close();
    }
  });

  it('narrow rows: batches grow past the first batch to the row limit once their size is known', () => {
    const t = plan('narrow', { kind: 'rowid', columns: ['rowid'], display: ['id'] }, [col('id', { kind: 'integer', bits: 64 }), col('v', { kind: 'integer', bits: 64 })]);
    const db = openSource(file);
    try {
      const sizes: number[] = [];
      drain(new ChunkEncoder(db, t), (b) => sizes.push(b.rows));
      expect(sizes).toEqual([FIRST_BATCH_ROWS, 50_000]);
    } finally {
      db.close();
    }
  });

  for (const pageReader of [true, false]) {
    it(`rows growing wider end a batch by its bytes, not by the row limit the narrow rows suggested (${pageReader ? 'page reader' : 'through SQLite'})`, () => {
      // A table per variant: a thread's encoders share each table's last row size.
      const t = plan(pageReader ? 'widening_pages' : 'widening_sqlite', { kind: 'rowid', columns: ['rowid'], display: ['id'] }, [col('id', { kind: 'integer', bits: 64 }), col('v', { kind: 'text' })]);
      const db = openSource(file);
      try {
        const sizes: number[] = [];
        drain(new ChunkEncoder(db, t, undefined, { pageReader }), (b) => {
          sizes.push(b.rows);
          // Past the budget by at most a leaf page of rows (page reader), or a page of rows read through
          // SQLite (at most SCAN_STEP, sized from the narrow rows before them: ≈ 1,000 rows of ≈ 2 KB).
          expect(b.payload.byteLength).toBeLessThan(BATCH_BYTES + (pageReader ? 64 * 1024 : SCAN_STEP * 2_100));
        });
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(30_000);
        // 10,000 narrow rows, then a batch the narrow rows' size would have let reach 50,000 rows.
        expect(sizes[0]).toBe(FIRST_BATCH_ROWS);
        expect(sizes[1]).toBeLessThan(6_000);
      } finally {
        db.close();
      }
    });
  }
});
