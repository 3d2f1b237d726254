// PostgreSQL's binary COPY format, written into one growing buffer per batch.
//
// A batch is one complete COPY stream: the 19-byte header, then per row an int16 field count and
// per field an int32 byte length (-1 = NULL) and the bytes, then the int16 -1 trailer. Integers are
// big-endian. Rows are written in place; a row that turns out to have a rejected value is cut
// off again (rollback), so nothing of it reaches PostgreSQL.

/** Where batch buffers come from and go back to (encode-batch.ts's PayloadPool). */
export interface BufferSource {
  take(min: number): Buffer;
  put(buf: ArrayBuffer): void;
}

/** "PGCOPY\n\377\r\n\0", flags (no OIDs), header extension length 0. */
const HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
/** Bytes of the file trailer (int16 -1). */
const TRAILER_BYTES = 2;

/** Bits of the NaN PostgreSQL's float8in stores for 'NaN' (C's NAN): one NaN, whatever JS holds. */
const CANONICAL_NAN_HI = 0x7ff80000;

/** Texts up to this many UTF-16 units are tried as ASCII byte by byte (BinaryRows.utf8). */
const ASCII_INLINE_MAX = 48;

export class BinaryRows {
  buf: Buffer;
  private view: DataView;
  pos: number;
  /** Rows written and kept. */
  rows = 0;

  constructor(
    private readonly buffers: BufferSource,
    sizeHint: number,
  ) {
    this.buf = buffers.take(Math.max(64 * 1024, sizeHint));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    HEADER.copy(this.buf, 0);
    this.pos = HEADER.length;
  }

  /** Room for `n` more bytes (plus the trailer). */
  ensure(n: number): void {
    const need = this.pos + n + TRAILER_BYTES;
    if (need <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buffers.put(this.buf.buffer as ArrayBuffer);
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
  }

  /** Starts a row of `fields` fields; returns the position to roll back to. */
  beginRow(fields: number): number {
    const start = this.pos;
    this.ensure(2 + fields * 12);
    this.view.setInt16(this.pos, fields);
    this.pos += 2;
    return start;
  }

  endRow(): void {
    this.rows++;
  }

  /** Forgets everything written since `start` (a rejected row). */
  rollback(start: number): void {
    this.pos = start;
  }

  null(): void {
    this.ensure(4);
    this.view.setInt32(this.pos, -1);
    this.pos += 4;
  }

  int16(v: number): void {
    this.ensure(6);
    this.view.setInt32(this.pos, 2);
    this.view.setInt16(this.pos + 4, v);
    this.pos += 6;
  }

  int32(v: number): void {
    this.ensure(8);
    this.view.setInt32(this.pos, 4);
    this.view.setInt32(this.pos + 4, v);
    this.pos += 8;
  }

  int64(v: bigint): void {
    this.ensure(12);
    this.view.setInt32(this.pos, 8);
    this.view.setBigInt64(this.pos + 4, v);
    this.pos += 12;
  }

  /** An int8 field of the integer `v` (a safe integer: exact as a double). */
  int64Number(v: number): void {
    this.ensure(12);
    const hi = Math.floor(v / 4294967296);
    this.view.setInt32(this.pos, 8);
    this.view.setInt32(this.pos + 4, hi);
    this.view.setUint32(this.pos + 8, v - hi * 4294967296);
    this.pos += 12;
  }

  /** An int8 field of the 8 big-endian bytes at b[at…] (SQLite's own 64-bit integer layout). */
  int64Bytes(b: Uint8Array, at: number): void {
    this.ensure(12);
    this.view.setInt32(this.pos, 8);
    this.buf.set(b.subarray(at, at + 8), this.pos + 4);
    this.pos += 12;
  }

  float64(v: number): void {
    this.ensure(12);
    this.view.setInt32(this.pos, 8);
    if (v !== v) {
      this.view.setUint32(this.pos + 4, CANONICAL_NAN_HI);
      this.view.setUint32(this.pos + 8, 0);
    } else this.view.setFloat64(this.pos + 4, v);
    this.pos += 12;
  }

  bool(v: boolean): void {
    this.ensure(5);
    this.view.setInt32(this.pos, 1);
    this.buf[this.pos + 4] = v ? 1 : 0;
    this.pos += 5;
  }

  /** A field of raw bytes. */
  bytes(b: Uint8Array): void {
    this.ensure(4 + b.length);
    this.view.setInt32(this.pos, b.length);
    this.buf.set(b, this.pos + 4);
    this.pos += 4 + b.length;
  }

  /** A field holding `s` as UTF-8, after an optional leading byte (jsonb's format version). */
  utf8(s: string, lead = -1): void {
    const extra = lead >= 0 ? 1 : 0;
    const len = s.length;
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    this.ensure(4 + extra + len * 3);
    if (extra) this.buf[this.pos + 4] = lead;
    const at = this.pos + 4 + extra;
    let n = 0;
    if (len <= ASCII_INLINE_MAX) {
      // Short ASCII texts (codes, symbols, names) are copied here: a call into Buffer.write costs
      // more than the bytes. Anything else is written again from the start by Buffer.write.
      const buf = this.buf;
      while (n < len) {
        const c = s.charCodeAt(n);
        if (c >= 0x80) break;
        buf[at + n] = c;
        n++;
      }
      if (n < len) n = buf.write(s, at, 'utf8');
    } else n = this.buf.write(s, at, 'utf8');
    this.view.setInt32(this.pos, n + extra);
    this.pos += 4 + extra + n;
  }

  /**
   * A field of `n` bytes that `write` puts at `at` from `s`, when it can (returns true); when it
   * returns false nothing is written and the caller writes the field another way.
   */
  tryFixed(n: number, s: string, write: (s: string, buf: Buffer, at: number) => boolean): boolean {
    this.ensure(4 + n);
    if (!write(s, this.buf, this.pos + 4)) return false;
    this.view.setInt32(this.pos, n);
    this.pos += 4 + n;
    return true;
  }

  /**
   * A field whose bytes `write` puts at `at` (at most `max` of them), returning how many it wrote:
   * for encodings computed straight into the buffer (numeric).
   */
  custom(max: number, write: (buf: Buffer, at: number) => number): void {
    this.ensure(4 + max);
    const n = write(this.buf, this.pos + 4);
    this.view.setInt32(this.pos, n);
    this.pos += 4 + n;
  }

  /** COPY stream bytes so far (the trailer not included). */
  bytesSoFar(): number {
    return this.pos;
  }

  /** Gives the (unused) buffer back. */
  release(): void {
    this.buffers.put(this.buf.buffer as ArrayBuffer);
  }

  /** The whole COPY stream, trailer included, in the buffer's own memory (transferable). */
  finish(): Uint8Array {
    this.view.setInt16(this.pos, -1);
    this.pos += TRAILER_BYTES;
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos);
  }
}
