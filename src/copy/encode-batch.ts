// Reads one chunk's batches from SQLite and encodes them as one COPY stream each: binary COPY when
// every column has a binary writer (binary-fields.ts), else COPY text; lines() is always text.
//
// Used in a worker thread (see batch-source.ts) so SQLite reading and encoding run on another
// core while the main thread's PostgreSQL transaction for the previous batch is in flight; and
// in the main thread as the fallback and to re-encode one batch line by line when PostgreSQL
// refuses it. Pure with respect to its inputs: the same rows give the same payload and rejects.
import { TextDecoder } from 'node:util';
import type { ColumnPlan, KeyTuple, TablePlan } from '../types';
import { describeRawValue, makeEncoder, RejectedValue, type Encoder } from '../plan/convert';
import { quoteSqliteIdent, type SqliteDb } from '../sqlite/open';
import { formatKey, KeysetReader, decodeKeyValue, SCAN_STEP } from '../sqlite/reader';
import type { SqliteValue } from '../sqlite/types';
import type { RejectRecord } from '../postgres/state';
import { BinaryRows } from './binary-rows';
import { binaryFieldWriters, type FieldWriter } from './binary-fields';
import { BatchDigester, comparedAsMultiset, digestColumns } from '../validate/chunk-digests';
import { canonTypeOf } from '../validate/canonical';
import { isWellFormed } from '../validate/fast';
import { Acc, add } from '../sqlite/profile';
import { PageKeysetReader, type RawRowFn } from '../sqlite/page-reader';
import { PageFormatError } from '../sqlite/record';
import { firstDifference } from '../sqlite/row-compare';
import { RawRows, rawKinds } from './raw-rows';

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** COPY's FORMAT of a batch's payload. */
export type CopyFormat = 'text' | 'binary';

export interface EncodedBatch {
  /** The accepted rows as one COPY stream: COPY text (UTF-8) or binary COPY (header to trailer). */
  payload: Uint8Array;
  format: CopyFormat;
  /** Rows read from SQLite (accepted + rejected). */
  rows: number;
  copied: number;
  rejectedRows: number;
  rejects: RejectRecord[];
  /** Key of the last row read: the checkpoint after this batch. */
  lastKey: KeyTuple;
  /**
   * With `digests`: the batch's record for content validation (chunk-digests.ts), or null when a
   * value had no wire form (the chunk's source side is then read again at checksum time).
   */
  digest?: Uint8Array | null;
  /** With `profile`: the value facts of every row read (accepted or not), one per column (profile-parts.ts). */
  profile?: Acc[];
}

export interface EncodedLines {
  /** One COPY text line per accepted row, and its key, to isolate a row PostgreSQL refuses. */
  lines: string[];
  lineKeys: string[];
  rejectedRows: number;
  rejects: RejectRecord[];
}

const POOL_UNIT = 256 * 1024;
/** Target COPY text per SQLite page of rows (KeysetReader.scan), and the first page's rows. */
const PAGE_BYTES = 1024 * 1024;
const FIRST_PAGE_ROWS = 32;

/**
 * Payload buffers handed back once their COPY completed (BatchSource.recycle), reused for later
 * batches. Without it every batch allocated a fresh ~1 MB buffer that was freed only when the
 * main thread's GC got to it: dozens stayed alive at once, and malloc's per-thread arenas kept
 * the churn as ≈80–100 MB of RSS.
 */
export class PayloadPool {
  private readonly free: ArrayBuffer[] = [];
  /** A chunk in flight has ≤ 2 batches out (one committing, one prefetched); a thread serves ~1–2 chunks. */
  constructor(private readonly max = 3) {}

  /** Keeps `buf` for reuse (it must not be referenced anywhere else). */
  put(buf: ArrayBuffer): void {
    if (buf.byteLength > 0 && this.free.length < this.max) this.free.push(buf);
  }

  /** A buffer of at least `min` bytes: a kept one if one is large enough, else a new one. */
  take(min: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const len = this.free[i]!.byteLength;
      if (len >= min && (best < 0 || len < this.free[best]!.byteLength)) best = i;
    }
    if (best >= 0) return Buffer.from(this.free.splice(best, 1)[0]!);
    // Kept buffers too small for this table's batches would never fit: let them go.
    for (let i = this.free.length - 1; i >= 0; i--) if (this.free[i]!.byteLength < min) this.free.splice(i, 1);
    // Whole 256 KiB units: batches of similar size reuse each other's buffers instead of fragmenting.
    return Buffer.allocUnsafeSlow(Math.ceil(min / POOL_UNIT) * POOL_UNIT);
  }

  get size(): number {
    return this.free.length;
  }
}

/**
 * Payload size per table from the last batch this thread encoded: a chunk's first batch gets a
 * buffer of the right size at once instead of growing one from 64 KiB (each step a freed buffer).
 */
const sizeHints = new Map<string, number>();
/**
 * COPY bytes per row per table, from the last batch (or page of rows) this thread encoded: sizes
 * the next batches (batchRows) and a chunk's first page of rows read through SQLite.
 */
const bytesPerRowHints = new Map<string, number>();

/**
 * COPY data per batch, about: a batch ends at `batchSize` rows or here, whichever comes first.
 * Each batch costs a transaction (lock, COPY, checkpoint, commit), a message between threads and
 * its value facts: ≈ 2 ms of CPU here, 10% of a narrow table's copy at 10,000 rows per batch
 * (candles: 1 MB batches). 4 MB keeps the payloads in flight (one committing and one read ahead
 * per chunk) small beside the worker's memory budget whatever the rows' width.
 */
export const BATCH_BYTES = 4 * 1024 * 1024;
/** Rows of a table's first batch in a thread, before its row size is known (it still ends at BATCH_BYTES). */
export const FIRST_BATCH_ROWS = 10_000;

/** Rows of the next batch: at most `limit`, and about BATCH_BYTES of payload at `perRow` bytes a row (0: not known yet). */
export function batchRows(limit: number, perRow: number): number {
  if (!(perRow > 0)) return Math.min(limit, FIRST_BATCH_ROWS);
  return Math.max(1, Math.min(limit, Math.floor(BATCH_BYTES / perRow)));
}

/** The pool of encoders used in this thread (each copy worker thread has its own module instance). */
export const threadPayloadPool = new PayloadPool();

/**
 * A column whose binary COPY field is byte for byte the fast pass's wire form of its value
 * (validate/fast.ts): int8 as int8, float8 as float8, a boolean, a text as its UTF-8. Not int2/int4
 * (2 or 4 bytes against the wire's int8), numeric, timestamps, dates, uuid, bytea, json (other bytes).
 */
export function copyFieldIsWire(pgType: string): boolean {
  const t = pgType.trim().toLowerCase().replace(/\s+/g, ' ');
  return /^(bigint|int8|bigserial|serial8|double precision|float8|boolean|bool|text)$/.test(t) || /^(varchar|character varying)( ?\(\d+\))?$/.test(t);
}

export class ChunkEncoder {
  private readonly reader: KeysetReader;
  private readonly encoders: Encoder[];
  /** Binary COPY writers of the columns, or null: this table is copied as COPY text. */
  private readonly writers: FieldWriter[] | null;
  readonly format: CopyFormat;
  private readonly columns: ColumnPlan[];
  private readonly keyWidth: number;
  private readonly rawText: RawTextReader;
  private readonly orphans: OrphanFinder;
  /** Bytes to allocate for the next batch's payload (from the last one, or this table's last chunk). */
  private sizeHint: number;
  /** COPY text bytes per row seen so far (0: not known yet). */
  private bytesPerRow = 0;
  /** Hashes the accepted rows for the checksum stage (option `digests`). */
  private readonly digester: BatchDigester | null;
  /** The batch's value facts per column (option `profile`: the table's plan is a speculative one). */
  private accs: Acc[] | null;
  /**
   * Reads rows from the file's pages (page-reader.ts) instead of through SQLite, once opened;
   * null: not opened yet; a string: why this table is read through SQLite.
   */
  private pages: PageKeysetReader | string | null = null;
  /** The page reader's first rows were compared with SQLite's (see pageScanner). */
  private pagesChecked = false;
  /**
   * Writes this table's rows into binary COPY from the record bytes (raw-rows.ts): null while not
   * decided, false when the table is not one of plain integers and doubles.
   */
  private raw: RawRows | false | null = null;
  /**
   * Checksum validation: how a row gets into its batch's digest. 'copy': the row's binary COPY bytes
   * are its digest tuple (every column's COPY field is byte for byte its wire form: copyFieldIsWire),
   * hashed as written; 'fields': the fields of such columns are taken from the COPY bytes, the
   * others converted to their canonical form; 'canonical': every value converted again (text COPY,
   * or no such column). Null until the first binary batch decides it (a way is taken only when it
   * gives the same record as 'canonical' for the first rows).
   */
  private digestWay: 'copy' | 'fields' | 'canonical' | null = null;
  /** Per column: its COPY field is its wire form. */
  private readonly copyFields: boolean[];
  /** Columns whose COPY field is text taken as written: a row is, only when each of them is well-formed. */
  private readonly textColumns: number[];

  constructor(
    private readonly db: SqliteDb,
    private readonly table: TablePlan,
    private readonly buffers: PayloadPool = threadPayloadPool,
    options: { format?: 'text'; digests?: boolean; profile?: boolean; pageReader?: boolean } = {},
  ) {
    this.columns = table.columns;
    this.sizeHint = sizeHints.get(table.source) ?? 0;
    // With digests, a row's values go through the same converters twice (its COPY field, then its
    // digest's canonical form) one right after the other: the second call reuses the first's result.
    this.encoders = this.columns.map((c) => (options.digests ? rememberLast(makeEncoder(c.converter)) : makeEncoder(c.converter)));
    this.writers = options.format === 'text' ? null : binaryFieldWriters(this.columns, this.encoders);
    this.format = this.writers ? 'binary' : 'text';
    this.reader = new KeysetReader(
      db,
      table.source,
      table.key,
      this.columns.map((c) => c.source),
    );
    this.keyWidth = table.key.columns.length;
    this.rawText = new RawTextReader(db, table);
    this.orphans = new OrphanFinder(db, table);
    this.digester = options.digests ? new BatchDigester(digestColumns(table), comparedAsMultiset(table.key), this.encoders) : null;
    this.copyFields = this.columns.map((c) => copyFieldIsWire(c.pgType));
    this.textColumns = this.columns.flatMap((c, i) => (this.copyFields[i] && canonTypeOf(c.pgType) === 'text' ? [i] : []));
    this.accs = options.profile ? [] : null;
    if (options.pageReader === false || process.env.CUTOVER_PAGE_READER === '0') this.pages = 'turned off';
  }

  /** Why this encoder reads through SQLite (null: it reads the file's pages, or has not decided yet). */
  get pageReaderOff(): string | null {
    return typeof this.pages === 'string' ? this.pages : null;
  }

  /** Rows the page reader handed to SQLite to read (payloads on overflow pages, short records). */
  get rowsReadBySqlite(): number {
    return this.pages instanceof PageKeysetReader ? this.pages.rowsBySqlite : 0;
  }

  /** Checksum validation: how rows are hashed (see digestWay), as decided at the first binary batch. */
  get digestsWay(): 'copy' | 'fields' | 'canonical' | null {
    return this.digestWay;
  }

  /** Rows are written from the record bytes (raw-rows.ts), as decided at the first batch. */
  get writesRawRows(): boolean {
    return this.raw instanceof RawRows;
  }

  /** Releases the page reader's file descriptor. */
  close(): void {
    if (this.pages instanceof PageKeysetReader) this.pages.close();
    this.pages = 'closed';
  }

  /**
   * The page reader, when this table can be read from the file's pages. Its first rows are
   * compared with SQLite's, value by value: a layout this decoder misreads (a schema it does not
   * foresee) turns it off for the chunk instead of copying wrong values.
   */
  private pageScanner(after: KeyTuple | null, hi: KeyTuple | null): PageKeysetReader | null {
    if (this.pages === null) this.pages = PageKeysetReader.open(this.db, this.table.source, this.table.key, this.columns.map((c) => c.source));
    if (!(this.pages instanceof PageKeysetReader)) return null;
    if (!this.pagesChecked) {
      this.pagesChecked = true;
      const expected = this.reader.read(after, hi, CHECKED_ROWS).rows;
      const got: SqliteValue[][] = [];
      try {
        this.pages.scan(after, hi, CHECKED_ROWS, (row) => void got.push(row), true);
      } catch (err) {
        if (!(err instanceof PageFormatError)) throw err;
        this.turnPagesOff(err.message);
        return null;
      }
      const diff = firstDifference(expected, got);
      if (diff) {
        this.turnPagesOff(`its first rows differ from SQLite's (${diff})`);
        return null;
      }
    }
    return this.pages;
  }

  /**
   * The raw writer of this table (raw-rows.ts), when its columns allow one. Its first rows are
   * written both ways once and must give the same bytes, and the same digest record (the row's
   * COPY bytes are its digest tuple): a layout it reads otherwise than the generic path turns it
   * off for this encoder.
   */
  private rawRows(pages: PageKeysetReader, after: KeyTuple | null, hi: KeyTuple | null): RawRows | null {
    if (this.raw === null) {
      const kinds = process.env.CUTOVER_RAW_ROWS === '0' ? null : rawKinds(this.columns, pages.recordLayout, this.digester !== null);
      this.raw = kinds ? new RawRows(kinds, pages.recordLayout) : false;
      if (this.raw && !this.sameBothWays(this.raw, pages, after, hi)) {
        this.raw = false;
        if (!warnedRawOff.has(this.table.source)) {
          warnedRawOff.add(this.table.source);
          process.emitWarning(`${this.table.source}: rows written value by value: the record bytes gave other COPY bytes than the decoded values`, { code: 'CUTOVER_RAW_ROWS_OFF' });
        }
      }
    }
    return this.raw || null;
  }

  private sameBothWays(raw: RawRows, pages: PageKeysetReader, after: KeyTuple | null, hi: KeyTuple | null): boolean {
    const generic = new BinaryBatchState(this.buffers, 0);
    const direct = new BinaryBatchState(this.buffers, 0);
    const digester = this.digester;
    const same = (a: Uint8Array | null | undefined, b: Uint8Array | null | undefined) => (a == null || b == null ? a == b : Buffer.compare(a, b) === 0);
    try {
      pages.scan(after, hi, CHECKED_ROWS, (row) => this.encodeRowBinary(row, generic), true);
      const genericDigest = digester?.finish();
      raw.startBatch(null, digester);
      pages.scan(after, hi, CHECKED_ROWS, (row) => this.encodeRowBinary(row, direct), true, (page, start, end, rowid) => raw.row(page, start, end, rowid, direct.out));
      const directDigest = digester?.finish();
      return Buffer.compare(generic.payload(), direct.payload()) === 0 && same(genericDigest, directDigest);
    } finally {
      digester?.reset();
      generic.release();
      direct.release();
    }
  }

  private turnPagesOff(reason: string): void {
    if (this.pages instanceof PageKeysetReader) this.pages.close();
    this.pages = reason;
    if (!warnedPageReaderOff.has(this.table.source)) {
      warnedPageReaderOff.add(this.table.source);
      process.emitWarning(`${this.table.source}: read through SQLite instead of from the file's pages: ${reason}`, { code: 'CUTOVER_PAGE_READER_OFF' });
    }
  }

  /** Every value of a row read into the batch's facts (before conversion: rejected rows count too). */
  private profileRow(row: SqliteValue[]): void {
    const accs = this.accs!;
    const k = this.keyWidth;
    for (let i = 0; i < accs.length; i++) add(accs[i]!, row[k + i]!);
  }

  /**
   * The batch after `after` (exclusive) up to `hi` (inclusive), at most `batchSize` rows and about
   * BATCH_BYTES of payload; null when none is left.
   */
  next(after: KeyTuple | null, hi: KeyTuple | null, batchSize: number): EncodedBatch | null {
    return this.nextRows(after, hi, batchRows(batchSize, bytesPerRowHints.get(this.table.source) ?? 0));
  }

  private nextRows(after: KeyTuple | null, hi: KeyTuple | null, limit: number): EncodedBatch | null {
    // Orphan rejects need the batch's last key before its rows are encoded: only then read ahead.
    // A batch that failed half-way must not leave its rows in the next one's digest.
    this.digester?.reset();
    if (this.accs) this.accs = this.columns.map(() => new Acc());
    if ((this.table.rejectWhere ?? []).length > 0) return this.nextWithOrphans(after, hi, limit);
    const st = this.newState();
    if (this.digester && this.digestWay === null && st instanceof BinaryBatchState) this.digestWay = this.chooseDigestWay(after, hi);
    const encodeOnly = st instanceof BinaryBatchState ? (row: SqliteValue[]) => this.encodeRowBinary(row, st) : (row: SqliteValue[]) => this.encodeRow(row, st);
    const encode = this.accs
      ? (row: SqliteValue[]) => {
          this.profileRow(row);
          encodeOnly(row);
        }
      : encodeOnly;
    const pages = this.pageScanner(after, hi);
    const raw = pages && st instanceof BinaryBatchState ? this.rawRows(pages, after, hi) : null;
    let rawRow: RawRowFn | undefined;
    if (raw && st instanceof BinaryBatchState) {
      raw.startBatch(this.accs, this.digester);
      const out = st.out;
      rawRow = (page, start, end, rowid) => {
        if (!raw.row(page, start, end, rowid, out)) return false;
        st.copied++;
        return true;
      };
    }
    let scanned: { rows: number; lastKey: KeyTuple | null };
    try {
      // The row limit comes from the last batch's row size; rows growing wider within the table end the batch by bytes.
      scanned = pages ? pages.scan(after, hi, limit, encode, false, rawRow, () => st.bytes() >= BATCH_BYTES) : this.reader.scan(after, hi, limit, encode, (done) => this.pageRows(st, done));
    } catch (err) {
      if (!(pages && err instanceof PageFormatError)) throw err;
      // Half a batch is encoded: drop it and read the whole batch through SQLite.
      st.release();
      this.turnPagesOff(err.message);
      return this.nextRows(after, hi, limit);
    }
    raw?.finishBatch();
    const { rows, lastKey } = scanned;
    if (rows === 0) {
      st.release();
      return null;
    }
    const payload = st.payload();
    this.sizeHint = Math.ceil(payload.length * 1.25);
    sizeHints.set(this.table.source, this.sizeHint);
    bytesPerRowHints.set(this.table.source, payload.length / rows);
    return { payload, format: this.format, rows, copied: st.copied, rejectedRows: st.rejectedRows, rejects: st.rejects, lastKey: lastKey!, ...this.batchRecords() };
  }

  /** What the batch hands over besides its rows: its content digest and its value facts, when asked for. */
  private batchRecords(): { digest?: Uint8Array | null; profile?: Acc[] } {
    return { ...(this.digester ? { digest: this.digester.finish() } : {}), ...(this.accs ? { profile: this.accs } : {}) };
  }

  private newState(): BatchState | BinaryBatchState {
    return this.writers ? new BinaryBatchState(this.buffers, this.sizeHint) : new BatchState(this.buffers, this.sizeHint);
  }

  /**
   * Rows per SQLite page: about PAGE_BYTES of COPY text (a page of rows is alive at once in this
   * thread's heap), judged from what this batch (or the chunk's previous one) encoded per row;
   * a table's first page is small until its row size is known.
   */
  private pageRows(st: BatchState | BinaryBatchState, done: number): number {
    if (done > 0 && st.bytes() >= BATCH_BYTES) return 0;
    const perRow = done > 0 ? st.bytes() / done : this.bytesPerRow || (bytesPerRowHints.get(this.table.source) ?? 0);
    if (done > 0) {
      this.bytesPerRow = perRow;
      bytesPerRowHints.set(this.table.source, perRow);
    }
    if (!(perRow > 0)) return FIRST_PAGE_ROWS;
    return Math.max(1, Math.min(SCAN_STEP, Math.floor(PAGE_BYTES / perRow)));
  }

  private nextWithOrphans(after: KeyTuple | null, hi: KeyTuple | null, limit: number): EncodedBatch | null {
    const batch = this.reader.read(after, hi, limit);
    if (batch.rows.length === 0) return null;
    const lastKey = batch.lastKey!;
    const orphanKeys = this.orphans.find(after, lastKey);
    const st = this.newState();
    for (const row of batch.rows) {
      if (this.accs) this.profileRow(row);
      if (orphanKeys.size > 0) {
        const rowKey = keyOf(this.table, row, this.keyWidth);
        const orphan = orphanKeys.get(rowKey);
        if (orphan !== undefined) {
          st.rejects.push({ rowKey, column: null, reason: `${this.table.source}: ${orphan}`, value: null });
          st.rejectedRows++;
          continue;
        }
      }
      if (st instanceof BinaryBatchState) this.encodeRowBinary(row, st);
      else this.encodeRow(row, st);
    }
    return { payload: st.payload(), format: this.format, rows: batch.rows.length, copied: st.copied, rejectedRows: st.rejectedRows, rejects: st.rejects, lastKey, ...this.batchRecords() };
  }

  /**
   * better-sqlite3 shows bytes that are not UTF-8 as U+FFFD: a text holding one is re-read raw, and
   * rejected when the bytes were never characters (unless the column keeps the replacement).
   */
  private checkUtf8(v: SqliteValue, row: SqliteValue[], i: number): void {
    const c = this.columns[i]!;
    if (typeof v === 'string' && v.includes('\uFFFD') && !replacesInvalidUtf8(c) && !this.rawText.isValidUtf8(row, this.keyWidth, c.source)) {
      throw new RejectedValue('text is not valid UTF-8 (SQLite accepted bytes that are not characters)', 'text');
    }
  }

  private rejectOf(rowKey: string, i: number, err: RejectedValue, v: SqliteValue): RejectRecord {
    const column = this.columns[i]!.source;
    return { rowKey, column, reason: `${this.table.source}.${column}: ${err.reason}`, value: describeRawValue(v) };
  }

  /** Appends one row's COPY line to `st.out`, or its rejects to `st.rejects`. */
  private encodeRow(row: SqliteValue[], st: BatchState): void {
    const { keyWidth, columns, encoders, table } = this;
    const n = columns.length;
    let line = '';
    let bad: RejectRecord[] | null = null;
    for (let i = 0; i < n; i++) {
      const v = row[keyWidth + i]!;
      let field: string;
      try {
        this.checkUtf8(v, row, i);
        field = encoders[i]!(v);
      } catch (err) {
        if (!(err instanceof RejectedValue)) throw err;
        (bad ??= []).push(this.rejectOf(keyOf(table, row, keyWidth), i, err, v));
        continue;
      }
      if (bad === null) line = i === 0 ? field : line + '\t' + field;
    }
    if (bad) {
      for (const b of bad) st.rejects.push(b);
      st.rejectedRows++;
      return;
    }
    st.add(line + '\n');
    this.digester?.row(row, keyWidth);
  }

  /** Appends one row to the binary COPY stream, or its rejects to `st.rejects` (the row is cut off again). */
  private encodeRowBinary(row: SqliteValue[], st: BinaryBatchState): void {
    const { keyWidth, columns, writers, table } = this;
    const out = st.out;
    const n = columns.length;
    const start = out.beginRow(n);
    let bad: RejectRecord[] | null = null;
    for (let i = 0; i < n; i++) {
      const v = row[keyWidth + i]!;
      try {
        this.checkUtf8(v, row, i);
        writers![i]!(v, out);
      } catch (err) {
        if (!(err instanceof RejectedValue)) throw err;
        (bad ??= []).push(this.rejectOf(keyOf(table, row, keyWidth), i, err, v));
      }
    }
    if (bad) {
      out.rollback(start);
      for (const b of bad) st.rejects.push(b);
      st.rejectedRows++;
      return;
    }
    out.endRow();
    st.copied++;
    if (this.digester) this.digestRow(row, out.buf, start, out.pos);
  }

  /** The row into the batch's digest, the way chosen (see digestWay). */
  private digestRow(row: SqliteValue[], buf: Buffer, start: number, end: number): void {
    const digester = this.digester!;
    const way = this.digestWay;
    if (way === 'copy' && this.wellFormedText(row)) digester.rowBytes(buf, start, end);
    else if (way === 'fields' && this.wellFormedText(row)) digester.rowFields(row, this.keyWidth, buf, start, this.copyFields);
    else digester.row(row, this.keyWidth);
  }

  /**
   * A text with an unpaired surrogate has no wire form (its UTF-8 is U+FFFD's): the canonical way
   * marks the batch inconclusive, as it must.
   */
  private wellFormedText(row: SqliteValue[]): boolean {
    const k = this.keyWidth;
    for (const i of this.textColumns) {
      const v = row[k + i];
      if (typeof v === 'string' && !isWellFormed(v)) return false;
    }
    return true;
  }

  /**
   * How rows will be hashed (see digestWay): from their COPY bytes as far as the columns allow,
   * provided the first rows give the same digest record that way as converted again (a converter
   * or writer that does otherwise than copyFieldIsWire foresees keeps the canonical way).
   */
  private chooseDigestWay(after: KeyTuple | null, hi: KeyTuple | null): 'copy' | 'fields' | 'canonical' {
    const copied = this.copyFields.filter(Boolean).length;
    if (process.env.CUTOVER_DIGEST_COPY_BYTES === '0' || copied === 0) return 'canonical';
    const way = copied === this.columns.length ? 'copy' : 'fields';
    const rows = this.reader.read(after, hi, CHECKED_ROWS).rows;
    const digester = this.digester!;
    const records: (Uint8Array | null)[] = [];
    for (const w of ['canonical', way] as const) {
      this.digestWay = w;
      const st = new BinaryBatchState(this.buffers, 0);
      try {
        for (const row of rows) this.encodeRowBinary(row, st);
        records.push(digester.finish());
      } finally {
        st.release();
        digester.reset();
        this.digestWay = null;
      }
    }
    const [canonical, taken] = records;
    return canonical != null && taken != null && Buffer.compare(canonical, taken) === 0 ? way : 'canonical';
  }

  /** The same batch as `next` gave, one line per accepted row (the rare path: PostgreSQL refused the batch). */
  lines(after: KeyTuple | null, lastKey: KeyTuple, limit: number): EncodedLines {
    const batch = this.reader.read(after, lastKey, limit);
    const lines: string[] = [];
    const lineKeys: string[] = [];
    const rejects: RejectRecord[] = [];
    let rejectedRows = 0;
    const { keyWidth, columns, encoders, table } = this;
    const orphanKeys = batch.rows.length ? this.orphans.find(after, batch.lastKey!) : new Map<string, string>();
    const fields: string[] = new Array(columns.length);
    for (const row of batch.rows) {
      const rowKey = keyOf(table, row, keyWidth);
      const orphan = orphanKeys.get(rowKey);
      if (orphan !== undefined) {
        rejects.push({ rowKey, column: null, reason: `${table.source}: ${orphan}`, value: null });
        rejectedRows++;
        continue;
      }
      let bad: RejectRecord[] | null = null;
      for (let i = 0; i < columns.length; i++) {
        const v = row[keyWidth + i]!;
        try {
          this.checkUtf8(v, row, i);
          fields[i] = encoders[i]!(v);
        } catch (err) {
          if (!(err instanceof RejectedValue)) throw err;
          (bad ??= []).push(this.rejectOf(rowKey, i, err, v));
        }
      }
      if (bad) {
        rejects.push(...bad);
        rejectedRows++;
        continue;
      }
      lines.push(fields.join('\t') + '\n');
      lineKeys.push(rowKey);
    }
    return { lines, lineKeys, rejectedRows, rejects };
  }
}

/**
 * `enc` remembering its last input and output: converters are pure, so the same value (Object.is:
 * -0 is not 0) gives the same field. A value it rejects is not remembered (it throws again).
 */
export function rememberLast(enc: Encoder): Encoder {
  let seen = false;
  let lastIn: SqliteValue = null;
  let lastOut = '';
  return (v) => {
    if (seen && Object.is(v, lastIn)) return lastOut;
    const out = enc(v);
    seen = true;
    lastIn = v;
    lastOut = out;
    return out;
  };
}

/** Rows the page reader's output is compared with SQLite's at a chunk's start. */
const CHECKED_ROWS = 16;
const warnedPageReaderOff = new Set<string>();
const warnedRawOff = new Set<string>();

/** Rows of COPY text joined in a string before they are written out as UTF-8 (keeps the string's pieces short-lived). */
const FLUSH_ROWS = 64;

class BatchState {
  /** COPY text not yet written to `buf`. */
  out = '';
  pendingRows = 0;
  buf: Buffer;
  pos = 0;
  copied = 0;
  rejectedRows = 0;
  rejects: RejectRecord[] = [];

  constructor(
    private readonly buffers: PayloadPool,
    sizeHint: number,
  ) {
    this.buf = buffers.take(Math.max(64 * 1024, sizeHint));
  }

  add(line: string): void {
    this.out += line;
    this.copied++;
    if (++this.pendingRows >= FLUSH_ROWS) this.flush();
  }

  private flush(): void {
    const s = this.out;
    if (s.length === 0) return;
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    const need = this.pos + s.length * 3;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.pos);
      this.buffers.put(this.buf.buffer as ArrayBuffer);
      this.buf = grown;
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.out = '';
    this.pendingRows = 0;
  }

  /** COPY text bytes of the rows added so far (written or pending; pending counted as UTF-16 units). */
  bytes(): number {
    return this.pos + this.out.length;
  }

  /** Gives the (unused) buffer back to the pool. */
  release(): void {
    this.buffers.put(this.buf.buffer as ArrayBuffer);
  }

  /** The UTF-8 payload, in a buffer of its own (transferable). */
  payload(): Uint8Array {
    this.flush();
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos);
  }
}

/** A batch written as binary COPY (same counters as BatchState). */
class BinaryBatchState {
  readonly out: BinaryRows;
  copied = 0;
  rejectedRows = 0;
  rejects: RejectRecord[] = [];

  constructor(buffers: PayloadPool, sizeHint: number) {
    this.out = new BinaryRows(buffers, sizeHint);
  }

  bytes(): number {
    return this.out.bytesSoFar();
  }

  release(): void {
    this.out.release();
  }

  payload(): Uint8Array {
    return this.out.finish();
  }
}

function keyOf(table: TablePlan, row: SqliteValue[], keyWidth: number): string {
  const t: KeyTuple = new Array(keyWidth);
  for (let i = 0; i < keyWidth; i++) t[i] = toKeyValue(row[i]!);
  return formatKey(table.key, t);
}

function toKeyValue(v: SqliteValue) {
  if (v === null) return { t: 'n' as const };
  if (typeof v === 'bigint') return { t: 'i' as const, v: v.toString() };
  if (typeof v === 'number') return { t: 'r' as const, v };
  if (typeof v === 'string') return { t: 's' as const, v };
  return { t: 'b' as const, v: v.toString('hex') };
}

/**
 * better-sqlite3 decodes text as UTF-8 and replaces invalid bytes with U+FFFD.
 * Only for the rare value holding U+FFFD do we re-read the raw bytes to tell
 * a genuine U+FFFD from bytes that were never UTF-8.
 */
class RawTextReader {
  private readonly stmts = new Map<string, ReturnType<SqliteDb['prepare']>>();
  constructor(
    private readonly db: SqliteDb,
    private readonly table: TablePlan,
  ) {}

  isValidUtf8(row: SqliteValue[], keyWidth: number, column: string): boolean {
    let stmt = this.stmts.get(column);
    if (!stmt) {
      const where = this.table.key.columns.map((k) => `${quoteSqliteIdent(k)} = ?`).join(' AND ');
      stmt = this.db
        .prepare(`SELECT CAST(${quoteSqliteIdent(column)} AS BLOB) FROM ${quoteSqliteIdent(this.table.source)} WHERE ${where}`)
        .pluck(true);
      this.stmts.set(column, stmt);
    }
    const raw = (stmt.get as (...args: unknown[]) => unknown).apply(stmt, row.slice(0, keyWidth).map((k) => decodeKeyValue(toKeyValue(k)))) as Buffer | null;
    if (!raw) return true;
    try {
      fatalUtf8.decode(raw);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Rows of this batch that break a foreign key whose orphans policy is
 * "reject": found in SQLite with the plan's predicates, by key range.
 */
class OrphanFinder {
  private readonly stmts = new Map<boolean, ReturnType<SqliteDb['prepare']>>();
  constructor(
    private readonly db: SqliteDb,
    private readonly table: TablePlan,
  ) {}

  find(after: KeyTuple | null, last: KeyTuple): Map<string, string> {
    const preds = this.table.rejectWhere ?? [];
    const out = new Map<string, string>();
    if (preds.length === 0) return out;
    const hasLo = after !== null;
    let stmt = this.stmts.get(hasLo);
    if (!stmt) {
      const k = this.table.key.columns.map(quoteSqliteIdent);
      const tuple = k.length === 1 ? k[0]! : `(${k.join(', ')})`;
      const p = k.length === 1 ? '?' : `(${k.map(() => '?').join(', ')})`;
      stmt = this.db
        .prepare(
          `SELECT ${k.join(', ')}, ${preds.map((x, i) => `(${x.sqliteWhere}) AS f${i}`).join(', ')} FROM ${quoteSqliteIdent(this.table.source)} ` +
            `WHERE ${hasLo ? `${tuple} > ${p} AND ` : ''}${tuple} <= ${p} AND (${preds.map((x) => `(${x.sqliteWhere})`).join(' OR ')})`,
        )
        .raw(true);
      this.stmts.set(hasLo, stmt);
    }
    const args = [...(after ?? []).map(decodeKeyValue), ...last.map(decodeKeyValue)];
    const width = this.table.key.columns.length;
    const rows = (stmt.all as (...a: unknown[]) => unknown[]).apply(stmt, args) as SqliteValue[][];
    for (const r of rows) {
      const reasons = preds.filter((_, i) => Number(r[width + i]) === 1).map((x) => x.reason);
      out.set(formatKey(this.table.key, r.slice(0, width).map(toKeyValue)), reasons.join('; '));
    }
    return out;
  }
}

/** --on-invalid-utf8 replace: better-sqlite3 already put U+FFFD for the bad bytes; keep that. */
function replacesInvalidUtf8(c: { converter: { kind: string; onInvalidUtf8?: string } }): boolean {
  return c.converter.kind === 'text' && c.converter.onInvalidUtf8 === 'replace';
}
