// Splits a table into key ranges of about `chunkSize` rows.
//
// Chunks are key RANGES and the last one is open-ended, so any ordered boundaries are correct;
// only the balance between chunks depends on them. Dense rowids (the common case: few deletes)
// get arithmetic boundaries from min/max rowid, which costs two index probes; anything else is
// split exactly by stepping through the key order inside SQLite (LIMIT 1 OFFSET chunkSize-1).
import type { ChunkPlan, KeyPlan, KeyTuple } from '../types';
import { quoteSqliteIdent, type SqliteDb } from './open';
import { decodeKeyValue, encodeKeyValue } from './reader';
import type { SqliteValue } from './types';

/** Pure: how many chunks a table of `rows` rows gets. */
export function chunkCount(rows: number, chunkSize: number): number {
  if (rows <= 0) return 1;
  return Math.max(1, Math.ceil(rows / Math.max(1, chunkSize)));
}

/** Chunks of a large table are evened out and made a multiple of the lanes only down to this many rows each. */
export const MIN_LANE_CHUNK_ROWS = 500_000;

/**
 * Pure: rows per chunk for a table of `rows` rows copied with `lanes` chunks at once (the run's
 * parallelism): at most `chunkSize`. A table whose chunks hold at least MIN_LANE_CHUNK_ROWS gets
 * chunks of equal size, as many as a multiple of `lanes` when that keeps them that large — a table
 * copied alone (the only large one, or the last) then keeps every lane busy to its end instead of
 * finishing on one (1.2M rows at 1M a chunk: 2 × 600,000, not 1,000,000 + 200,000; 3M on 2 lanes:
 * 4 × 750,000). Smaller tables and small chunk sizes are split as asked: each chunk is an activity
 * with its own start, read-ahead and end (≈ 55 ms of wall here, measured with 62,500-row chunks),
 * and splitting a 500,000-row table in two for lanes it never had alone cost 0.25 s in the bench.
 */
export function chunkRowsFor(rows: number, chunkSize: number, lanes = 1): number {
  const size = Math.max(1, chunkSize);
  let n = chunkCount(rows, size);
  if (n === 1 || rows / n < MIN_LANE_CHUNK_ROWS) return size;
  const l = Math.max(1, lanes);
  const up = Math.ceil(n / l) * l;
  if (rows / up >= MIN_LANE_CHUNK_ROWS) n = up;
  return Math.ceil(rows / n);
}

/** Pure: chunk ranges from the ordered list of boundary keys (each an inclusive upper bound). */
export function chunksFromBoundaries(table: string, boundaries: KeyTuple[], rows: number, chunkSize: number): ChunkPlan[] {
  const chunks: ChunkPlan[] = [];
  let lo: KeyTuple | null = null;
  for (const b of boundaries) {
    chunks.push({ table, chunkNo: chunks.length, lo, hi: b, estimatedRows: chunkSize });
    lo = b;
  }
  // The last chunk is open-ended, so a row past the last boundary is never missed.
  const rest = Math.max(0, rows - boundaries.length * chunkSize);
  chunks.push({ table, chunkNo: chunks.length, lo, hi: null, estimatedRows: rest });
  return chunks;
}

/** Rowids spanning at most this many times the row count count as dense. */
const DENSE_SPAN = 1.25;

/**
 * Pure: boundaries for `rows` rows whose integer keys lie in [min, max], spread evenly over the
 * span (exact when the keys are dense). Ascending and distinct, each < max.
 */
export function arithmeticBoundaries(min: bigint, max: bigint, rows: number, chunkSize: number): bigint[] {
  const n = chunkCount(rows, chunkSize);
  const span = max - min + 1n;
  const out: bigint[] = [];
  for (let k = 1; k < n; k++) {
    const b = min + (span * BigInt(k)) / BigInt(n) - 1n;
    if (b >= max) break;
    if (out.length === 0 || b > out[out.length - 1]!) out.push(b);
  }
  return out;
}

/** Key ranges of at most `chunkSize` rows (fewer rows, to fill `lanes`: chunkRowsFor). */
export function planChunks(db: SqliteDb, table: string, key: KeyPlan, rows: number, maxChunkSize: number, lanes = 1): ChunkPlan[] {
  const chunkSize = chunkRowsFor(rows, maxChunkSize, lanes);
  if (rows <= chunkSize) return chunksFromBoundaries(table, [], rows, chunkSize);
  const cols = key.columns.map(quoteSqliteIdent);
  const t = quoteSqliteIdent(table);
  if (key.kind === 'rowid' && cols.length === 1) {
    // Two subqueries, each answered from one end of the B-tree: `SELECT min(k), max(k)` would scan the table.
    const r = db.prepare(`SELECT (SELECT min(${cols[0]}) FROM ${t}), (SELECT max(${cols[0]}) FROM ${t})`).raw(true).safeIntegers(true).get() as SqliteValue[] | undefined;
    const [min, max] = r ?? [null, null];
    if (typeof min === 'bigint' && typeof max === 'bigint' && max - min + 1n <= BigInt(Math.ceil(rows * DENSE_SPAN))) {
      const bs = arithmeticBoundaries(min, max, rows, chunkSize);
      return chunksFromBoundaries(table, bs.map((b) => [encodeKeyValue(b)]), rows, chunkSize);
    }
  }
  // Exact: from each boundary, step chunkSize rows along the key order (inside SQLite).
  const tuple = cols.length === 1 ? cols[0]! : `(${cols.join(', ')})`;
  const params = cols.length === 1 ? '?' : `(${cols.map(() => '?').join(', ')})`;
  const first = db.prepare(`SELECT ${cols.join(', ')} FROM ${t} ORDER BY ${cols.join(', ')} LIMIT 1 OFFSET ?`).raw(true).safeIntegers(true);
  const after = db
    .prepare(`SELECT ${cols.join(', ')} FROM ${t} WHERE ${tuple} > ${params} ORDER BY ${cols.join(', ')} LIMIT 1 OFFSET ?`)
    .raw(true)
    .safeIntegers(true);
  const boundaries: KeyTuple[] = [];
  const step = BigInt(chunkSize - 1);
  let prev: SqliteValue[] | undefined = first.get(step) as SqliteValue[] | undefined;
  while (prev !== undefined) {
    boundaries.push(prev.map(encodeKeyValue));
    const args = [...boundaries[boundaries.length - 1]!.map(decodeKeyValue), step];
    prev = (after.get as (...a: unknown[]) => unknown).apply(after, args) as SqliteValue[] | undefined;
  }
  // A boundary on the very last row would leave an empty trailing chunk: harmless, but drop it.
  if (boundaries.length * chunkSize >= rows) boundaries.pop();
  return chunksFromBoundaries(table, boundaries, rows, chunkSize);
}
