// cutover.checksums: one row per compared chunk (chunk_no -1: a whole key-less table).
// Own idempotent DDL, next to (not inside) src/postgres/state.ts.
import type pg from 'pg';
import { checksumProblems, type RangeChecksum } from './compare';

const CHECKSUM_DDL_LOCK = 4_242_005;

const CHECKSUM_DDL = `
CREATE SCHEMA IF NOT EXISTS cutover;
CREATE TABLE IF NOT EXISTS cutover.checksums (
  run_id text NOT NULL,
  table_name text NOT NULL,
  chunk_no integer NOT NULL,
  mode text NOT NULL,
  ok boolean NOT NULL,
  source_rows bigint NOT NULL,
  target_rows bigint NOT NULL,
  rejected_skipped bigint NOT NULL DEFAULT 0,
  source_hash text NOT NULL,
  target_hash text NOT NULL,
  difference jsonb,
  seconds double precision NOT NULL DEFAULT 0,
  checked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, table_name, chunk_no)
);
`;

export async function ensureChecksumTable(client: pg.ClientBase): Promise<void> {
  const exists = await client.query(`SELECT to_regclass('cutover.checksums') IS NOT NULL AS e`);
  if (exists.rows[0]?.e) return;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [CHECKSUM_DDL_LOCK]);
    await client.query(CHECKSUM_DDL);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Stores (or replaces, on a retried activity) one comparison's result. */
export async function saveChecksum(client: pg.ClientBase, runId: string, r: RangeChecksum): Promise<void> {
  await client.query(
    `INSERT INTO cutover.checksums (run_id, table_name, chunk_no, mode, ok, source_rows, target_rows, rejected_skipped, source_hash, target_hash, difference, seconds)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (run_id, table_name, chunk_no) DO UPDATE SET mode = EXCLUDED.mode, ok = EXCLUDED.ok, source_rows = EXCLUDED.source_rows,
       target_rows = EXCLUDED.target_rows, rejected_skipped = EXCLUDED.rejected_skipped, source_hash = EXCLUDED.source_hash,
       target_hash = EXCLUDED.target_hash, difference = EXCLUDED.difference, seconds = EXCLUDED.seconds, checked_at = now()`,
    [
      runId,
      r.table,
      r.chunkNo,
      r.mode,
      r.ok,
      r.rows,
      r.targetRows,
      r.rejectedSkipped,
      r.sourceHash,
      r.targetHash,
      r.firstDifference ? JSON.stringify({ differences: r.differences, first: r.firstDifference, more: r.moreDifferences ?? [] }) : null,
      r.seconds,
    ],
  );
}

export interface StoredChecksum {
  table: string;
  chunkNo: number;
  ok: boolean;
  problems: string[];
}

/** The stored results of a run (for the validate phase's report): problems per table. */
export async function checksumProblemsByTable(client: pg.ClientBase, runId: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const exists = await client.query(`SELECT to_regclass('cutover.checksums') IS NOT NULL AS e`);
  if (!exists.rows[0]?.e) return out;
  const r = await client.query<{
    table_name: string;
    chunk_no: number;
    mode: 'chunk' | 'table';
    ok: boolean;
    source_rows: string;
    target_rows: string;
    rejected_skipped: string;
    source_hash: string;
    target_hash: string;
    difference: { differences: RangeChecksum['differences']; first: RangeChecksum['firstDifference']; more: RangeChecksum['moreDifferences'] } | null;
  }>(`SELECT * FROM cutover.checksums WHERE run_id = $1 ORDER BY table_name, chunk_no`, [runId]);
  for (const row of r.rows) {
    let list = out.get(row.table_name);
    if (!list) out.set(row.table_name, (list = []));
    if (row.ok) continue;
    list.push(
      ...checksumProblems({
        table: row.table_name,
        chunkNo: row.chunk_no,
        mode: row.mode,
        range: row.mode === 'table' ? 'whole table' : `chunk ${row.chunk_no}`,
        rows: Number(row.source_rows),
        targetRows: Number(row.target_rows),
        rejectedSkipped: Number(row.rejected_skipped),
        sourceHash: row.source_hash,
        targetHash: row.target_hash,
        ok: row.ok,
        differences: row.difference?.differences ?? { changed: 0, missing: 0, extra: 0 },
        ...(row.difference?.first ? { firstDifference: row.difference.first } : {}),
        seconds: 0,
      }),
    );
  }
  return out;
}

/** Removes a run's checksum rows (rollback without audit). No-op when the table does not exist. */
export async function deleteRunChecksums(client: pg.ClientBase, runId: string): Promise<void> {
  const exists = await client.query(`SELECT to_regclass('cutover.checksums') IS NOT NULL AS e`);
  if (exists.rows[0]?.e) await client.query(`DELETE FROM cutover.checksums WHERE run_id = $1`, [runId]);
}

/** Row keys (as formatKey writes them) the copy rejected in one chunk, or in the whole table (chunkNo undefined). */
export async function rejectedKeys(client: pg.ClientBase, runId: string, table: string, chunkNo?: number): Promise<Set<string>> {
  const r = await client.query<{ row_key: string }>(
    `SELECT DISTINCT row_key FROM cutover.rejects WHERE run_id = $1 AND table_name = $2${chunkNo === undefined ? '' : ' AND chunk_no = $3'}`,
    chunkNo === undefined ? [runId, table] : [runId, table, chunkNo],
  );
  return new Set(r.rows.map((x) => x.row_key));
}
