// The SQLite file format's table B-tree pages and records, decoded in JavaScript (pure: bytes in,
// values out; https://www.sqlite.org/fileformat2.html §1.6, §2.1). Why: better-sqlite3 spends
// ≈ 1 µs per row handing a row's values to JavaScript (a native call and a BigInt per integer);
// decoding the record from the page is several times cheaper, and the copy reads every row of a
// snapshot nobody writes. page-reader.ts walks the B-tree; anything it does not expect goes back
// to SQLite (PageFormatError, or one row read through SQLite).
import type { SqliteValue } from './types';

/** A page or record is not what this decoder expects: read through SQLite instead. */
export class PageFormatError extends Error {
  override name = 'PageFormatError';
}

export const PAGE_INTERIOR_TABLE = 0x05;
export const PAGE_LEAF_TABLE = 0x0d;

/** Decoded varint and the offset after it (one object reused by the decoder). */
export interface VarintOut {
  value: number | bigint;
  next: number;
}

/**
 * A SQLite varint at `at` (big-endian 7 bits per byte, a 9th byte of 8 bits; two's complement in
 * 64 bits). A number when it fits a double exactly, else a bigint.
 */
export function readVarint(b: Uint8Array, at: number, out: VarintOut): VarintOut {
  let c = b[at]!;
  if (c < 0x80) {
    out.value = c;
    out.next = at + 1;
    return out;
  }
  let v = c & 0x7f;
  // Seven bytes hold 49 bits: exact as a double.
  for (let k = 1; k < 7; k++) {
    c = b[at + k]!;
    v = v * 128 + (c & 0x7f);
    if (c < 0x80) {
      out.value = v;
      out.next = at + k + 1;
      return out;
    }
  }
  // The 8th byte (56 bits), then the 9th, whose 8 bits all count: past what a double holds exactly.
  c = b[at + 7]!;
  let big = (BigInt(v) << 7n) | BigInt(c & 0x7f);
  if (c < 0x80) {
    out.value = narrow(big);
    out.next = at + 8;
    return out;
  }
  big = BigInt.asIntN(64, (big << 8n) | BigInt(b[at + 8]!));
  out.value = narrow(big);
  out.next = at + 9;
  return out;
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Bytes a value of serial type `st` takes in the record body. */
export function serialSize(st: number): number {
  if (st >= 12) return (st - 12) >> 1;
  return SIZES[st]!;
}
const SIZES = [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, -1, -1];

/** How a leaf table cell's payload lies on its page (payload = the record). */
export interface LeafCell {
  rowid: number | bigint;
  /** Record bytes: [start, end) on the page, when the whole record is there. */
  start: number;
  end: number;
  /** The record continues on overflow pages (not decoded here). */
  overflows: boolean;
}

/**
 * The leaf table cell at `at`: payload length, rowid, and where the payload is. `usable` is the
 * page size less the reserved bytes per page; a payload larger than usable − 35 spills to overflow pages.
 */
export function readLeafCell(page: Uint8Array, at: number, usable: number, v: VarintOut, out: LeafCell): LeafCell {
  readVarint(page, at, v);
  const length = v.value;
  readVarint(page, v.next, v);
  out.rowid = v.value;
  out.start = v.next;
  if (typeof length !== 'number' || length > usable - 35) {
    out.end = out.start;
    out.overflows = true;
    return out;
  }
  out.end = out.start + length;
  out.overflows = false;
  if (out.end > page.length) throw new PageFormatError(`cell at ${at} runs past the end of its page`);
  return out;
}

/** Page header offset, page type and cell count of a B-tree page (`first`: page 1, after the 100-byte file header). */
export function pageHeader(page: Uint8Array, first: boolean): { at: number; type: number; cells: number } {
  const at = first ? 100 : 0;
  return { at, type: page[at]!, cells: (page[at + 3]! << 8) | page[at + 4]! };
}

/** Offset of cell `i` (from the cell pointer array after the header: 12 bytes on interior pages, 8 on leaves). */
export function cellOffset(page: Uint8Array, headerAt: number, type: number, i: number): number {
  const p = headerAt + (type === PAGE_INTERIOR_TABLE ? 12 : 8) + 2 * i;
  const off = (page[p]! << 8) | page[p + 1]!;
  if (off < headerAt + 8 || off >= page.length) throw new PageFormatError(`cell pointer ${i} out of its page (${off})`);
  return off;
}

export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

/**
 * Decodes record fields into `row` (from index `base`): `fields[i]` is the record field of output
 * column i (-1: the rowid alias, stored as NULL, filled by the caller), `realAffinity[i]` whether
 * SQLite turns an integer read from that column into a double (REAL affinity stores integral
 * values as integers on disk and converts them back when read). Returns false when the record
 * has fewer fields than asked for (a column added later: SQLite supplies its default; the caller
 * reads that row through SQLite). Values are what better-sqlite3 with safeIntegers returns:
 * bigint, number, string (UTF-8, invalid bytes as U+FFFD), Buffer (a copy), null.
 */
export function decodeRecord(
  page: Buffer,
  start: number,
  end: number,
  fields: Int32Array,
  realAffinity: Uint8Array,
  types: Int32Array,
  offsets: Int32Array,
  row: SqliteValue[],
  base: number,
  v: VarintOut,
): boolean {
  readVarint(page, start, v);
  const headerSize = v.value;
  if (typeof headerSize !== 'number' || headerSize < 1 || start + headerSize > end) throw new PageFormatError('record header out of its cell');
  const headerEnd = start + headerSize;
  let q = v.next;
  let body = headerEnd;
  let n = 0;
  // Serial types and body offsets of the fields, up to the last one asked for.
  while (q < headerEnd && n < types.length) {
    let st = page[q]!;
    if (st < 0x80) q++;
    else {
      readVarint(page, q, v);
      if (typeof v.value !== 'number') throw new PageFormatError('serial type out of range');
      st = v.value;
      q = v.next;
    }
    if (st === 10 || st === 11) throw new PageFormatError(`reserved serial type ${st}`);
    types[n] = st;
    offsets[n] = body;
    body += serialSize(st);
    n++;
  }
  if (body > end) throw new PageFormatError('record body runs past its cell');
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f < 0) continue;
    if (f >= n) return false;
    row[base + i] = decodeValue(page, types[f]!, offsets[f]!, realAffinity[i] === 1);
  }
  return true;
}

/** The integer of serial type 1–5, 8 or 9 at b[d…]: at most 48 bits, exact as a double. */
export function smallRecordInt(b: Uint8Array, st: number, d: number): number {
  switch (st) {
    case 1:
      return (b[d]! << 24) >> 24;
    case 2:
      return (((b[d]! << 8) | b[d + 1]!) << 16) >> 16;
    case 3:
      return (((b[d]! << 16) | (b[d + 1]! << 8) | b[d + 2]!) << 8) >> 8;
    case 4:
      return (b[d]! << 24) | (b[d + 1]! << 16) | (b[d + 2]! << 8) | b[d + 3]!;
    case 5:
      return ((((b[d]! << 8) | b[d + 1]!) << 16) >> 16) * 4294967296 + readU32(b, d + 2);
    case 8:
      return 0;
    default:
      return 1; // 9
  }
}

function decodeValue(b: Buffer, st: number, d: number, real: boolean): SqliteValue {
  switch (st) {
    case 0:
      return null;
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 8:
    case 9: {
      const x = smallRecordInt(b, st, d);
      return real ? x : BigInt(x);
    }
    case 6: {
      const x = b.readBigInt64BE(d);
      return real ? Number(x) : x;
    }
    case 7:
      return b.readDoubleBE(d);
    default: {
      const len = (st - 12) >> 1;
      if (st & 1) return b.toString('utf8', d, d + len);
      const blob = Buffer.allocUnsafe(len);
      b.copy(blob, 0, d, d + len);
      return blob;
    }
  }
}
