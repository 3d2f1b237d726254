// Snapshot, source untouched, change detection, one run per target, and an
// interrupted rollback finished by rollbackMigration.
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateSqliteToPostgres, rollbackMigration } from '../../workflows';
import { abortSignal, approveSignal, progressQuery } from '../../workflows/api';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { startTestWorker, type TestWorker } from '../helpers/worker';

const dir = tempDir('durability');
// An undo step blocked by another session's lock gives up after this (the worker runs in this process).
process.env.CUTOVER_UNDO_LOCK_TIMEOUT = '2s';

function bigSource(name: string, rows: number): string {
  return makeSqlite(dir, name, `CREATE TABLE big (id INTEGER PRIMARY KEY, payload TEXT); CREATE TABLE small (id INTEGER PRIMARY KEY)`, (d) => {
    const ins = d.prepare('INSERT INTO big VALUES (?, ?)');
    d.transaction(() => {
      for (let i = 1n; i <= BigInt(rows); i++) ins.run(i, `row ${i} ${'z'.repeat(60)}`);
    })();
    d.prepare('INSERT INTO small VALUES (1), (2)').run();
  });
}

async function query(url: string, sql: string, params: unknown[] = []): Promise<Record<string, string>[]> {
  const c = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
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

async function waitForRows(url: string, table: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const r = await query(url, `SELECT to_regclass($1) IS NOT NULL AS e`, [table]);
    if (r[0]!.e === 't' && Number((await query(url, `SELECT count(*) AS n FROM ${table}`))[0]!.n) > 0) return;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`no rows in ${table}`);
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('durability', () => {
  let db: TestDatabase;
  let w: TestWorker;

  beforeAll(async () => {
    db = await createTestDatabase('wf_durable');
    w = await startTestWorker('wf-durable', { default: db.url });
  });
  afterAll(async () => {
    await w?.stop();
    await db?.drop();
  });

  const start = (input: Parameters<typeof migrateSqliteToPostgres>[0], id: string) =>
    w.client.workflow.start(migrateSqliteToPostgres, { taskQueue: w.taskQueue, workflowId: id, args: [input] });

  it('copies from a snapshot (sha256 in the report) and never writes the source', async () => {
    const source = bigSource('untouched.db', 20_000);
    const before = { sha: sha(source), mtime: statSync(source).mtimeMs, size: statSync(source).size };
    const report = await (await start({ source, targetSchema: 'snap' }, `snap-${Date.now()}`)).result();
    expect(report.status).toBe('succeeded');
    expect(report.snapshot).not.toBeNull();
    expect(report.snapshot!.sha256).toBe(sha(report.snapshot!.path));
    expect(report.snapshot!.path).not.toBe(source);
    // A rollback-journal source nobody writes to: copied as a file, byte for byte.
    expect(report.snapshot!.method).toBe('file copy');
    expect(report.snapshot!.sha256).toBe(before.sha);
    expect({ sha: sha(source), mtime: statSync(source).mtimeMs, size: statSync(source).size }).toEqual(before);
  });

  it('keeps writes to the source out of the target: the snapshot is what gets copied', async () => {
    const source = bigSource('written.db', 100_000);
    const handle = await start({ source, targetSchema: 'snapwrite', batchSize: 500, parallelism: 1 }, `snapwrite-${Date.now()}`);
    await waitForRows(db.url, 'snapwrite.big');
    // The application keeps writing while we copy.
    const app = new Database(source);
    app.prepare(`INSERT INTO big VALUES (100001, 'late'), (100002, 'later')`).run();
    app.close();
    const report = await handle.result();
    expect(report.status).toBe('succeeded');
    expect(report.tables.find((t) => t.table === 'big')!.targetRows).toBe(100_000);
  });

  it('with snapshot off, fails clearly when the source changes during the run', async () => {
    const source = bigSource('live.db', 100_000);
    const handle = await start({ source, targetSchema: 'live', batchSize: 500, parallelism: 1, snapshot: false }, `live-${Date.now()}`);
    await waitForRows(db.url, 'live.big');
    const app = new Database(source);
    app.prepare(`INSERT INTO big VALUES (100001, 'late')`).run();
    app.close();
    const err = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err.cause as ApplicationFailure).type).toBe('SourceChanged');
    expect(err.cause!.message).toMatch(/changed during the run/);
    expect(err.cause!.message).toMatch(/rolled back/);
  });

  it('refuses a second run into a target schema while one is active', async () => {
    const source = bigSource('one.db', 100_000);
    const first = await start({ source, targetSchema: 'onerun', batchSize: 500, parallelism: 1 }, `one-a-${Date.now()}`);
    await waitForRows(db.url, 'onerun.big');
    const second = await start({ source, targetSchema: 'onerun' }, `one-b-${Date.now()}`);
    const err = (await second.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect((err.cause as ApplicationFailure).type).toBe('RunInProgress');
    expect(err.cause!.message).toContain(first.workflowId);
    expect((await first.result()).status).toBe('succeeded');
  });

  it('finishes an interrupted rollback when rollbackMigration runs again', async () => {
    const before = await catalog(db.url);
    const source = bigSource('undo.db', 1000);
    const runId = `undo-${Date.now()}`;
    expect((await (await start({ source, targetSchema: 'undone' }, runId)).result()).status).toBe('succeeded');

    // Another session holds a lock on one table: its DROP waits; we cancel it (the interruption).
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE undone.small IN ACCESS SHARE MODE');
    const first = await w.client.workflow.start(rollbackMigration, { taskQueue: w.taskQueue, workflowId: `${runId}-rollback-1`, args: [{ runId }] });
    for (let i = 0; i < 400; i++) {
      const waiting = await query(db.url, `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DROP TABLE%'`);
      if (waiting.length) {
        await query(db.url, `SELECT pg_cancel_backend($1)`, [waiting[0]!.pid]);
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    const err = (await first.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect((err.cause as ApplicationFailure).type).toBe('RollbackIncomplete');
    expect(err.cause!.message).toContain('undone');
    await blocker.query('ROLLBACK');
    await blocker.end();

    const second = await w.client.workflow.execute(rollbackMigration, { taskQueue: w.taskQueue, workflowId: `${runId}-rollback-2`, args: [{ runId }] });
    expect(second.failures).toEqual([]);
    expect(second.undone.length).toBeGreaterThan(0);
    const third = await w.client.workflow.execute(rollbackMigration, { taskQueue: w.taskQueue, workflowId: `${runId}-rollback-3`, args: [{ runId }] });
    expect(third).toMatchObject({ undone: [], failures: [] });
    expect(await catalog(db.url)).toEqual(before);
  });
});

describe('cutover gate', () => {
  let db: TestDatabase;
  let w: TestWorker;
  beforeAll(async () => {
    db = await createTestDatabase('wf_gate');
    w = await startTestWorker('wf-gate', { default: db.url });
  });
  afterAll(async () => {
    await w?.stop();
    await db?.drop();
  });

  const gateSource = (name: string) => makeSqlite(dir, name, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b');`);

  async function waitForPhase(handle: { query: (q: typeof progressQuery) => Promise<{ phase: string }> }, phase: string): Promise<void> {
    for (let i = 0; i < 400; i++) {
      if ((await handle.query(progressQuery).catch(() => ({ phase: '' }))).phase === phase) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`phase ${phase} not reached`);
  }

  it('waits for approve, shows the report, runs the hook with the run id and report path, records the cutover', async () => {
    const out = path.join(dir, 'hook-out.txt');
    const handle = await w.client.workflow.start(migrateSqliteToPostgres, {
      taskQueue: w.taskQueue,
      workflowId: `gate-ok-${Date.now()}`,
      args: [{ source: gateSource('gate-ok.db'), targetSchema: 'gate_ok', requireApproval: true, cutoverHook: `echo "$CUTOVER_RUN_ID $(cat "$CUTOVER_REPORT_PATH" | wc -c)" > ${out}` }],
    });
    await waitForPhase(handle, 'awaiting approval');
    const p = await handle.query(progressQuery);
    expect(p.awaitingApproval?.status).toBe('succeeded');
    await handle.signal(approveSignal);
    const report = await handle.result();
    expect(report.status).toBe('succeeded');
    const [runId, bytes] = readFileSync(out, 'utf8').trim().split(' ');
    expect(runId).toBe(handle.workflowId);
    expect(Number(bytes)).toBeGreaterThan(100);
    expect((await query(db.url, `SELECT status FROM cutover.runs WHERE run_id = $1`, [handle.workflowId]))[0]!.status).toBe('cut over');
  });

  it('a failing hook fails the run with its stderr, rolled back', async () => {
    const handle = await w.client.workflow.start(migrateSqliteToPostgres, {
      taskQueue: w.taskQueue,
      workflowId: `gate-hook-${Date.now()}`,
      args: [{ source: gateSource('gate-hook.db'), targetSchema: 'gate_hook', cutoverHook: 'echo "DNS switch refused" >&2; exit 7' }],
    });
    const err = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect((err.cause as ApplicationFailure).type).toBe('HookFailed');
    expect(err.cause!.message).toContain('DNS switch refused');
    expect(err.cause!.message).toContain('code 7');
    expect(err.cause!.message).toContain('rolled back');
  });

  it('refuses the cutover when the source changed after the snapshot; abort at the gate rolls back', async () => {
    const source = gateSource('gate-changed.db');
    const handle = await w.client.workflow.start(migrateSqliteToPostgres, {
      taskQueue: w.taskQueue,
      workflowId: `gate-changed-${Date.now()}`,
      args: [{ source, targetSchema: 'gate_changed', requireApproval: true, onSourceChange: 'fail' }],
    });
    await waitForPhase(handle, 'awaiting approval');
    const app = new Database(source);
    app.prepare(`INSERT INTO t VALUES (3, 'late')`).run();
    app.close();
    await handle.signal(approveSignal);
    const err = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect((err.cause as ApplicationFailure).type).toBe('SourceChanged');
    expect(err.cause!.message).toMatch(/changed after the snapshot/);

    const aborted = await w.client.workflow.start(migrateSqliteToPostgres, {
      taskQueue: w.taskQueue,
      workflowId: `gate-abort-${Date.now()}`,
      args: [{ source: gateSource('gate-abort.db'), targetSchema: 'gate_abort', requireApproval: true }],
    });
    await waitForPhase(aborted, 'awaiting approval');
    await aborted.signal(abortSignal, 'not today');
    const e2 = (await aborted.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect((e2.cause as ApplicationFailure).type).toBe('Aborted');
    expect(await query(db.url, `SELECT to_regclass('gate_abort.t') IS NULL AS gone`)).toEqual([{ gone: 't' }]);
  });
});
