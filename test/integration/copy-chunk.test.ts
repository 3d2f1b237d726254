// copyChunk against a real PostgreSQL: the pipelined, worker-thread copy keeps exactly-once
// (a stopped and resumed chunk copies every row once), rejects what the converters reject, and
// isolates a row PostgreSQL refuses by re-reading that batch line by line.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { copyChunk, type CopyHooks } from '../../src/copy/copy-chunk';
import { openSource } from '../../src/sqlite/open';
import { PageKeysetReader } from '../../src/sqlite/page-reader';
import * as state from '../../src/postgres/state';
import type { ColumnPlan, TablePlan } from '../../src/types';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { makeSqlite, tempDir } from '../helpers/sqlite';

const dir = tempDir('copy-chunk');
const ROWS = 95;
const file = makeSqlite(
  dir,
  's.db',
  `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS})
   INSERT INTO t SELECT i, CASE WHEN i = 17 THEN 'bad' WHEN i = 42 THEN 'nul' || char(0) || 'x' ELSE 'v' || char(9) || i END FROM n;`,
);

const col = (source: string, converter: ColumnPlan['converter']): ColumnPlan => ({
  source,
  target: source,
  declaredType: '',
  pgType: '',
  converter,
  notNull: false,
  defaultSql: null,
  identity: false,
  generated: false,
  reason: '',
  warnings: [],
  suggestions: [],
});

const table: TablePlan = {
  source: 't',
  target: 't',
  withoutRowid: false,
  strict: false,
  key: { kind: 'rowid', columns: ['rowid'], display: ['id'] },
  columns: [col('id', { kind: 'integer', bits: 64 }), col('v', { kind: 'text' })],
  primaryKey: null,
  uniques: [],
  indexes: [],
  foreignKeys: [],
  checks: [],
  rowCount: ROWS,
  sqliteSequence: null,
  warnings: [],
};

let tdb: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  tdb = await createTestDatabase('copy_chunk');
  pool = new pg.Pool({ connectionString: tdb.url, max: 3 });
  const c = await pool.connect();
  try {
    await state.ensureStateSchema(c);
  } finally {
    c.release();
  }
});

afterAll(async () => {
  await pool?.end();
  await tdb?.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function fresh(name: string): Promise<void> {
  // PostgreSQL refuses 'bad' (a CHECK our converters know nothing about): the fallback path.
  await pool.query(`DROP TABLE IF EXISTS ${name}; CREATE TABLE ${name} (id bigint, v text CHECK (v <> 'bad'))`);
}

const quiet = (stopAfter = Infinity): CopyHooks => {
  let beats = 0;
  return { heartbeat: () => void beats++, throwIfCancelled: () => undefined, shouldStop: () => beats >= stopAfter };
};

async function run(
  runId: string,
  target: string,
  hooks: CopyHooks,
  chunk = { lo: null, hi: null } as { lo: null | { t: 'i'; v: string }[]; hi: null | { t: 'i'; v: string }[] },
  liveSource = false,
) {
  const db = openSource(file);
  try {
    return await copyChunk({
      pool,
      db,
      runId,
      schema: 'public',
      table: { ...table, target },
      chunk: { table: 't', chunkNo: 0, lo: chunk.lo, hi: chunk.hi, estimatedRows: ROWS },
      batchSize: 10,
      hooks,
      liveSource,
    });
  } finally {
    db.close();
  }
}

async function check(runId: string, target: string) {
  const rows = (await pool.query(`SELECT id::int AS id, v FROM ${target} ORDER BY id`)).rows as { id: number; v: string }[];
  const ids = rows.map((r) => r.id);
  const want = Array.from({ length: ROWS }, (_, i) => i + 1).filter((i) => i !== 17 && i !== 42);
  expect(ids).toEqual(want);
  expect(rows[0]!.v).toBe('v\t1');
  const rejects = (await pool.query(`SELECT row_key, column_name, reason FROM cutover.rejects WHERE run_id = $1 ORDER BY row_key`, [runId])).rows;
  expect(rejects.map((r) => r.row_key)).toEqual(['id=17', 'id=42']);
  expect(rejects[0].reason).toMatch(/PostgreSQL refused the row/);
  expect(rejects[1].column_name).toBe('v');
  const ck = await pool.query(`SELECT rows_copied::int AS c, rows_rejected::int AS r, done FROM cutover.chunks WHERE run_id = $1`, [runId]);
  expect(ck.rows[0]).toEqual({ c: ROWS - 2, r: 2, done: true });
}

describe('copyChunk (worker-thread reader, pipelined commits)', () => {
  it('copies every row once, rejects per row, isolates a row PostgreSQL refuses', async () => {
    await fresh('t1');
    const r = await run('run-1', 't1', quiet());
    expect(r).toMatchObject({ rows: ROWS - 2, rejects: 2, batches: 10 });
    await check('run-1', 't1');
  });

  it('a live source (snapshot off) is read through SQLite, which locks it per statement, never from its pages', async () => {
    // In this thread (no copy threads), so that the page reader's opening can be watched.
    const threads = process.env.CUTOVER_COPY_THREADS;
    process.env.CUTOVER_COPY_THREADS = '0';
    const open = vi.spyOn(PageKeysetReader, 'open');
    try {
      await fresh('t_live');
      await run('run-live', 't_live', quiet(), undefined, true);
      await check('run-live', 't_live');
      expect(open).not.toHaveBeenCalled();
      await fresh('t_snapshot');
      await run('run-snapshot', 't_snapshot', quiet());
      await check('run-snapshot', 't_snapshot');
      expect(open).toHaveBeenCalled();
    } finally {
      open.mockRestore();
      if (threads === undefined) delete process.env.CUTOVER_COPY_THREADS;
      else process.env.CUTOVER_COPY_THREADS = threads;
    }
  });

  it('a chunk stopped after 3 batches resumes exactly after its checkpoint', async () => {
    await fresh('t2');
    const first = await run('run-2', 't2', quiet(3));
    expect(first.batches).toBe(3);
    const n = await pool.query(`SELECT count(*)::int AS n FROM t2`);
    expect(n.rows[0].n).toBe(29); // ids 1..30 without 17
    const second = await run('run-2', 't2', quiet());
    expect(second.resumedRows).toBe(30);
    await check('run-2', 't2');
    // Done: a third attempt copies nothing.
    const third = await run('run-2', 't2', quiet());
    expect(third.batches).toBe(0);
    await check('run-2', 't2');
  });

  it('two attempts of the same chunk at once still copy every row once', async () => {
    await fresh('t3');
    await Promise.all([run('run-3', 't3', quiet()), run('run-3', 't3', quiet())]);
    await check('run-3', 't3');
  });

  it('CUTOVER_BENCH_NO_CHECKPOINT=1 (benchmark only) copies the same rows and records the totals once', async () => {
    await fresh('t4');
    process.env.CUTOVER_BENCH_NO_CHECKPOINT = '1';
    try {
      // No CHECK-refused rows on this path (it has no per-batch transaction to fall back in).
      await pool.query(`ALTER TABLE t4 DROP CONSTRAINT t4_v_check`);
      const r = await run('run-4', 't4', quiet());
      expect(r).toMatchObject({ rows: ROWS - 1, rejects: 1 });
    } finally {
      delete process.env.CUTOVER_BENCH_NO_CHECKPOINT;
    }
    const n = await pool.query(`SELECT count(*)::int AS n FROM t4`);
    expect(n.rows[0].n).toBe(ROWS - 1);
    const ck = await pool.query(`SELECT rows_copied::int AS c, rows_rejected::int AS r, done FROM cutover.chunks WHERE run_id = 'run-4'`);
    expect(ck.rows[0]).toEqual({ c: ROWS - 1, r: 1, done: true });
  });

  it('an attempt begun before its chunk was reset (table re-created with other types) stops at its next commit, and the current attempt copies every row once', async () => {
    await fresh('t5');
    const c = await pool.connect();
    try {
      await state.ensureChunk(c, { runId: 'run-5', table: 't', chunkNo: 0, lo: null, hi: null });
      // Hold the checkpoint: the attempt reads generation 0, then waits at its first commit.
      await c.query('BEGIN');
      await c.query(`SELECT 1 FROM cutover.chunks WHERE run_id = 'run-5' FOR UPDATE`);
      const stale = run('run-5', 't5', quiet());
      stale.catch(() => undefined);
      const end = Date.now() + 20_000;
      while ((await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n === 0) {
        if (Date.now() > end) throw new Error('the attempt never waited for the checkpoint');
        await new Promise((r) => setTimeout(r, 20));
      }
      // What confirmTablePlan does to a table whose sample types did not hold (it re-creates the table too).
      await state.resetTableCopy(c, 'run-5', 't');
      await c.query('COMMIT');
      await expect(stale).rejects.toThrow(/chunk was reset \(generation 0 → 1\)/);
    } finally {
      c.release();
    }
    const mid = await pool.query(`SELECT rows_copied::int AS c, batches, generation FROM cutover.chunks WHERE run_id = 'run-5'`);
    expect(mid.rows[0]).toEqual({ c: 0, batches: 0, generation: 1 });
    expect((await pool.query(`SELECT count(*)::int AS n FROM t5`)).rows[0].n).toBe(0);
    await run('run-5', 't5', quiet());
    await check('run-5', 't5');
  });
});
