// The copy's reader of a rowid table, straight from the snapshot file's pages: the same rows, in
// the same order, as KeysetReader.scan (rowid > after, ≤ hi, at most `limit`), decoded by
// record.ts instead of handed over value by value by better-sqlite3 (≈ 5x less CPU on the bench
// database's largest table). Only where nothing can differ from what SQLite would return:
// a UTF-8 rowid table of stored columns, in a file without a write-ahead log beside it (a
// snapshot nobody writes). A row it does not decode itself (payload on overflow pages, fewer
// fields than columns) is read through SQLite by its rowid; a page it does not expect stops it
// (PageFormatError) and the caller reads the batch through SQLite.
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { KeyPlan, KeyTuple } from '../types';
import { sqliteAffinity } from '../plan/affinity';
import { quoteSqliteIdent, type SqliteDb } from './open';
import { decodeKeyValue, encodeKeyValue, rowidAliasOf } from './reader';
import type { SqliteValue } from './types';
import {
  cellOffset,
  decodeRecord,
  pageHeader,
  PageFormatError,
  PAGE_INTERIOR_TABLE,
  PAGE_LEAF_TABLE,
  readLeafCell,
  readU32,
  readVarint,
  type LeafCell,
  type VarintOut,
} from './record';

/** Pages read from the file at once: leaves of a table written in key order lie next to each other. */
const BLOCK_PAGES = 32;
/** Blocks kept (≈ 2 MB of 4 KiB pages): the interior pages of the current path stay cached. */
const BLOCKS_KEPT = 16;

/** A database file's pages, read in blocks through a small cache. */
class PageFile {
  readonly pageSize: number;
  readonly usable: number;
  readonly pages: number;
  private readonly blocks = new Map<number, Buffer>();

  constructor(private readonly fd: number) {
    const header = Buffer.alloc(100);
    if (readSync(fd, header, 0, 100, 0) !== 100) throw new PageFormatError('file shorter than its header');
    if (header.toString('latin1', 0, 16) !== 'SQLite format 3\0') throw new PageFormatError('not a SQLite 3 file');
    const raw = header.readUInt16BE(16);
    this.pageSize = raw === 1 ? 65536 : raw;
    if (this.pageSize < 512 || (this.pageSize & (this.pageSize - 1)) !== 0) throw new PageFormatError(`page size ${raw}`);
    this.usable = this.pageSize - header[20]!;
    if (header.readUInt32BE(56) !== 1) throw new PageFormatError('text encoding is not UTF-8');
    this.pages = Math.floor(fstatSync(fd).size / this.pageSize);
  }

  /** Page `n` (1-based): a view into a cached block, valid until BLOCKS_KEPT other blocks were read. */
  page(n: number): Buffer {
    if (!(n >= 1 && n <= this.pages)) throw new PageFormatError(`page ${n} is outside the file (${this.pages} pages)`);
    const block = Math.floor((n - 1) / BLOCK_PAGES);
    let buf = this.blocks.get(block);
    if (buf) {
      // Most recently used last.
      this.blocks.delete(block);
      this.blocks.set(block, buf);
    } else {
      const first = block * BLOCK_PAGES;
      const count = Math.min(BLOCK_PAGES, this.pages - first);
      if (this.blocks.size >= BLOCKS_KEPT) {
        const oldest = this.blocks.keys().next().value!;
        buf = this.blocks.get(oldest)!;
        this.blocks.delete(oldest);
      }
      if (!buf) buf = Buffer.allocUnsafeSlow(BLOCK_PAGES * this.pageSize);
      const want = count * this.pageSize;
      let got = 0;
      while (got < want) {
        const r = readSync(this.fd, buf, got, want - got, first * this.pageSize + got);
        if (r === 0) throw new PageFormatError(`file ended inside page ${first + Math.floor(got / this.pageSize) + 1}`);
        got += r;
      }
      this.blocks.set(block, buf);
    }
    const at = ((n - 1) % BLOCK_PAGES) * this.pageSize;
    return buf.subarray(at, at + this.pageSize);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Where a rowid table's columns are in its records. */
export interface RecordLayout {
  /** Record field of each output column; -1 for the rowid alias (stored as NULL). */
  fields: Int32Array;
  /** 1 where the column has REAL affinity (integers read from it become doubles). */
  realAffinity: Uint8Array;
  rootPage: number;
}

/**
 * The record layout of `table` for `columns`, or the reason this table is read through SQLite.
 * Record fields are the table's columns in declaration order; a generated column (stored or
 * not) or a virtual table changes that, so those tables are not read here.
 */
export function recordLayout(db: SqliteDb, table: string, columns: readonly string[]): RecordLayout | string {
  const master = db.prepare('SELECT type, rootpage FROM main.sqlite_schema WHERE name = ? COLLATE NOCASE AND type = ?').get(table, 'table') as { type: string; rootpage: bigint | number } | undefined;
  if (!master) return 'not in sqlite_schema';
  const rootPage = Number(master.rootpage);
  if (!(rootPage > 0)) return 'a virtual table';
  const info = db.prepare(`PRAGMA table_xinfo(${quoteSqliteIdent(table)})`).all() as { name: string; type: string; hidden: number | bigint; pk: number | bigint }[];
  if (info.some((c) => Number(c.hidden) !== 0)) return 'has generated or hidden columns';
  const list = db.prepare('PRAGMA main.table_list').all() as { schema: string; name: string; wr: number | bigint }[];
  const entry = list.find((t) => t.schema === 'main' && t.name.toLowerCase() === table.toLowerCase());
  if (!entry) return 'not in table_list';
  if (Number(entry.wr) === 1) return 'a WITHOUT ROWID table';
  // Only a table's single primary-key column can be its rowid (SQLite's compiled SELECT decides).
  const pk = info.filter((c) => Number(c.pk) > 0);
  const alias = pk.length === 1 ? rowidAliasOf(db, table, [pk[0]!.name]) : null;
  const fields = new Int32Array(columns.length);
  const realAffinity = new Uint8Array(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const cid = info.findIndex((c) => c.name === columns[i]);
    if (cid < 0) return `no column ${columns[i]}`;
    fields[i] = info[cid]!.name === alias ? -1 : cid;
    realAffinity[i] = sqliteAffinity(info[cid]!.type ?? '') === 'REAL' ? 1 : 0;
  }
  return { fields, realAffinity, rootPage };
}

/** Why the file itself cannot be read page by page (a log beside it may hold newer pages), or null. */
export function fileUnreadable(path: string): string | null {
  for (const suffix of ['-wal', '-journal']) {
    const side = path + suffix;
    if (existsSync(side) && statSync(side).size > 0) return `a ${suffix.slice(1)} file lies beside it`;
  }
  return null;
}

/** The first of `count` ascending keys that is above `after` (`count` when none is): a binary search. */
function firstAbove(count: number, after: bigint, keyAt: (i: number) => number | bigint): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keyAt(mid) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Frame {
  page: number;
  /** Next child to visit: 0..cells-1 are the cells' left children, `cells` the right-most pointer. */
  next: number;
}

/**
 * Writes the row whose record is page[start, end) itself and returns true, or returns false (having
 * written nothing) for the reader to decode it and hand it to `each` (copy/raw-rows.ts).
 */
export type RawRowFn = (page: Buffer, start: number, end: number, rowid: number | bigint) => boolean;

/** Reads one rowid table's rows in rowid order from the file's pages. */
export class PageKeysetReader {
  private readonly v: VarintOut = { value: 0, next: 0 };
  private readonly cell: LeafCell = { rowid: 0, start: 0, end: 0, overflows: false };
  private readonly types: Int32Array;
  private readonly offsets: Int32Array;
  private readonly width: number;
  private bySqlite: ReturnType<SqliteDb['prepare']> | null = null;
  /** Rows read through SQLite instead (overflowing payloads, short records): for tests and logs. */
  rowsBySqlite = 0;

  private constructor(
    private readonly db: SqliteDb,
    private readonly file: PageFile,
    private readonly table: string,
    private readonly key: KeyPlan,
    private readonly columns: readonly string[],
    private readonly layout: RecordLayout,
  ) {
    let maxField = 0;
    for (const f of layout.fields) maxField = Math.max(maxField, f + 1);
    this.types = new Int32Array(maxField);
    this.offsets = new Int32Array(maxField);
    this.width = key.columns.length;
  }

  /** A page reader for the table, or the reason it is read through SQLite. */
  static open(db: SqliteDb, table: string, key: KeyPlan, columns: readonly string[]): PageKeysetReader | string {
    if (key.kind !== 'rowid' || key.columns.length !== 1) return 'not keyed by its rowid';
    const dbPath = db.name;
    if (!dbPath || dbPath === ':memory:' || (db as { memory?: boolean }).memory) return 'an in-memory database';
    const unreadable = fileUnreadable(dbPath);
    if (unreadable) return unreadable;
    const layout = recordLayout(db, table, columns);
    if (typeof layout === 'string') return layout;
    const fd = openSync(dbPath, 'r');
    try {
      return new PageKeysetReader(db, new PageFile(fd), table, key, columns, layout);
    } catch (err) {
      closeSync(fd);
      if (err instanceof PageFormatError) return err.message;
      throw err;
    }
  }

  close(): void {
    this.file.close();
  }

  /** Where the columns are in the table's records. */
  get recordLayout(): RecordLayout {
    return this.layout;
  }

  /**
   * Same contract as KeysetReader.scan (`pageRows` is not needed: rows are never held in pages),
   * except that `each` gets the same array for every row decoded here (refilled: one allocation
   * per scan instead of one per row) unless `fresh`: it must not keep the row.
   */
  scan(
    after: KeyTuple | null,
    hi: KeyTuple | null,
    limit: number,
    each: (row: SqliteValue[]) => void,
    fresh = false,
    raw?: RawRowFn,
    /** True when the batch has enough bytes: asked after each leaf page and each overflowing row. */
    full?: () => boolean,
  ): { rows: number; lastKey: KeyTuple | null } {
    const lo = after ? decodeKeyValue(after[0]!) : null;
    const top = hi ? decodeKeyValue(hi[0]!) : null;
    // A rowid bound is an integer; any other value compares as SQLite orders it (no row is above text).
    if (lo !== null && typeof lo !== 'bigint') throw new PageFormatError('a rowid bound that is not an integer');
    if (top !== null && typeof top !== 'bigint') throw new PageFormatError('a rowid bound that is not an integer');
    const stack = this.seek(lo);
    const { fields, realAffinity } = this.layout;
    const width = this.width;
    const n = this.columns.length;
    const aliases: number[] = [];
    for (let i = 0; i < n; i++) if (fields[i]! < 0) aliases.push(width + i);
    let rows = 0;
    let last: number | bigint | null = null;
    const cell = this.cell;
    const reused: SqliteValue[] | null = fresh ? null : new Array<SqliteValue>(width + n);
    while (rows < limit && stack.length > 0) {
      const leaf = stack[stack.length - 1]!;
      const page = this.file.page(leaf.page);
      const h = pageHeader(page, leaf.page === 1);
      for (; leaf.next < h.cells && rows < limit; leaf.next++) {
        readLeafCell(page, cellOffset(page, h.at, h.type, leaf.next), this.file.usable, this.v, cell);
        const rowid = cell.rowid;
        if (lo !== null && rowid <= lo) continue;
        if (top !== null && rowid > top) return this.result(rows, last);
        if (raw !== undefined && !cell.overflows && raw(page, cell.start, cell.end, rowid)) {
          rows++;
          last = rowid;
          continue;
        }
        const key = BigInt(rowid);
        let row: SqliteValue[];
        if (cell.overflows) row = this.rowBySqlite(key);
        else {
          row = reused ?? new Array<SqliteValue>(width + n);
          if (!decodeRecord(page, cell.start, cell.end, fields, realAffinity, this.types, this.offsets, row, width, this.v)) row = this.rowBySqlite(key);
        }
        row[0] = key;
        for (const a of aliases) row[a] = key;
        each(row);
        rows++;
        last = key;
        if (cell.overflows && full !== undefined && full()) return this.result(rows, last);
      }
      if (rows >= limit || (full !== undefined && full())) break;
      stack.pop();
      this.descendToNextLeaf(stack);
    }
    return this.result(rows, last);
  }

  private result(rows: number, last: number | bigint | null): { rows: number; lastKey: KeyTuple | null } {
    return { rows, lastKey: last === null ? null : [encodeKeyValue(BigInt(last))] };
  }

  /** The path from the root to the leaf holding the first row with rowid > `after` (whole table: null). */
  private seek(after: bigint | null): Frame[] {
    const stack: Frame[] = [];
    let pageNo = this.layout.rootPage;
    for (let depth = 0; ; depth++) {
      if (depth > 40) throw new PageFormatError('B-tree deeper than 40 levels');
      const page = this.file.page(pageNo);
      const h = pageHeader(page, pageNo === 1);
      if (h.type === PAGE_LEAF_TABLE) {
        // The leaf's rowids ascend: skip those ≤ after.
        const i = after === null ? 0 : firstAbove(h.cells, after, (k) => readLeafCell(page, cellOffset(page, h.at, h.type, k), this.file.usable, this.v, this.cell).rowid);
        stack.push({ page: pageNo, next: i });
        return stack;
      }
      if (h.type !== PAGE_INTERIOR_TABLE) throw new PageFormatError(`page ${pageNo} of a table B-tree has type ${h.type}`);
      // Child i holds the rowids ≤ the key of cell i: the first whose key is > after may hold rows after it.
      const i = after === null ? 0 : firstAbove(h.cells, after, (k) => this.interiorKey(page, h.at, k));
      stack.push({ page: pageNo, next: i + 1 });
      pageNo = this.child(page, h.at, h.cells, i);
    }
  }

  /** After the leaf on top was popped: the next leaf's path (empty stack at the end of the table). */
  private descendToNextLeaf(stack: Frame[]): void {
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const page = this.file.page(top.page);
      const h = pageHeader(page, top.page === 1);
      if (top.next > h.cells) {
        stack.pop();
        continue;
      }
      let pageNo = this.child(page, h.at, h.cells, top.next);
      top.next++;
      // Leftmost leaf under that child.
      for (;;) {
        if (stack.length > 40) throw new PageFormatError('B-tree deeper than 40 levels');
        const p = this.file.page(pageNo);
        const ph = pageHeader(p, pageNo === 1);
        if (ph.type === PAGE_LEAF_TABLE) {
          stack.push({ page: pageNo, next: 0 });
          return;
        }
        if (ph.type !== PAGE_INTERIOR_TABLE) throw new PageFormatError(`page ${pageNo} of a table B-tree has type ${ph.type}`);
        stack.push({ page: pageNo, next: 1 });
        pageNo = this.child(p, ph.at, ph.cells, 0);
      }
    }
  }

  private child(page: Buffer, at: number, cells: number, i: number): number {
    return i < cells ? readU32(page, cellOffset(page, at, PAGE_INTERIOR_TABLE, i)) : readU32(page, at + 8);
  }

  private interiorKey(page: Buffer, at: number, i: number): number | bigint {
    return readVarint(page, cellOffset(page, at, PAGE_INTERIOR_TABLE, i) + 4, this.v).value;
  }

  /** One row as SQLite reads it (key first, then the columns). */
  private rowBySqlite(rowid: bigint): SqliteValue[] {
    if (!this.bySqlite) {
      const k = quoteSqliteIdent(this.key.columns[0]!);
      this.bySqlite = this.db.prepare(`SELECT ${k}, ${this.columns.map(quoteSqliteIdent).join(', ')} FROM ${quoteSqliteIdent(this.table)} NOT INDEXED WHERE ${k} = ?`).raw(true);
    }
    const row = this.bySqlite.get(rowid) as SqliteValue[] | undefined;
    if (!row) throw new PageFormatError(`rowid ${rowid} is on a page but SQLite does not find it`);
    this.rowsBySqlite++;
    return row;
  }
}
