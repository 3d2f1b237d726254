// The state schema "cutover" in the target database: the truth about a run's
// progress lives next to the data, so it commits atomically with it.
// One SQL operation per function, each taking the client to run on.
import type pg from 'pg';
import type { KeyTuple, MigrationPlan, MigrationReport, TableReport } from '../types';
import type { ProfilePart } from '../sqlite/profile-parts';

export const STATE_SCHEMA = 'cutover';

// Serialises concurrent first-time creation of the state schema.
const STATE_DDL_LOCK = 4_242_001;

const STATE_DDL = `
CREATE SCHEMA IF NOT EXISTS cutover;
CREATE TABLE IF NOT EXISTS cutover.runs (
  run_id text PRIMARY KEY,
  temporal_run_id text NOT NULL,
  source text NOT NULL,
  target_schema text NOT NULL,
  status text NOT NULL,
  phase text NOT NULL,
  plan jsonb,
  report jsonb,
  created_state_schema boolean NOT NULL DEFAULT false,
  plan_rev integer NOT NULL DEFAULT 0,
  started_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS runs_one_active_per_target_schema
  ON cutover.runs (target_schema) WHERE status = 'running';
CREATE TABLE IF NOT EXISTS cutover.objects (
  run_id text NOT NULL,
  seq integer NOT NULL,
  kind text NOT NULL,
  name text NOT NULL,
  undo_sql text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS cutover.chunks (
  run_id text NOT NULL,
  table_name text NOT NULL,
  chunk_no integer NOT NULL,
  lo jsonb,
  hi jsonb,
  last_key jsonb,
  rows_copied bigint NOT NULL DEFAULT 0,
  rows_rejected bigint NOT NULL DEFAULT 0,
  batches integer NOT NULL DEFAULT 0,
  estimated_rows bigint NOT NULL DEFAULT 0,
  done boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  source_digests bytea,
  digest_spec text,
  source_profile jsonb,
  generation integer NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, table_name, chunk_no)
);
CREATE TABLE IF NOT EXISTS cutover.rejects (
  id bigserial PRIMARY KEY,
  run_id text NOT NULL,
  table_name text NOT NULL,
  chunk_no integer NOT NULL,
  row_key text NOT NULL,
  column_name text,
  reason text NOT NULL,
  value text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS rejects_run_table ON cutover.rejects (run_id, table_name);
CREATE TABLE IF NOT EXISTS cutover.table_results (
  run_id text NOT NULL,
  table_name text NOT NULL,
  source_rows bigint NOT NULL,
  target_rows bigint NOT NULL,
  rejected_rows bigint NOT NULL,
  ok boolean NOT NULL,
  problems jsonb NOT NULL DEFAULT '[]',
  PRIMARY KEY (run_id, table_name)
);
`;

/** Creates the state schema if missing. Returns true when this call created it. */
export async function ensureStateSchema(client: pg.ClientBase): Promise<boolean> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [STATE_DDL_LOCK]);
    const existed = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [STATE_SCHEMA]);
    await client.query(STATE_DDL);
    await addMissingColumns(client);
    await client.query('COMMIT');
    return existed.rowCount === 0;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Columns added after a state schema may have been created by an earlier version. Added only when
 * missing: ALTER TABLE would otherwise lock cutover.chunks, which other runs' copies write.
 */
const ADDED_COLUMNS: { table: string; column: string; type: string }[] = [
  { table: 'chunks', column: 'source_digests', type: 'bytea' },
  { table: 'chunks', column: 'digest_spec', type: 'text' },
  { table: 'chunks', column: 'source_profile', type: 'jsonb' },
  { table: 'chunks', column: 'generation', type: 'integer NOT NULL DEFAULT 0' },
  { table: 'runs', column: 'plan_rev', type: 'integer NOT NULL DEFAULT 0' },
];

async function addMissingColumns(client: pg.ClientBase): Promise<void> {
  const r = await client.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1`,
    [STATE_SCHEMA],
  );
  const have = new Set(r.rows.map((x) => `${x.table_name}.${x.column_name}`));
  for (const c of ADDED_COLUMNS) {
    if (!have.has(`${c.table}.${c.column}`)) await client.query(`ALTER TABLE ${STATE_SCHEMA}.${c.table} ADD COLUMN IF NOT EXISTS ${c.column} ${c.type}`);
  }
}

/**
 * Adds the columns a state schema made by an earlier version lacks, if the schema exists (never
 * creates it): a worker upgraded while a run is in flight works on the run's existing schema.
 */
export async function upgradeStateSchema(client: pg.ClientBase): Promise<void> {
  const r = await client.query<{ e: boolean }>(`SELECT to_regclass('cutover.chunks') IS NOT NULL AS e`);
  if (!r.rows[0]?.e) return;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [STATE_DDL_LOCK]);
    await addMissingColumns(client);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export async function stateSchemaExists(client: pg.ClientBase): Promise<boolean> {
  const r = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [STATE_SCHEMA]);
  return (r.rowCount ?? 0) > 0;
}

export interface RunRow {
  run_id: string;
  temporal_run_id: string;
  source: string;
  target_schema: string;
  status: string;
  phase: string;
  created_state_schema: boolean;
}

export async function getRun(client: pg.ClientBase, runId: string): Promise<RunRow | null> {
  const r = await client.query<RunRow>(
    `SELECT run_id, temporal_run_id, source, target_schema, status, phase, created_state_schema FROM cutover.runs WHERE run_id = $1`,
    [runId],
  );
  return r.rows[0] ?? null;
}

export async function findActiveRun(client: pg.ClientBase, targetSchema: string): Promise<RunRow | null> {
  const r = await client.query<RunRow>(
    `SELECT run_id, temporal_run_id, source, target_schema, status, phase, created_state_schema
       FROM cutover.runs WHERE target_schema = $1 AND status = 'running'`,
    [targetSchema],
  );
  return r.rows[0] ?? null;
}

export async function insertRun(
  client: pg.ClientBase,
  run: { runId: string; temporalRunId: string; source: string; targetSchema: string; createdStateSchema: boolean },
): Promise<void> {
  await client.query(
    `INSERT INTO cutover.runs (run_id, temporal_run_id, source, target_schema, status, phase, created_state_schema)
     VALUES ($1, $2, $3, $4, 'running', 'preflight', $5)`,
    [run.runId, run.temporalRunId, run.source, run.targetSchema, run.createdStateSchema],
  );
}

export async function setRunStatus(client: pg.ClientBase, runId: string, status: string, phase: string): Promise<void> {
  await client.query(`UPDATE cutover.runs SET status = $2, phase = $3, updated_at = now() WHERE run_id = $1`, [runId, status, phase]);
}

/** Stores the run's plan; returns its new revision (workers' cached plans of a speculative run follow it). */
export async function savePlan(client: pg.ClientBase, runId: string, plan: MigrationPlan): Promise<number> {
  const r = await client.query<{ plan_rev: number }>(`UPDATE cutover.runs SET plan = $2, plan_rev = plan_rev + 1, updated_at = now() WHERE run_id = $1 RETURNING plan_rev`, [
    runId,
    JSON.stringify(plan),
  ]);
  return r.rows[0]?.plan_rev ?? 0;
}

/**
 * Replaces the plan of a run whose plan was already saved (the speculative plan's tables, one at a
 * time: src/plan/speculation.ts), under lockPlan's row lock, and bumps its revision: workers that
 * cached the old plan see the new revision and load it again (activities/run-context.ts).
 */
export async function replacePlan(client: pg.ClientBase, runId: string, plan: MigrationPlan): Promise<number> {
  const r = await client.query<{ plan_rev: number }>(
    `UPDATE cutover.runs SET plan = $2, plan_rev = plan_rev + 1, updated_at = now() WHERE run_id = $1 RETURNING plan_rev`,
    [runId, JSON.stringify(plan)],
  );
  return r.rows[0]?.plan_rev ?? 0;
}

/** The run's plan and revision, row-locked for replacePlan in the same transaction. */
export async function lockPlan(client: pg.ClientBase, runId: string): Promise<{ plan: MigrationPlan | null; rev: number } | null> {
  const r = await client.query<{ plan: MigrationPlan | null; plan_rev: number }>(`SELECT plan, plan_rev FROM cutover.runs WHERE run_id = $1 FOR UPDATE`, [runId]);
  const row = r.rows[0];
  return row ? { plan: row.plan, rev: row.plan_rev } : null;
}

export async function planRevision(client: pg.ClientBase, runId: string): Promise<number | null> {
  const r = await client.query<{ plan_rev: number }>(`SELECT plan_rev FROM cutover.runs WHERE run_id = $1`, [runId]);
  return r.rows[0]?.plan_rev ?? null;
}

export async function loadPlanWithRevision(client: pg.ClientBase, runId: string): Promise<{ plan: MigrationPlan; rev: number } | null> {
  const r = await client.query<{ plan: MigrationPlan | null; plan_rev: number }>(`SELECT plan, plan_rev FROM cutover.runs WHERE run_id = $1`, [runId]);
  const row = r.rows[0];
  return row?.plan ? { plan: row.plan, rev: row.plan_rev } : null;
}

export async function loadPlan(client: pg.ClientBase, runId: string): Promise<MigrationPlan | null> {
  const r = await client.query<{ plan: MigrationPlan | null }>(`SELECT plan FROM cutover.runs WHERE run_id = $1`, [runId]);
  return r.rows[0]?.plan ?? null;
}

export async function saveReport(client: pg.ClientBase, runId: string, report: MigrationReport): Promise<void> {
  await client.query(`UPDATE cutover.runs SET report = $2, updated_at = now() WHERE run_id = $1`, [runId, JSON.stringify(report)]);
}

/** Records an object this run created, with the SQL that undoes it, for rollback. */
export async function recordObject(
  client: pg.ClientBase,
  runId: string,
  object: { kind: string; name: string; undoSql: string },
): Promise<void> {
  await client.query(
    `INSERT INTO cutover.objects (run_id, seq, kind, name, undo_sql)
     SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4 FROM cutover.objects WHERE run_id = $1`,
    [runId, object.kind, object.name, object.undoSql],
  );
}

export interface ObjectRow {
  seq: number;
  kind: string;
  name: string;
  undo_sql: string;
}

export async function listObjectsNewestFirst(client: pg.ClientBase, runId: string): Promise<ObjectRow[]> {
  const r = await client.query<ObjectRow>(
    `SELECT seq, kind, name, undo_sql FROM cutover.objects WHERE run_id = $1 ORDER BY seq DESC`,
    [runId],
  );
  return r.rows;
}

export async function deleteObject(client: pg.ClientBase, runId: string, seq: number): Promise<void> {
  await client.query(`DELETE FROM cutover.objects WHERE run_id = $1 AND seq = $2`, [runId, seq]);
}

export async function objectExists(client: pg.ClientBase, runId: string, kind: string, name: string): Promise<boolean> {
  const r = await client.query(`SELECT 1 FROM cutover.objects WHERE run_id = $1 AND kind = $2 AND name = $3`, [runId, kind, name]);
  return (r.rowCount ?? 0) > 0;
}

export interface ChunkRow {
  last_key: KeyTuple | null;
  rows_copied: string;
  rows_rejected: string;
  batches: number;
  done: boolean;
  /** lockChunk only: the value facts of the rows committed so far, when the table's plan is speculative. */
  source_profile?: ProfilePart | null;
  /** Bumped when the chunk starts over in a re-created table (resetTableCopy): an attempt begun before must not commit. */
  generation: number;
}

/** Creates the chunk's checkpoint row if it is not there yet (a retry keeps the existing one). */
export async function ensureChunk(
  client: pg.ClientBase,
  c: { runId: string; table: string; chunkNo: number; lo: KeyTuple | null; hi: KeyTuple | null },
): Promise<void> {
  await client.query(
    `INSERT INTO cutover.chunks (run_id, table_name, chunk_no, lo, hi, last_key)
     VALUES ($1, $2, $3, $4, $5, $4) ON CONFLICT DO NOTHING`,
    [c.runId, c.table, c.chunkNo, c.lo === null ? null : JSON.stringify(c.lo), c.hi === null ? null : JSON.stringify(c.hi)],
  );
}

export async function getChunk(client: pg.ClientBase, runId: string, table: string, chunkNo: number): Promise<ChunkRow | null> {
  const r = await client.query<ChunkRow>(
    `SELECT last_key, rows_copied, rows_rejected, batches, done, generation FROM cutover.chunks WHERE run_id = $1 AND table_name = $2 AND chunk_no = $3`,
    [runId, table, chunkNo],
  );
  return r.rows[0] ?? null;
}

/** Locks the chunk's checkpoint row for this batch's transaction. */
export async function lockChunk(client: pg.ClientBase, runId: string, table: string, chunkNo: number): Promise<ChunkRow | null> {
  const r = await client.query<ChunkRow>(
    `SELECT last_key, rows_copied, rows_rejected, batches, done, source_profile, generation FROM cutover.chunks
      WHERE run_id = $1 AND table_name = $2 AND chunk_no = $3 FOR UPDATE`,
    [runId, table, chunkNo],
  );
  return r.rows[0] ?? null;
}

/**
 * A batch's commit. `digest` is the batch's record for the checksum stage (chunk-digests.ts),
 * appended to the chunk's records; null (no record) leaves the chunk without any, for good
 * (NULL || x is NULL): its checksum reads the source instead.
 */
export async function advanceChunk(
  client: pg.ClientBase,
  c: { runId: string; table: string; chunkNo: number; lastKey: KeyTuple; copied: number; rejected: number; digest?: Uint8Array | null; profile?: ProfilePart | null },
): Promise<void> {
  await client.query(
    `UPDATE cutover.chunks SET last_key = $4, rows_copied = rows_copied + $5, rows_rejected = rows_rejected + $6,
            batches = batches + 1, source_digests = source_digests || $7::bytea,
            source_profile = CASE WHEN $8::jsonb IS NULL THEN source_profile ELSE $8::jsonb END, updated_at = now()
      WHERE run_id = $1 AND table_name = $2 AND chunk_no = $3`,
    [
      c.runId,
      c.table,
      c.chunkNo,
      JSON.stringify(c.lastKey),
      c.copied,
      c.rejected,
      c.digest ? Buffer.from(c.digest.buffer, c.digest.byteOffset, c.digest.byteLength) : null,
      c.profile ? JSON.stringify(c.profile) : null,
    ],
  );
}

/**
 * Every chunk's value facts of a table, or null when a chunk is not done or has none although it
 * committed rows (copied before its table's plan was speculative, or by an older worker).
 */
export async function getTableProfileParts(client: pg.ClientBase, runId: string, table: string): Promise<ProfilePart[] | null> {
  const r = await client.query<{ done: boolean; rows_copied: string; rows_rejected: string; batches: number; source_profile: ProfilePart | null }>(
    `SELECT done, rows_copied, rows_rejected, batches, source_profile FROM cutover.chunks WHERE run_id = $1 AND table_name = $2 ORDER BY chunk_no`,
    [runId, table],
  );
  const parts: ProfilePart[] = [];
  for (const x of r.rows) {
    if (!x.done) return null;
    const rows = Number(x.rows_copied) + Number(x.rows_rejected);
    if (x.source_profile === null) {
      if (rows > 0) return null;
      continue;
    }
    if (x.source_profile.rows !== rows) return null;
    parts.push(x.source_profile);
  }
  return parts;
}

/** A table's copy starts over: every chunk back to its start, its rejects gone (same transaction as the table's re-creation). */
export async function resetTableCopy(client: pg.ClientBase, runId: string, table: string): Promise<void> {
  await client.query(
    `UPDATE cutover.chunks SET last_key = lo, rows_copied = 0, rows_rejected = 0, batches = 0, done = false,
            source_digests = NULL, digest_spec = NULL, source_profile = NULL, generation = generation + 1, updated_at = now()
      WHERE run_id = $1 AND table_name = $2`,
    [runId, table],
  );
  await client.query(`DELETE FROM cutover.rejects WHERE run_id = $1 AND table_name = $2`, [runId, table]);
}

/**
 * Starts the chunk's digest records, only before its first batch is committed: a chunk resumed
 * from batches committed without records (an earlier version, another mode) stays without.
 */
export async function startDigests(client: pg.ClientBase, runId: string, table: string, chunkNo: number, specId: string): Promise<void> {
  await client.query(
    `UPDATE cutover.chunks SET source_digests = '\\x'::bytea, digest_spec = $4
      WHERE run_id = $1 AND table_name = $2 AND chunk_no = $3 AND batches = 0 AND NOT done AND source_digests IS NULL`,
    [runId, table, chunkNo, specId],
  );
}

export interface ChunkDigests {
  done: boolean;
  rowsCopied: number;
  rowsRejected: number;
  /** The batches' records in commit order, or null: the copy did not record them all. */
  digests: Buffer | null;
  specId: string | null;
}

/**
 * A key-less table's records, all chunks together (compared as one multiset): null unless every
 * chunk is done and has records computed with one spec.
 */
export async function getTableDigests(client: pg.ClientBase, runId: string, table: string): Promise<{ digests: Buffer; specId: string; rejectedRows: number } | null> {
  const r = await client.query<{ done: boolean; rows_rejected: string; source_digests: Buffer | null; digest_spec: string | null }>(
    `SELECT done, rows_rejected, source_digests, digest_spec FROM cutover.chunks WHERE run_id = $1 AND table_name = $2 ORDER BY chunk_no`,
    [runId, table],
  );
  const first = r.rows[0];
  if (!first || first.digest_spec === null) return null;
  if (!r.rows.every((x) => x.done && x.source_digests !== null && x.digest_spec === first.digest_spec)) return null;
  return {
    digests: Buffer.concat(r.rows.map((x) => x.source_digests!)),
    specId: first.digest_spec,
    rejectedRows: r.rows.reduce((n, x) => n + Number(x.rows_rejected), 0),
  };
}

export async function getChunkDigests(client: pg.ClientBase, runId: string, table: string, chunkNo: number): Promise<ChunkDigests | null> {
  const r = await client.query<{ done: boolean; rows_copied: string; rows_rejected: string; source_digests: Buffer | null; digest_spec: string | null }>(
    `SELECT done, rows_copied, rows_rejected, source_digests, digest_spec FROM cutover.chunks WHERE run_id = $1 AND table_name = $2 AND chunk_no = $3`,
    [runId, table, chunkNo],
  );
  const x = r.rows[0];
  if (!x) return null;
  return { done: x.done, rowsCopied: Number(x.rows_copied), rowsRejected: Number(x.rows_rejected), digests: x.source_digests, specId: x.digest_spec };
}

export async function finishChunk(client: pg.ClientBase, runId: string, table: string, chunkNo: number): Promise<void> {
  await client.query(`UPDATE cutover.chunks SET done = true, updated_at = now() WHERE run_id = $1 AND table_name = $2 AND chunk_no = $3`, [
    runId,
    table,
    chunkNo,
  ]);
}

export interface RejectRecord {
  rowKey: string;
  column: string | null;
  reason: string;
  value: string | null;
}

export async function insertRejects(
  client: pg.ClientBase,
  runId: string,
  table: string,
  chunkNo: number,
  rejects: RejectRecord[],
): Promise<void> {
  if (rejects.length === 0) return;
  await client.query(
    `INSERT INTO cutover.rejects (run_id, table_name, chunk_no, row_key, column_name, reason, value)
     SELECT $1, $2, $3, r.row_key, r.column_name, r.reason, r.value
       FROM jsonb_to_recordset($4::jsonb) AS r(row_key text, column_name text, reason text, value text)`,
    [
      runId,
      table,
      chunkNo,
      JSON.stringify(rejects.map((r) => ({ row_key: r.rowKey, column_name: r.column, reason: r.reason, value: r.value }))),
    ],
  );
}

export async function tableCounts(
  client: pg.ClientBase,
  runId: string,
  table: string,
): Promise<{ copied: number; rejected: number }> {
  const r = await client.query<{ copied: string | null; rejected: string | null }>(
    `SELECT sum(rows_copied) AS copied, sum(rows_rejected) AS rejected FROM cutover.chunks WHERE run_id = $1 AND table_name = $2`,
    [runId, table],
  );
  return { copied: Number(r.rows[0]?.copied ?? 0), rejected: Number(r.rows[0]?.rejected ?? 0) };
}

export async function saveTableResult(client: pg.ClientBase, runId: string, t: TableReport): Promise<void> {
  await client.query(
    `INSERT INTO cutover.table_results (run_id, table_name, source_rows, target_rows, rejected_rows, ok, problems)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (run_id, table_name) DO UPDATE SET source_rows = EXCLUDED.source_rows, target_rows = EXCLUDED.target_rows,
       rejected_rows = EXCLUDED.rejected_rows, ok = EXCLUDED.ok, problems = EXCLUDED.problems`,
    [runId, t.table, t.sourceRows, t.targetRows, t.rejectedRows, t.ok, JSON.stringify(t.problems)],
  );
}

/** Removes every trace of a run from the state tables (rollback without audit). */
export async function deleteRunState(client: pg.ClientBase, runId: string): Promise<void> {
  for (const table of ['rejects', 'chunks', 'table_results', 'objects', 'runs']) {
    await client.query(`DELETE FROM cutover.${table} WHERE run_id = $1`, [runId]);
  }
}

export async function countRuns(client: pg.ClientBase): Promise<number> {
  const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM cutover.runs`);
  return Number(r.rows[0]?.n ?? 0);
}

export async function dropStateSchema(client: pg.ClientBase): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS cutover CASCADE`);
}

/** Registers a table's chunks (idempotent: existing checkpoints are kept). */
export async function insertChunks(
  client: pg.ClientBase,
  runId: string,
  chunks: { table: string; chunkNo: number; lo: KeyTuple | null; hi: KeyTuple | null; estimatedRows: number }[],
): Promise<void> {
  for (let i = 0; i < chunks.length; i += 1000) {
    const page = chunks.slice(i, i + 1000);
    await client.query(
      `INSERT INTO cutover.chunks (run_id, table_name, chunk_no, lo, hi, last_key, estimated_rows)
       SELECT $1, c.table_name, c.chunk_no, c.lo, c.hi, c.lo, c.estimated_rows
         FROM jsonb_to_recordset($2::jsonb) AS c(table_name text, chunk_no int, lo jsonb, hi jsonb, estimated_rows bigint)
       ON CONFLICT DO NOTHING`,
      [runId, JSON.stringify(page.map((c) => ({ table_name: c.table, chunk_no: c.chunkNo, lo: c.lo, hi: c.hi, estimated_rows: c.estimatedRows })))],
    );
  }
}

export async function listChunks(
  client: pg.ClientBase,
  runId: string,
  table: string,
  fromChunkNo: number,
  limit: number,
): Promise<{ chunkNo: number; lo: KeyTuple | null; hi: KeyTuple | null; estimatedRows: number; done: boolean }[]> {
  const r = await client.query<{ chunk_no: number; lo: KeyTuple | null; hi: KeyTuple | null; estimated_rows: string; done: boolean }>(
    `SELECT chunk_no, lo, hi, estimated_rows, done FROM cutover.chunks
      WHERE run_id = $1 AND table_name = $2 AND chunk_no >= $3 ORDER BY chunk_no LIMIT $4`,
    [runId, table, fromChunkNo, limit],
  );
  return r.rows.map((x) => ({ chunkNo: x.chunk_no, lo: x.lo, hi: x.hi, estimatedRows: Number(x.estimated_rows), done: x.done }));
}

export async function countRejectsLike(client: pg.ClientBase, runId: string, table: string, reasonPattern: string): Promise<number> {
  const r = await client.query<{ n: number }>(
    `SELECT count(DISTINCT row_key)::int AS n FROM cutover.rejects WHERE run_id = $1 AND table_name = $2 AND reason LIKE $3`,
    [runId, table, reasonPattern],
  );
  return r.rows[0]?.n ?? 0;
}
