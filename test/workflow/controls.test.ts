// Operator controls and bounded histories, on the real dev server:
// pause/resume, abort, cancel, setParallelism, many tiny chunks.
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateSqliteToPostgres } from '../../workflows';
import { pauseSignal, progressQuery, resumeSignal, abortSignal, setParallelismUpdate } from '../../workflows/api';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { maybeRecordHistory } from '../helpers/histories';

const dir = tempDir('controls');

function bigSource(name: string, rows: number): string {
  return makeSqlite(dir, name, `CREATE TABLE big (id INTEGER PRIMARY KEY, payload TEXT)`, (d) => {
    const ins = d.prepare('INSERT INTO big VALUES (?, ?)');
    d.transaction(() => {
      for (let i = 1n; i <= BigInt(rows); i++) ins.run(i, `row ${i} ${'y'.repeat(60)}`);
    })();
  });
}

async function query(url: string, sql: string): Promise<Record<string, string>[]> {
  const c = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

async function rowsIn(url: string, table: string): Promise<number> {
  const r = await query(url, `SELECT CASE WHEN to_regclass('${table}') IS NULL THEN -1 ELSE 0 END AS missing`);
  if (r[0]!.missing === '-1') return -1;
  return Number((await query(url, `SELECT count(*) AS n FROM ${table}`))[0]!.n);
}

async function waitFor(what: string, ok: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function catalog(url: string): Promise<string[]> {
  const r = await query(
    url,
    `SELECT n.nspname::text || '.' || c.relname::text AS o FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
     UNION ALL SELECT 'schema:' || nspname::text FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' AND nspname <> 'information_schema' ORDER BY 1`,
  );
  return r.map((x) => x.o!);
}

async function historyLengths(client: Client, workflowId: string): Promise<number[]> {
  const lengths: number[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    lengths.push(wf.historyLength);
  }
  return lengths;
}

describe('operator controls', () => {
  let db: TestDatabase;
  let w: TestWorker;

  beforeAll(async () => {
    db = await createTestDatabase('wf_controls');
    w = await startTestWorker('wf-controls', { default: db.url });
  });
  afterAll(async () => {
    await w?.stop();
    await db?.drop();
  });

  const start = (input: Parameters<typeof migrateSqliteToPostgres>[0] & { maxHistoryEvents?: number }, id: string): Promise<WorkflowHandle<typeof migrateSqliteToPostgres>> =>
    w.client.workflow.start(migrateSqliteToPostgres, { taskQueue: w.taskQueue, workflowId: id, args: [input] });

  it('pauses (in-flight batches finish, nothing moves), resumes and completes exactly', async () => {
    const source = bigSource('pause.db', 200_000);
    const handle = await start({ source, targetSchema: 'paused', batchSize: 100, parallelism: 1 }, `pause-${Date.now()}`);
    await waitFor('first rows', async () => (await rowsIn(db.url, 'paused.big')) > 0);
    await handle.signal(pauseSignal);
    await waitFor('phase paused', async () => (await handle.query(progressQuery)).phase === 'paused');
    // Give the in-flight batch time to commit, then nothing may move.
    await new Promise((r) => setTimeout(r, 3000));
    const a = await rowsIn(db.url, 'paused.big');
    await new Promise((r) => setTimeout(r, 2000));
    const b = await rowsIn(db.url, 'paused.big');
    expect(b).toBe(a);
    expect(a).toBeLessThan(200_000);
    await handle.signal(resumeSignal);
    const report = await handle.result();
    await maybeRecordHistory(handle, 'paused-resumed');
    await maybeRecordHistory(w.client.workflow.getHandle(`${handle.workflowId}/table/big`), 'copy-table-paused-resumed');
    expect(report.status).toBe('succeeded');
    const stats = await query(db.url, `SELECT count(*) AS n, count(DISTINCT id) AS d FROM paused.big`);
    expect(stats[0]).toEqual({ n: '200000', d: '200000' });
  });

  it('validates setParallelism and applies it', async () => {
    const source = bigSource('par.db', 60_000);
    const handle = await start({ source, targetSchema: 'par', batchSize: 1000, chunkSize: 5000, parallelism: 1 }, `par-${Date.now()}`);
    try {
      const refused = (await handle.executeUpdate(setParallelismUpdate, { args: [0] }).catch((e: unknown) => e)) as Error & { cause?: Error };
      expect(refused.cause?.message).toMatch(/1 to 64/);
      expect(await handle.executeUpdate(setParallelismUpdate, { args: [3] })).toBe(1);
    } finally {
      expect((await handle.result()).status).toBe('succeeded');
    }
  });

  it('aborts: stops and rolls the target back to exactly what it was', async () => {
    const before = await catalog(db.url);
    const source = bigSource('abort.db', 150_000);
    const handle = await start({ source, targetSchema: 'aborted', batchSize: 500, parallelism: 1 }, `abort-${Date.now()}`);
    await waitFor('first rows', async () => (await rowsIn(db.url, 'aborted.big')) > 0);
    await handle.signal(abortSignal, 'wrong file');
    const err = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    await maybeRecordHistory(handle, 'aborted-rolled-back');
    expect((err.cause as ApplicationFailure).type).toBe('Aborted');
    expect(err.cause!.message).toContain('wrong file');
    expect(err.cause!.message).toContain('rolled back');
    expect(await catalog(db.url)).toEqual(before);
  });

  it('cancel rolls back too', async () => {
    const before = await catalog(db.url);
    const source = bigSource('cancel.db', 150_000);
    const handle = await start({ source, targetSchema: 'cancelled', batchSize: 500, parallelism: 1 }, `cancel-${Date.now()}`);
    await waitFor('first rows', async () => (await rowsIn(db.url, 'cancelled.big')) > 0);
    await handle.cancel();
    const err = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect(err.cause).toBeInstanceOf(CancelledFailure);
    expect(await catalog(db.url)).toEqual(before);
  });

  // 400 chunks are ~800 activities and as many workflow tasks, one at a time per table workflow:
  // 25 s alone on a 2-core machine, past 120 s on a slower one running other test files beside it.
  it('keeps histories bounded with many tiny chunks (continue-as-new per table)', { timeout: 360_000 }, async () => {
    const source = bigSource('tiny.db', 400);
    const id = `tiny-${Date.now()}`;
    const maxHistoryEvents = 200;
    const handle = await start({ source, targetSchema: 'tiny', batchSize: 10, chunkSize: 1, parallelism: 4, maxHistoryEvents }, id);
    const report = await handle.result();
    expect(report.status).toBe('succeeded');
    expect(report.tables[0]!.targetRows).toBe(400);
    const child = await historyLengths(w.client, `${id}/table/big`);
    // 400 chunks in runs of at most maxHistoryEvents plus one page (200 chunks, ~6 events each).
    expect(child.length).toBeGreaterThan(1);
    for (const n of child) expect(n).toBeLessThan(maxHistoryEvents + 6 * 200 + 50);
    const parent = await historyLengths(w.client, id);
    expect(Math.max(...parent)).toBeLessThan(200);
  });

  it('continues the parent as new when it has many tables', async () => {
    const source = makeSqlite(dir, 'many.db', Array.from({ length: 24 }, (_, i) => `CREATE TABLE t${i} (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t${i} VALUES (1, 'a'), (2, 'b');`).join('\n'));
    const id = `many-${Date.now()}`;
    const handle = await start({ source, targetSchema: 'many', parallelism: 4, maxHistoryEvents: 60 }, id);
    const report = await handle.result();
    await maybeRecordHistory(handle, 'many-tables-continued-as-new');
    expect(report.status).toBe('succeeded');
    expect(report.tables).toHaveLength(24);
    expect(report.totals.rows).toBe(48);
    const parent = await historyLengths(w.client, id);
    expect(parent.length).toBeGreaterThan(1);
  });
});
