// Multiset hash of canonical rows: sum of per-row SHA-256 digests mod 2^256 (AdHash).
// Order-independent, so the source (SQLite key order) and the target (PostgreSQL order) need not
// agree on the order of rows, and a table with no key on the target can be compared as a whole.
// A changed, missing or extra row changes the sum; duplicates count (unlike XOR).
import crypto from 'node:crypto';

type OneShot = (alg: string, data: string, enc: 'buffer') => Buffer;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

/** SHA-256 of a row string (UTF-8). */
export function rowDigest(row: string): Buffer {
  if (oneShot) return oneShot('sha256', row, 'buffer');
  return crypto.createHash('sha256').update(row, 'utf8').digest();
}

export class MultisetHash {
  private readonly words = new Uint32Array(8);
  rows = 0;

  addDigest(d: Buffer): void {
    let carry = 0;
    // Little-endian 256-bit addition over 32-bit words.
    for (let w = 0; w < 8; w++) {
      const s = this.words[w]! + d.readUInt32LE(w * 4) + carry;
      this.words[w] = s >>> 0;
      carry = s > 0xffffffff ? 1 : 0;
    }
    this.rows++;
  }

  add(row: string): Buffer {
    const d = rowDigest(row);
    this.addDigest(d);
    return d;
  }

  /** The sum as 32 bytes (little-endian words), e.g. to record it and add it to another sum later. */
  bytes(): Buffer {
    const b = Buffer.allocUnsafe(32);
    for (let w = 0; w < 8; w++) b.writeUInt32LE(this.words[w]!, w * 4);
    return b;
  }

  /** Adds a sum of `rows` rows that bytes() gave (of another part of the same multiset). */
  addSum(sum: Uint8Array, rows: number): void {
    this.addDigest(Buffer.from(sum.buffer, sum.byteOffset, 32));
    this.rows += rows - 1;
  }

  /** 64 hex digits (big-endian). The row count is reported separately. */
  hex(): string {
    let out = '';
    for (let w = 7; w >= 0; w--) out += this.words[w]!.toString(16).padStart(8, '0');
    return out;
  }
}

/** Key-ordered hash of a row sequence (chunk mode: both sides are walked in key order). */
export class OrderedHash {
  private readonly h = crypto.createHash('sha256');
  rows = 0;

  add(row: string): void {
    this.h.update(`${row.length};${row}`, 'utf8');
    this.rows++;
  }

  hex(): string {
    return this.h.copy().digest('hex');
  }
}
