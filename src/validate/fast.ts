// The fast pass of a chunk comparison: one SHA-256 per side over a byte stream, no per-row objects.
//
// Both sides are reduced to PostgreSQL's binary COPY tuple format (int16 field count, then per
// field int32 length or -1 for NULL, then the bytes), one tuple per row in key order:
//   target: COPY (SELECT <col>::int8 | ::float8 | ::bool | ::text … ORDER BY key) TO STDOUT (FORMAT
//           binary) — hashed as PostgreSQL sends it, except the fields of "canon" columns (numeric,
//           char(n), timestamps, json…), whose text is canonicalised (canonical.ts) first;
//   source: each value's canonical form (canonical.ts, exactly as the ordered comparison computes
//           it) written in that wire form: integers as int64, floats as the IEEE double whose
//           shortest text is the canonical form, booleans as one byte, everything else as UTF-8.
//
// Equal hashes (and row counts) imply what the ordered comparison in compare.ts would find: no
// changed, missing or extra row. Field by field, equal wire bytes imply equal canonical values:
//   int8/float8/bool: the same integer/double/boolean, whose canonical text is unique;
//   raw text (text, uuid, bytea, date, other): the same PostgreSQL output text t = c, and canonical
//     forms are fixed points (canonicalFromLiteral(canon, c) === c; unit-tested), so the target's
//     canonical value canonicalFromLiteral(canon, t) is c too;
//   canon columns: both sides hash the canonical value itself.
// A source value without a wire form (rejected by the encoder, an integer text beyond int64…)
// makes the pass inconclusive. Different hashes or an inconclusive pass never decide anything:
// the caller then runs the ordered comparison, which names the differences (or finds none: a
// representation the fast pass did not foresee).
import crypto from 'node:crypto';
import type { ConverterSpec, KeyPlan, KeyTuple } from '../types';
import { formatKey } from '../keys';
import type { SqliteDb } from '../sqlite/open';
import { compileKeysetQuery, decodeKeyValue, encodeKeyValue } from '../sqlite/reader';
import { quoteSqliteIdent } from '../sqlite/open';
import type { SqliteValue } from '../sqlite/types';
import { quoteIdent } from '../postgres/sql';
import { canonicalFromLiteral, fastNaiveTimestamp, REJECTED_PREFIX, sourceCanonicalizer, type CanonType } from './canonical';
import { MultisetHash } from './hash';
import type { Encoder } from '../plan/convert';

type OneShot = (alg: string, data: Uint8Array, enc: 'buffer') => Buffer;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

function digest(b: Buffer): Buffer {
  return oneShot ? oneShot('sha256', b, 'buffer') : crypto.createHash('sha256').update(b).digest();
}

export type Wire = 'int8' | 'float8' | 'bool' | 'text';

/** One compared column as the fast pass needs it (plain data: it crosses to a worker thread). */
export interface FastColumn {
  source: string;
  target: string;
  canon: CanonType;
  converter: ConverterSpec;
}

/** What a source-side pass needs (plain data). */
export interface FastSourceSpec {
  table: string;
  key: KeyPlan;
  columns: FastColumn[];
  lo: KeyTuple | null;
  hi: KeyTuple | null;
  /** Row keys (formatKey) the copy rejected: skipped. */
  rejected: string[];
  batchSize: number;
  /** Whole-table mode (no key in the target): a multiset hash, rows in any order. */
  multiset?: boolean;
}

export interface FastSide {
  rows: number;
  /** SHA-256 (hex) of the side's tuples. */
  hash: string;
  /** Source only: rows skipped as rejected by the copy. */
  skipped: number;
  /** Source only: values with no wire form (the pass is inconclusive when > 0). */
  unconvertible: number;
}

export function wireOf(canon: CanonType): Wire {
  switch (canon) {
    case 'int':
      return 'int8';
    case 'float8':
    case 'float4':
      return 'float8';
    case 'bool':
      return 'bool';
    default:
      return 'text';
  }
}

/** Target text that is canonicalised before hashing (PostgreSQL's output is not the canonical form). */
export function canonOnTarget(canon: CanonType): boolean {
  switch (canon) {
    case 'numeric':
    case 'bpchar':
    case 'json':
    case 'jsonb':
    case 'timestamp':
    case 'timestamptz':
      return true;
    default:
      return false;
  }
}

/** The SELECT list of the fast pass (same FROM/WHERE/ORDER BY as the ordered comparison's). */
export function fastTargetExpr(column: string, canon: CanonType): string {
  const q = quoteIdent(column);
  switch (wireOf(canon)) {
    case 'int8':
      return `${q}::int8`;
    case 'float8':
      return `${q}::float8`;
    case 'bool':
      return `${q}::bool`;
    case 'text':
      return `${q}::text`;
  }
}

// ---------------------------------------------------------------------------------------------
// Writing tuples into a reused buffer, hashed in large pieces

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const CANONICAL_INT = /^(?:0|-?[1-9][0-9]{0,18})$/;

/**
 * Tuples written into a reused buffer. Ordered (default): one SHA-256 over the whole sequence, fed
 * in large pieces. Multiset: a SHA-256 per tuple, summed (MultisetHash), for whole-table mode.
 */
export class TupleHasher {
  private buf: Buffer;
  private dv: DataView;
  private pos = 0;
  private h: crypto.Hash | null;
  private set: MultisetHash | null;
  /** Multiset mode: a tuple is being written into buf[0, pos). */
  private open = false;
  rows = 0;

  constructor(multiset = false, size = 256 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(size);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.h = multiset ? null : crypto.createHash('sha256');
    this.set = multiset ? new MultisetHash() : null;
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.h) this.flush();
    if (this.pos + n > this.buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.pos + n, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.pos);
      this.buf = grown;
      this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    }
  }

  private flush(): void {
    if (this.h && this.pos > 0) this.h.update(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  private endTuple(): void {
    if (!this.open) return;
    this.set!.addDigest(digest(this.buf.subarray(0, this.pos)));
    this.pos = 0;
    this.open = false;
  }

  /** Hashes bytes that are complete tuples as they are (the target's raw stream; ordered mode). */
  raw(b: Buffer, start: number, end: number): void {
    if (end <= start) return;
    if (this.set) throw new Error('raw(): ordered mode only');
    if (end - start > 4096) {
      this.flush();
      this.h!.update(b.subarray(start, end));
      return;
    }
    this.ensure(end - start);
    b.copy(this.buf, this.pos, start, end);
    this.pos += end - start;
  }

  /** One complete tuple already in wire form (field count, then length-prefixed fields), in either mode. */
  tuple(b: Buffer, start: number, end: number): void {
    if (this.set) return this.rawTuple(b, start, end);
    const n = end - start;
    this.ensure(n);
    b.copy(this.buf, this.pos, start, end);
    this.pos += n;
    this.rows++;
  }

  /** One complete tuple as received (multiset mode). */
  rawTuple(b: Buffer, start: number, end: number): void {
    this.endTuple();
    this.set!.addDigest(digest(b.subarray(start, end)));
    this.rows++;
  }

  beginRow(n: number): void {
    if (this.set) {
      this.endTuple();
      this.open = true;
    }
    this.ensure(2);
    this.dv.setInt16(this.pos, n);
    this.pos += 2;
    this.rows++;
  }

  nul(): void {
    this.ensure(4);
    this.dv.setInt32(this.pos, -1);
    this.pos += 4;
  }

  int8(v: bigint): void {
    this.ensure(12);
    const dv = this.dv;
    dv.setInt32(this.pos, 8);
    // setBigInt64 is native: ≈ 12 ns a value on Node 20, half the time of splitting a safe integer in two int32s.
    dv.setBigInt64(this.pos + 4, v);
    this.pos += 12;
  }

  float8(v: number): void {
    this.ensure(12);
    this.dv.setInt32(this.pos, 8);
    this.dv.setFloat64(this.pos + 4, v);
    this.pos += 12;
  }

  bool(v: boolean): void {
    this.ensure(5);
    this.dv.setInt32(this.pos, 1);
    this.buf[this.pos + 4] = v ? 1 : 0;
    this.pos += 5;
  }

  /** A string as UTF-8 (the caller made sure it is well-formed). */
  text(s: string): void {
    const n = s.length;
    this.ensure(4 + n * 3);
    const buf = this.buf;
    let p = this.pos + 4;
    // Short ASCII strings: a loop beats the native call.
    if (n <= 24) {
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p + i] = c;
      }
      if (i === n) {
        this.dv.setInt32(this.pos, n);
        this.pos = p + n;
        return;
      }
    }
    const len = buf.write(s, p, 'utf8');
    this.dv.setInt32(this.pos, len);
    this.pos = p + len;
  }

  /** A field's bytes as they are (length prefix written here). */
  bytes(b: Buffer, start: number, end: number): void {
    const n = end - start;
    this.ensure(4 + n);
    this.dv.setInt32(this.pos, n);
    const p = this.pos + 4;
    if (n <= 48) {
      // Short fields: a loop beats Buffer.copy's call overhead.
      const buf = this.buf;
      for (let i = 0; i < n; i++) buf[p + i] = b[start + i]!;
    } else b.copy(this.buf, p, start, end);
    this.pos = p + n;
  }

  /**
   * The hash of the tuples written since the last cut (or the start), and a new one for what
   * follows; the row count starts again too. Ordered: their SHA-256. Multiset: their sum (32 bytes,
   * MultisetHash.bytes).
   */
  cut(): Buffer {
    if (this.set) {
      this.endTuple();
      const sum = this.set.bytes();
      this.set = new MultisetHash();
      this.rows = 0;
      return sum;
    }
    this.flush();
    const d = this.h!.digest();
    this.h = crypto.createHash('sha256');
    this.rows = 0;
    return d;
  }

  hex(): string {
    if (this.set) {
      this.endTuple();
      return this.set.hex();
    }
    this.flush();
    return this.h!.copy().digest('hex');
  }
}

// ---------------------------------------------------------------------------------------------
// Source side

/** Writes one source value in its column's wire form; false when it has none (inconclusive). */
type ValueWriter = (v: SqliteValue, out: TupleHasher) => boolean;

/** No unpaired surrogate (whose UTF-8 would be U+FFFD's: not injective). */
export function isWellFormed(s: string): boolean {
  const f = (s as unknown as { isWellFormed?: () => boolean }).isWellFormed;
  if (f) return f.call(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return false;
    const d = s.charCodeAt(i + 1);
    if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
    i++;
  }
  return true;
}

function floatOfCanonical(c: string): number | null {
  switch (c) {
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
    case '-0':
      return -0;
  }
  const n = Number(c);
  // Only the shortest text of a double is its canonical form (and it names exactly that double).
  return c.length > 0 && String(n) === c ? n : null;
}

export function valueWriter(col: FastColumn, enc?: Encoder): ValueWriter {
  const canon = sourceCanonicalizer(col.converter, col.canon, enc);
  const conv = col.converter;
  const wire = wireOf(col.canon);
  /** The canonical value, or undefined when it has no wire form (rejected). */
  const canonical = (v: SqliteValue): string | null | undefined => {
    const c = canon(v);
    if (c !== null && c.charCodeAt(0) === 0 && c.startsWith(REJECTED_PREFIX)) return undefined;
    return c;
  };
  switch (wire) {
    case 'int8': {
      // The integer encoder's output for an in-range bigint is its decimal text: canonical.
      const bits = conv.kind === 'integer' ? conv.bits : 0;
      const lo = bits === 16 ? -32768n : bits === 32 ? -2147483648n : INT64_MIN;
      const hi = bits === 16 ? 32767n : bits === 32 ? 2147483647n : INT64_MAX;
      return (v, out) => {
        if (bits !== 0 && typeof v === 'bigint' && v >= lo && v <= hi) {
          out.int8(v);
          return true;
        }
        const c = canonical(v);
        if (c === undefined) return false;
        if (c === null) {
          out.nul();
          return true;
        }
        if (!CANONICAL_INT.test(c)) return false;
        const b = BigInt(c);
        if (b < INT64_MIN || b > INT64_MAX) return false;
        out.int8(b);
        return true;
      };
    }
    case 'float8': {
      // The float encoder's output for a number is its shortest text (or -0/NaN/±Infinity).
      const direct = conv.kind === 'float';
      return (v, out) => {
        if (direct && typeof v === 'number') {
          out.float8(v);
          return true;
        }
        const c = canonical(v);
        if (c === undefined) return false;
        if (c === null) {
          out.nul();
          return true;
        }
        const n = floatOfCanonical(c);
        if (n === null) return false;
        out.float8(n);
        return true;
      };
    }
    case 'bool':
      return (v, out) => {
        const c = canonical(v);
        if (c === undefined) return false;
        if (c === null) out.nul();
        else if (c === 't' || c === 'f') out.bool(c === 't');
        else return false;
        return true;
      };
    case 'text': {
      // A timestamp text of the common shape: its canonical form without the encoder's parse (the
      // binary COPY writer parsed it already; the text encoder here cost ≈ 0.9 µs a value).
      // fastNaiveTimestamp gives exactly what the encoder's output canonicalises to (unit-tested).
      const fastTimestamp = conv.kind === 'timestamp' && col.canon === 'timestamp';
      return (v, out) => {
        if (fastTimestamp && typeof v === 'string') {
          const f = fastNaiveTimestamp(v, '');
          if (f !== null) {
            out.text(f);
            return true;
          }
        }
        const c = canonical(v);
        if (c === undefined) return false;
        if (c === null) out.nul();
        else if (isWellFormed(c)) out.text(c);
        else return false;
        return true;
      };
    }
  }
}

/**
 * Keyset batches of a chunk selecting only the compared columns when the key is among them (a
 * rowid alias, a primary key of compared columns), else the key columns first (as KeysetReader).
 */
class SourceBatches {
  private readonly stmts = new Map<string, ReturnType<SqliteDb['prepare']>>();
  /** Where each key column is in a row. */
  readonly keyPos: number[];
  /** Where the compared columns start in a row. */
  readonly offset: number;

  constructor(
    private readonly db: SqliteDb,
    private readonly spec: FastSourceSpec,
  ) {
    const names = spec.key.kind === 'rowid' ? (spec.key.display ?? null) : spec.key.columns;
    const pos = names ? names.map((k) => spec.columns.findIndex((c) => c.source === k)) : null;
    if (pos && pos.every((i) => i >= 0)) {
      this.keyPos = pos;
      this.offset = 0;
    } else {
      this.keyPos = spec.key.columns.map((_, i) => i);
      this.offset = spec.key.columns.length;
    }
  }

  private stmt(hasLo: boolean, hasHi: boolean) {
    const id = `${hasLo}:${hasHi}`;
    let s = this.stmts.get(id);
    if (!s) {
      const q = compileKeysetQuery(this.spec.table, this.spec.key, this.spec.columns.map((c) => c.source), { hasLo, hasHi });
      let sql = q.sql;
      if (this.offset === 0) {
        // Same WHERE/ORDER BY/LIMIT; the select list without the leading key columns.
        const cols = this.spec.columns.map((c) => quoteSqliteIdent(c.source)).join(', ');
        // The FROM clause is found by the quoted table name: a column named "a FROM b" cannot fool it.
        const from = sql.indexOf(` FROM ${quoteSqliteIdent(this.spec.table)}`);
        if (from < 0) throw new Error('fast checksum: unexpected keyset query shape');
        sql = `SELECT ${cols || 'NULL'}${sql.slice(from)}`;
      }
      s = this.db.prepare(sql).raw(true);
      this.stmts.set(id, s);
    }
    return s;
  }

  read(after: KeyTuple | null, hi: KeyTuple | null, limit: number): SqliteValue[][] {
    const params: SqliteValue[] = [];
    if (after) for (const k of after) params.push(decodeKeyValue(k));
    if (hi) for (const k of hi) params.push(decodeKeyValue(k));
    params.push(BigInt(limit));
    const stmt = this.stmt(after !== null, hi !== null);
    return (stmt.all as (...args: unknown[]) => unknown[]).apply(stmt, params) as SqliteValue[][];
  }

  keyOf(row: SqliteValue[]): KeyTuple {
    return this.keyPos.map((i) => encodeKeyValue(row[i]!));
  }
}

/** Hashes the source side of a chunk (synchronous; runs in a worker thread or inline). */
export function hashSource(db: SqliteDb, spec: FastSourceSpec, onBatch?: (rows: number) => void): FastSide {
  const reader = new SourceBatches(db, spec);
  const writers = spec.columns.map((c) => valueWriter(c));
  const n = writers.length;
  const offset = reader.offset;
  const rejected = new Set(spec.rejected);
  const out = new TupleHasher(spec.multiset ?? false);
  let skipped = 0;
  let unconvertible = 0;
  // Pages of a few thousand rows: short-lived (a worker thread has a small young generation).
  const page = Math.max(1, Math.min(spec.batchSize, 2000));
  let cursor = spec.lo;
  for (;;) {
    const rows = reader.read(cursor, spec.hi, page);
    if (rows.length === 0) break;
    cursor = reader.keyOf(rows[rows.length - 1]!);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      if (rejected.size > 0 && rejected.has(formatKey(spec.key, reader.keyOf(row)))) {
        skipped++;
        continue;
      }
      out.beginRow(n);
      for (let i = 0; i < n; i++) {
        if (!writers[i]!(row[offset + i]!, out)) {
          unconvertible++;
          out.nul();
        }
      }
    }
    onBatch?.(out.rows);
  }
  return { rows: out.rows, hash: out.hex(), skipped, unconvertible };
}

// ---------------------------------------------------------------------------------------------
// Target side

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Exactly the values numericCanonical leaves as they are: [-]digits[.digits], no redundant zeros. */
export function isCanonicalNumeric(b: Buffer, s: number, e: number): boolean {
  let i = s;
  if (i < e && b[i] === 45) i++;
  if (i >= e) return false;
  const first = i;
  while (i < e && b[i]! >= 48 && b[i]! <= 57) i++;
  const intLen = i - first;
  if (intLen === 0 || (intLen > 1 && b[first] === 48)) return false;
  if (i === e) return !(b[first] === 48 && first > s); // '-0' is not canonical
  if (b[i] !== 46) return false;
  i++;
  const fs = i;
  while (i < e && b[i]! >= 48 && b[i]! <= 57) i++;
  if (i !== e || i === fs || b[e - 1] === 48) return false;
  // Below 10^-2000 decimalText writes an exponent.
  return e - s < 1000;
}

type FieldTransform = (b: Buffer, s: number, e: number, out: TupleHasher) => void;

function fieldTransform(canon: CanonType): FieldTransform | null {
  if (!canonOnTarget(canon)) return null;
  if (canon === 'bpchar') {
    return (b, s, e, out) => {
      while (e > s && b[e - 1] === 32) e--;
      out.bytes(b, s, e);
    };
  }
  if (canon === 'numeric') {
    return (b, s, e, out) => {
      if (isCanonicalNumeric(b, s, e)) out.bytes(b, s, e);
      else out.text(canonicalFromLiteral(canon, b.toString('utf8', s, e)));
    };
  }
  return (b, s, e, out) => {
    const c = canonicalFromLiteral(canon, b.toString('utf8', s, e));
    if (isWellFormed(c)) out.text(c);
    else out.text(c.replace(/[\ud800-\udfff]/g, '\u0000')); // never equals a source value (those are well-formed)
  };
}

/**
 * Hashes the target side from a binary COPY stream of `canons.length` columns. Rows whose columns
 * all go raw are hashed as received.
 */
export async function hashTargetCopy(
  stream: AsyncIterable<Buffer>,
  canons: CanonType[],
  onRows?: (rows: number) => void,
  multiset = false,
  segments?: readonly number[],
): Promise<FastSide> {
  const n = canons.length;
  const transforms = canons.map(fieldTransform);
  const allRaw = transforms.every((t) => t === null);
  const out = new TupleHasher(multiset);
  const cuts = segments ? new SegmentCuts(segments, out) : null;
  let rows = 0;
  // A row cut by the end of a chunk is completed in one reused buffer (`carry`: its first `held`
  // bytes), not by concatenating it with the whole next chunk: that allocated a new buffer the
  // size of a chunk per chunk, hundreds of MB over a large table, and the main thread's RSS crept.
  let carry = Buffer.allocUnsafeSlow(0);
  let held = 0;
  const keep = (from: Buffer, start: number) => {
    const bytes = from.length - start;
    if (from.buffer === carry.buffer) carry.copyWithin(0, start, from.length);
    else {
      if (carry.length < bytes) carry = Buffer.allocUnsafeSlow(Math.max(bytes, 2 * carry.length, 64 * 1024));
      from.copy(carry, 0, start);
    }
    held = bytes;
  };
  let headerDone = false;
  let ended = false;
  const fieldStart = new Int32Array(n);
  const fieldEnd = new Int32Array(n);
  for await (const chunk of stream) {
    if (ended) continue;
    let b: Buffer = chunk;
    if (held > 0) {
      if (carry.length < held + chunk.length) {
        const grown = Buffer.allocUnsafeSlow(Math.max(held + chunk.length, 2 * carry.length));
        carry.copy(grown, 0, 0, held);
        carry = grown;
      }
      chunk.copy(carry, held);
      b = carry.subarray(0, held + chunk.length);
      held = 0;
    }
    let p = 0;
    if (!headerDone) {
      if (b.length < 19) {
        keep(b, 0);
        continue;
      }
      if (!b.subarray(0, 11).equals(SIGNATURE)) throw new Error('binary COPY: bad signature');
      const ext = b.readInt32BE(15);
      if (b.length < 19 + ext) {
        keep(b, 0);
        continue;
      }
      p = 19 + ext;
      headerDone = true;
    }
    const len = b.length;
    let segStart = p;
    for (;;) {
      if (p + 2 > len) break;
      // Inline big-endian reads: Buffer.readInt16BE/readInt32BE check their bounds on every call.
      const count = ((b[p]! << 24) | (b[p + 1]! << 16)) >> 16;
      if (count === -1) {
        ended = true;
        break;
      }
      if (count !== n) throw new Error(`binary COPY: ${count} fields in a row, expected ${n}`);
      let q = p + 2;
      let complete = true;
      for (let i = 0; i < n; i++) {
        if (q + 4 > len) {
          complete = false;
          break;
        }
        const fl = (b[q]! << 24) | (b[q + 1]! << 16) | (b[q + 2]! << 8) | b[q + 3]!;
        q += 4;
        if (fl < 0) {
          fieldStart[i] = -1;
          continue;
        }
        if (q + fl > len) {
          complete = false;
          break;
        }
        fieldStart[i] = q;
        fieldEnd[i] = q + fl;
        q += fl;
      }
      if (!complete) break;
      rows++;
      if (allRaw) {
        if (multiset) out.rawTuple(b, p, q);
        else if (cuts?.due(rows)) {
          out.raw(b, segStart, q);
          segStart = q;
          cuts.cut(rows);
        }
      } else {
        out.beginRow(n);
        for (let i = 0; i < n; i++) {
          const s = fieldStart[i]!;
          if (s < 0) out.nul();
          else {
            const t = transforms[i];
            if (t) t(b, s, fieldEnd[i]!, out);
            else out.bytes(b, s, fieldEnd[i]!);
          }
        }
        if (cuts?.due(rows)) cuts.cut(rows);
      }
      p = q;
    }
    if (allRaw && !multiset) out.raw(b, segStart, p);
    segStart = p;
    if (!ended && p < len) keep(b, p);
    onRows?.(rows);
  }
  if (!ended) throw new Error('binary COPY output ended without its trailer');
  return { rows, hash: cuts ? cuts.finish(rows) : out.hex(), skipped: 0, unconvertible: 0 };
}

// ---------------------------------------------------------------------------------------------
// Segmented hashes: the source side recorded by the copy, one segment per committed batch
// (ordered: chunks compared by key; a key-less table's batches record multiset sums instead, which
// simply add up: see multisetOfSegments)
//
// The copy hashes each batch's rows (the same tuples as hashSource) as it encodes them and
// commits the batch's record — its row count (uint32) and SHA-256 — with the batch's checkpoint
// (chunk-digests.ts). A chunk's source hash is then the SHA-256 of its records in batch order,
// and the target side cuts its stream at the same row counts. Equal hashes mean equal records
// (36 bytes each, a fixed layout), so every segment's tuples are equal: the same conclusion as
// one hash over the whole stream, without reading the source again.

export const SEGMENT_RECORD_BYTES = 36;

/** A segment's record: its row count and the SHA-256 of its tuples. */
export function segmentRecord(rows: number, sha: Uint8Array): Buffer {
  const r = Buffer.allocUnsafe(SEGMENT_RECORD_BYTES);
  r.writeUInt32BE(rows, 0);
  r.set(sha, 4);
  return r;
}

/** The row counts of the segments in `records`, or null when the bytes are not whole records. */
export function segmentRows(records: Buffer): number[] | null {
  if (records.length % SEGMENT_RECORD_BYTES !== 0) return null;
  const rows: number[] = [];
  for (let p = 0; p < records.length; p += SEGMENT_RECORD_BYTES) rows.push(records.readUInt32BE(p));
  return rows;
}

/** The hash of a segmented side: SHA-256 (hex) of its records in order. */
export function combineSegments(records: Buffer): string {
  return digest(records).toString('hex');
}

/** The multiset hash of records holding sums (MultisetHash.bytes) instead of SHA-256s. */
export function multisetOfSegments(records: Buffer): { rows: number; hash: string } {
  const m = new MultisetHash();
  for (let p = 0; p + SEGMENT_RECORD_BYTES <= records.length; p += SEGMENT_RECORD_BYTES) m.addSum(records.subarray(p + 4, p + SEGMENT_RECORD_BYTES), records.readUInt32BE(p));
  return { rows: m.rows, hash: m.hex() };
}

/** Cuts the target's tuple stream after each segment's row count; what is left over is one more segment. */
class SegmentCuts {
  private readonly records: Buffer[] = [];
  private readonly ends: number[] = [];
  private next = 0;
  private cutAt = 0;

  constructor(
    private readonly segments: readonly number[],
    private readonly out: TupleHasher,
  ) {
    let sum = 0;
    for (const n of segments) this.ends.push((sum += n));
    // Segments of no rows (a batch whose rows were all rejected) come before any row.
    this.cut(0);
  }

  /** True when a segment ends after this row. */
  due(rows: number): boolean {
    return this.next < this.ends.length && this.ends[this.next] === rows;
  }

  /** Closes every segment that ends at `rows` (the tuples up to it must have been written). */
  cut(rows: number): void {
    while (this.next < this.ends.length && this.ends[this.next] === rows) {
      this.records.push(segmentRecord(this.segments[this.next]!, this.out.cut()));
      this.next++;
      this.cutAt = rows;
    }
  }

  /** The side's hash; rows beyond the last segment (or segments never reached) add a last record. */
  finish(rows: number): string {
    if (this.next < this.ends.length || rows > this.cutAt) this.records.push(segmentRecord(rows - this.cutAt, this.out.cut()));
    return combineSegments(Buffer.concat(this.records));
  }
}
