// Rows of a table of plain integers and doubles, written into binary COPY straight from the
// record bytes on the page: no JavaScript value per field (a BigInt per integer, a row array per
// row), where the generic path decodes every value (record.ts) and writes it again
// (binary-fields.ts). On the bench's 2M-row candles table that decoding and writing were half of
// its copy thread's time.
//
// Exactness: only fields whose binary form is a pure function of the stored bytes are written here —
// an integer (serial types 1–6, 8, 9) into a bigint column of INTEGER/NUMERIC affinity, a double
// (serial type 7, not a NaN) or an integer (serial types 1–5, 8, 9: exact as a double, as SQLite
// reads it) into a double precision column of REAL affinity, NULL, and the rowid alias. A row with
// any other field (text, blob, a NaN, a 64-bit integer in a REAL column) is declined and the caller
// decodes it and writes it the generic way, with its converters' checks and rejects. The value facts
// of a speculative plan (profile.ts Acc) are gathered as add() would gather them, and with checksum
// validation the row's COPY bytes are hashed as its digest tuple (int8 and float8 fields are written
// the same way in both: validate/fast.ts TupleHasher).
import type { ColumnPlan } from '../types';
import { Acc, addNumber } from '../sqlite/profile';
import type { RecordLayout } from '../sqlite/page-reader';
import { serialSize, smallRecordInt } from '../sqlite/record';
import type { BinaryRows } from './binary-rows';
import { canonTypeOf } from '../validate/canonical';
import { wireOf } from '../validate/fast';
import type { BatchDigester } from '../validate/chunk-digests';

const enum Kind {
  /** bigint column, INTEGER/NUMERIC affinity: integers as they are. */
  Int64 = 0,
  /** double precision column, REAL affinity: doubles, and integers read as doubles. */
  Float64 = 1,
  /** The rowid alias (stored as NULL in the record): the cell's rowid. */
  Rowid = 2,
}

/** Integer facts of one column gathered without BigInts; folded into an Acc per batch. */
class IntFacts {
  count = 0;
  min = Infinity;
  max = -Infinity;
  /** 64-bit values (serial type 6): compared as BigInts, rare. */
  wideMin: bigint | null = null;
  wideMax: bigint | null = null;

  add(v: number): void {
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  addWide(v: bigint): void {
    this.count++;
    if (this.wideMin === null || v < this.wideMin) this.wideMin = v;
    if (this.wideMax === null || v > this.wideMax) this.wideMax = v;
  }

  reset(): void {
    this.count = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.wideMin = null;
    this.wideMax = null;
  }

  /** What add() would have done for each integer seen (nonNull, integers, minI, maxI). */
  foldInto(a: Acc): void {
    if (this.count === 0) return;
    a.nonNull += this.count;
    a.integers += this.count;
    const lo = this.min !== Infinity ? BigInt(this.min) : null;
    const hi = this.max !== -Infinity ? BigInt(this.max) : null;
    for (const v of [lo, hi, this.wideMin, this.wideMax]) {
      if (v === null) continue;
      if (a.minI === null || v < a.minI) a.minI = v;
      if (a.maxI === null || v > a.maxI) a.maxI = v;
    }
  }
}

/**
 * Whether `columns` (with the page reader's `layout`) are all written by RawRows: bigint columns of
 * the 64-bit integer converter in a non-REAL column, double precision columns of the float
 * converter in a REAL column, or the rowid alias.
 */
export function rawKinds(columns: readonly Pick<ColumnPlan, 'pgType' | 'converter'>[], layout: RecordLayout, digests = false): Kind[] | null {
  const kinds: Kind[] = [];
  // With digests the row's COPY bytes are also its digest tuple: int8 and float8 wire forms only.
  if (digests && !columns.every((c) => ['int8', 'float8'].includes(wireOf(canonTypeOf(c.pgType))))) return null;
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    const t = c.pgType.trim().toLowerCase();
    const real = layout.realAffinity[i] === 1;
    if (c.converter.kind === 'integer' && c.converter.bits === 64 && (t === 'bigint' || t === 'int8')) {
      if (layout.fields[i]! < 0) kinds.push(Kind.Rowid);
      else if (!real) kinds.push(Kind.Int64);
      else return null;
    } else if (c.converter.kind === 'float' && (t === 'double precision' || t === 'float8') && real && layout.fields[i]! >= 0) {
      kinds.push(Kind.Float64);
    } else return null;
  }
  return kinds;
}

export class RawRows {
  private readonly kinds: Kind[];
  private readonly fields: Int32Array;
  private readonly types: Int32Array;
  private readonly offsets: Int32Array;
  private readonly ints: IntFacts[];
  /** Per column, the batch's facts (option profile): integers gathered in `ints`, doubles by addNumber (add's rule for a number). */
  private accs: Acc[] | null = null;
  /** Checksum validation: a row of int8 and float8 fields is its own digest tuple (rawKinds checks the wire forms). */
  private digester: BatchDigester | null = null;
  /** A view of the page being read (doubles through DataView: Buffer.readDoubleBE copies byte by byte). */
  private view: DataView | null = null;
  private viewOf: Buffer | null = null;

  constructor(kinds: Kind[], layout: RecordLayout) {
    this.kinds = kinds;
    this.fields = layout.fields;
    let maxField = 0;
    for (const f of layout.fields) maxField = Math.max(maxField, f + 1);
    this.types = new Int32Array(maxField);
    this.offsets = new Int32Array(maxField);
    this.ints = kinds.map(() => new IntFacts());
  }

  /** Gather the batch's value facts into `accs` (one per column), or none; hash the rows with `digester`, or not. */
  startBatch(accs: Acc[] | null, digester: BatchDigester | null): void {
    this.accs = accs;
    this.digester = digester;
    for (const f of this.ints) f.reset();
  }

  /** Adds the integer facts gathered since startBatch to the batch's Accs. */
  finishBatch(): void {
    if (!this.accs) return;
    for (let i = 0; i < this.ints.length; i++) this.ints[i]!.foldInto(this.accs[i]!);
  }

  /**
   * Writes the row whose record is page[start, end) with this rowid; false (nothing written, no
   * facts gathered) when some field is not one this writer takes: the caller writes it generically.
   */
  row(page: Buffer, start: number, end: number, rowid: number | bigint, out: BinaryRows): boolean {
    const { kinds, fields, types, offsets } = this;
    const n = kinds.length;
    // The record header: serial types and body offsets (record.ts decodeRecord, same rules).
    let q = start;
    const headerSize = page[q]!;
    if (headerSize >= 0x80) return false; // a header over 127 bytes: a generic row
    q++;
    const headerEnd = start + headerSize;
    if (headerSize < 1 || headerEnd > end) return false;
    let body = headerEnd;
    let nf = 0;
    while (q < headerEnd && nf < types.length) {
      const st = page[q]!;
      if (st >= 10) return false; // text, blob, reserved (and any varint serial type): not here
      types[nf] = st;
      offsets[nf] = body;
      body += serialSize(st);
      q++;
      nf++;
    }
    if (body > end) return false;
    if (page !== this.viewOf) {
      this.viewOf = page;
      this.view = new DataView(page.buffer, page.byteOffset, page.byteLength);
    }
    const view = this.view!;
    // Every field first, so a declined row leaves nothing behind.
    for (let i = 0; i < n; i++) {
      const f = fields[i]!;
      if (f < 0) {
        if (typeof rowid !== 'number') return false;
        continue;
      }
      if (f >= nf) return false; // a column added later: SQLite supplies its default
      const st = types[f]!;
      if (kinds[i] === Kind.Int64) {
        if (st === 7) return false;
      } else if (st === 6) return false;
      else if (st === 7) {
        const x = view.getFloat64(offsets[f]!);
        if (x !== x) return false; // a NaN: the generic path writes PostgreSQL's one NaN
      }
    }
    const at = out.beginRow(n);
    const accs = this.accs;
    for (let i = 0; i < n; i++) {
      const kind = kinds[i]!;
      if (kind === Kind.Rowid) {
        const v = rowid as number;
        out.int64Number(v);
        if (accs) this.ints[i]!.add(v);
        continue;
      }
      const st = types[fields[i]!]!;
      const d = offsets[fields[i]!]!;
      if (st === 0) {
        out.null();
        continue;
      }
      if (kind === Kind.Int64) {
        if (st === 6) {
          out.int64Bytes(page, d);
          if (accs) this.ints[i]!.addWide(page.readBigInt64BE(d));
        } else {
          const v = smallRecordInt(page, st, d);
          out.int64Number(v);
          if (accs) this.ints[i]!.add(v);
        }
      } else {
        const v = st === 7 ? view.getFloat64(d) : smallRecordInt(page, st, d);
        out.float64(v);
        if (accs) addNumber(accs[i]!, v);
      }
    }
    out.endRow();
    this.digester?.rowBytes(out.buf, at, out.pos);
    return true;
  }
}
