// The source side of content validation, recorded by the copy (see "Segmented hashes" in fast.ts).
//
// The copy already reads every row of the snapshot; hashing the rows it writes as it encodes them
// spares the checksum stage a third full read of the source (the value profile and the copy are
// the other two). Each batch's record (row count + SHA-256 of its tuples, in the fast pass's wire
// form) is committed in the batch's own transaction, with its checkpoint: a resumed or concurrent
// attempt extends exactly the records of what is committed, as it does the rows.
//
// What the records are worth is decided at checksum time, never assumed: they are used only when
// the chunk is done, every batch left one, and the column spec they were computed with is the one
// the checksum derives from the target's catalog. Anything else (a batch PostgreSQL refused row
// by row, a value with no wire form, a run started before this existed) leaves the chunk without
// records and the checksum reads the source as before.
import crypto from 'node:crypto';
import type { KeyPlan, TablePlan } from '../types';
import type { SqliteValue } from '../sqlite/types';
import { canonTypeOf } from './canonical';
import { segmentRecord, TupleHasher, valueWriter, type FastColumn } from './fast';
import { sortedKeysJson } from '../sorted-keys-json';
import type { Encoder } from '../plan/convert';

/**
 * A table with no key column in the target (a rowid table without INTEGER PRIMARY KEY) is compared
 * as a whole, rows matched by content: its batches record multiset sums (fast.ts).
 */
export function comparedAsMultiset(key: KeyPlan): boolean {
  return key.kind === 'rowid' && !key.display;
}

/** The columns the copy hashes: the plan's, compared as the plan's target types. */
export function digestColumns(table: TablePlan): FastColumn[] {
  return table.columns.map((c) => ({ source: c.source, target: c.target, canon: canonTypeOf(c.pgType), converter: c.converter }));
}

/**
 * Names what the records were computed from: key, columns in order, their comparison types and
 * converters, ordered or multiset. The checksum uses records only when its own spec has the same id.
 */
export function digestSpecId(key: KeyPlan, columns: readonly FastColumn[], multiset = comparedAsMultiset(key)): string {
  // Key order ignored: one attempt may hold the plan as built, another as read back from jsonb.
  const spec = sortedKeysJson([key.kind, key.columns, multiset, columns.map((c) => [c.source, c.canon, c.converter])]);
  return crypto.createHash('sha256').update(spec).digest('hex').slice(0, 32);
}

/** Hashes the accepted rows of one batch at a time; one per chunk encoder. */
export class BatchDigester {
  private readonly out: TupleHasher;
  private readonly writers;
  private readonly n: number;
  /** A value of this batch had no wire form: the batch (and so its chunk) gets no record. */
  private inconclusive = false;

  /**
   * `encoders`: the copy's own encoders of the columns (the same converters), when they remember
   * their last value (encode-batch.ts): each value is then converted once, for the copy, not
   * again for its digest.
   */
  constructor(columns: readonly FastColumn[], multiset = false, encoders?: readonly Encoder[]) {
    this.out = new TupleHasher(multiset, 64 * 1024);
    this.writers = columns.map((c, i) => valueWriter(c, encoders?.[i]));
    this.n = columns.length;
  }

  /** One accepted row; its compared values start at `offset` (after the key columns the reader put first). */
  row(row: SqliteValue[], offset: number): void {
    const { out, writers, n } = this;
    out.beginRow(n);
    for (let i = 0; i < n; i++) {
      if (!writers[i]!(row[offset + i]!, out)) {
        this.inconclusive = true;
        out.nul();
      }
    }
  }

  /**
   * One accepted row whose binary COPY bytes start at `start` in `buf`: the fields of the columns
   * marked in `copyFields` (whose COPY field is their wire form: encode-batch.ts copyFieldIsWire)
   * are taken as written, the others converted as row() does.
   */
  rowFields(row: SqliteValue[], offset: number, buf: Buffer, start: number, copyFields: readonly boolean[]): void {
    const { out, writers, n } = this;
    out.beginRow(n);
    let p = start + 2;
    for (let i = 0; i < n; i++) {
      const len = buf.readInt32BE(p);
      const s = p + 4;
      p = len < 0 ? s : s + len;
      if (copyFields[i]) {
        if (len < 0) out.nul();
        else out.bytes(buf, s, p);
      } else if (!writers[i]!(row[offset + i]!, out)) {
        this.inconclusive = true;
        out.nul();
      }
    }
  }

  /**
   * One accepted row whose tuple is already in wire form: a binary COPY row of int8 and float8
   * fields is byte for byte the tuple row() writes for it (copy/raw-rows.ts checks that it is).
   */
  rowBytes(b: Buffer, start: number, end: number): void {
    this.out.tuple(b, start, end);
  }

  /** The batch's record (36 bytes: rows, then SHA-256 or multiset sum), or null when it has none; starts the next batch. */
  finish(): Uint8Array | null {
    const rows = this.out.rows;
    const sha = this.out.cut();
    const ok = !this.inconclusive;
    this.inconclusive = false;
    return ok ? new Uint8Array(segmentRecord(rows, sha)) : null;
  }

  /** Drops what was hashed (the batch was not used). */
  reset(): void {
    this.out.cut();
    this.inconclusive = false;
  }
}
