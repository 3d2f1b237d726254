// Splits a table into key ranges of about `chunkSize` rows, in one pass inside SQLite.
import type { ChunkPlan, KeyPlan, KeyTuple } from '../types';
import { quoteSqliteIdent, type SqliteDb } from './open';
import { encodeKeyValue } from './reader';
import type { SqliteValue } from './types';

/** Pure: how many chunks a table of `rows` rows gets. */
export function chunkCount(rows: number, chunkSize: number): number {
  if (rows <= 0) return 1;
  return Math.max(1, Math.ceil(rows / Math.max(1, chunkSize)));
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

export function planChunks(db: SqliteDb, table: string, key: KeyPlan, rows: number, chunkSize: number): ChunkPlan[] {
  if (rows <= chunkSize) return chunksFromBoundaries(table, [], rows, chunkSize);
  const cols = key.columns.map(quoteSqliteIdent).join(', ');
  const sql =
    `SELECT ${cols} FROM (SELECT ${cols}, row_number() OVER (ORDER BY ${cols}) AS cutover_rn ` +
    `FROM ${quoteSqliteIdent(table)}) WHERE cutover_rn % ? = 0 ORDER BY ${cols}`;
  const rowsOut = db.prepare(sql).raw(true).all(BigInt(chunkSize)) as SqliteValue[][];
  const boundaries = rowsOut.map((r) => r.map(encodeKeyValue));
  // A boundary on the very last row would leave an empty trailing chunk: harmless, but drop it.
  if (boundaries.length * chunkSize >= rows) boundaries.pop();
  return chunksFromBoundaries(table, boundaries, rows, chunkSize);
}
