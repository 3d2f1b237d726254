// Fault injection: SIGKILL the worker PROCESS (`cutover worker`) at random points
// mid-copy, start a fresh one each time. The run must complete, the target must
// equal the source value by value, no key twice, and each kill may cost at most
// the batches in flight (batchSize × parallelism rows), measured from
// PostgreSQL's own insert counter (pg_stat_user_tables.n_tup_ins counts the rows
// of aborted transactions too).
import { Client, Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateSqliteToPostgres } from '../../workflows';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testEnv } from '../helpers/env';
import { buildFaultSource, checkTargetEqualsSource, closePollers, committedRows, query, retriedActivities, sleep, waitFor, type SourceTable } from '../helpers/faults';
import { tempDir } from '../helpers/sqlite';
import { seededRandom } from '../helpers/random';

const ROOT = path.join(__dirname, '..', '..');
const dir = tempDir('fault-kill');
const workDir = tempDir('fault-kill-work');

const TABLES: SourceTable[] = [
  { name: 'orders', rows: 150_000 },
  { name: 'events', rows: 100_000 },
  { name: 'users', rows: 50_000 },
];
const TOTAL = TABLES.reduce((s, t) => s + t.rows, 0);
const BATCH = 2000;
const CHUNK = 50_000;
const PARALLELISM = 2;
const SCHEMA = 'killed';


interface WorkerProc {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logFile: string;
}

const live = new Set<ChildProcess>();

function spawnWorker(n: number, env: Record<string, string>): WorkerProc {
  const logFile = path.join(dir, `worker-${n}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [path.join(ROOT, 'bin', 'cutover.js'), 'worker'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, exited, logFile };
}

/** `p`, or a failure naming what did not happen within `ms` (so a hang says where it hung). */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Rows inserted into the target tables, committed or not (all backends of the database must be gone: their stats are flushed at exit). */
async function insertedRows(url: string): Promise<number> {
  const r = await query(url, `SELECT coalesce(sum(n_tup_ins), 0) AS n FROM pg_stat_user_tables WHERE schemaname = $1`, [SCHEMA]);
  return Number(r[0]!.n);
}

/** Waits until no worker connection to the database is left (a killed worker's backends exit on EOF and flush their stats). */
async function waitNoWorkerBackends(url: string): Promise<void> {
  await waitFor(
    'the worker backends to exit',
    async () => Number((await query(url, `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cutover'`))[0]!.n) === 0,
    15_000,
  );
}

describe('fault: SIGKILL the worker process mid-copy', () => {
  let db: TestDatabase | undefined;
  let client: Client | undefined;
  afterAll(async () => {
    await closePollers();
    for (const c of live) c.kill('SIGKILL');
    await client?.connection.close();
    await db?.drop();
    // Sources, snapshots and server state: tens of MB per run.
    rmSync(dir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('survives kills at random points: completes, target = source, re-copies at most the batches in flight', { timeout: 300_000 }, async () => {
    const t0 = Date.now();
    const env = testEnv();
    db = await createTestDatabase('fault_kill');
    const taskQueue = env.taskQueue('fault-kill');
    const source = buildFaultSource(dir, 'kill.db', TABLES);
    const tBuilt = Date.now();
    const workerEnv = {
      TEMPORAL_ADDRESS: env.temporalAddress,
      TEMPORAL_NAMESPACE: env.namespace,
      CUTOVER_TASK_QUEUE: taskQueue,
      CUTOVER_TARGET_URL: db.url,
      CUTOVER_WORK_DIR: workDir,
      LOG_LEVEL: 'info',
      // Set, so bin/cutover.js does not run the worker in a second process (it would then follow the
      // first one's death only within its polling interval): the SIGKILL lands on the worker itself.
      MALLOC_ARENA_MAX: '2',
    };

    // The kill points are printed with the seed, so a failure can be replayed (FAULT_SEED).
    const seed = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const random = seededRandom(seed);
    // Two kills by default: each costs the chunks' heartbeat timeout (20 s) before the retry, so a third
    // pushes the file past 90 s on 2 busy cores (FAULT_KILLS=3 for more).
    const kills = process.env.FAULT_KILLS ? Number(process.env.FAULT_KILLS) : 2;
    // Kill points: fractions of the rows, spread over 10 %..85 % of the copy, at least 10 % apart.
    const points: number[] = [];
    const span = 0.75 - 0.1 * (kills - 1);
    const raw = Array.from({ length: kills }, () => random() * span).sort((a, b) => a - b);
    raw.forEach((x, i) => points.push(0.1 + x + 0.1 * i));
    console.log(`[kill-worker] seed ${seed}: ${kills} kills at ${points.map((p) => `${Math.round(p * 100)} %`).join(', ')} of ${TOTAL} rows`);

    let workerNo = 0;
    let worker = spawnWorker(++workerNo, workerEnv);
    client = new Client({ connection: await Connection.connect({ address: env.temporalAddress }), namespace: env.namespace });
    const workflowId = `fault-kill-${Date.now()}`;
    const handle = await client.workflow.start(migrateSqliteToPostgres, {
      taskQueue,
      workflowId,
      // Count validation: this test compares every value itself, independently of the product's checksums.
      args: [{ source, targetSchema: SCHEMA, batchSize: BATCH, chunkSize: CHUNK, parallelism: PARALLELISM, validation: 'count' }],
    });

    const perKill: { at: number; committed: number; recopied: number; outageMs: number }[] = [];
    let cumulativeAborted = 0;
    let tDone = 0;
    try {
      for (const p of points) {
        const threshold = Math.floor(p * TOTAL);
        await waitFor(`${threshold} committed rows`, async () => (await committedRows(db!.url, workflowId)) >= threshold, 90_000, 15);
        worker.child.kill('SIGKILL');
        const killedAt = Date.now();
        const ex = await within(30_000, 'the killed worker to exit', worker.exited);
        expect(ex.signal).toBe('SIGKILL');
        await waitNoWorkerBackends(db.url);
        // A backend leaves pg_stat_activity just before its exit hook flushes its stats.
        await sleep(200);
        const committed = await committedRows(db.url, workflowId);
        expect(committed, 'the kill must land mid-copy').toBeLessThan(TOTAL);
        const aborted = (await insertedRows(db.url)) - committed;
        perKill.push({ at: threshold, committed, recopied: aborted - cumulativeAborted, outageMs: 0 });
        cumulativeAborted = aborted;
        worker = spawnWorker(++workerNo, workerEnv);
        // Time until the copy moves again (the dead attempts' heartbeat timeout, then a retry on the new worker).
        await waitFor('the copy to move again', async () => (await committedRows(db!.url, workflowId)) > committed || (await committedRows(db!.url, workflowId)) >= TOTAL, 90_000, 50);
        perKill[perKill.length - 1]!.outageMs = Date.now() - killedAt;
      }
      const report = await within(150_000, 'the migration to finish after the kills', handle.result());
      expect(report.status).toBe('succeeded');
      tDone = Date.now();
    } catch (err) {
      console.log(`[kill-worker] last worker log ${worker.logFile}:\n${tail(worker.logFile)}`);
      throw err;
    }

    // Stop the last worker cleanly: its pool closes, its backends exit and flush their stats.
    worker.child.kill('SIGTERM');
    await within(60_000, 'the last worker to stop on SIGTERM', worker.exited).catch((err: unknown) => {
      console.log(`[kill-worker] last worker log ${worker.logFile}:\n${tail(worker.logFile)}`);
      throw err;
    });
    await waitNoWorkerBackends(db.url);
    await sleep(200);
    const inserted = await insertedRows(db.url);
    const finalRows = Number((await query(db.url, `SELECT (SELECT count(*) FROM killed.orders) + (SELECT count(*) FROM killed.events) + (SELECT count(*) FROM killed.users) AS n`))[0]!.n);
    const chunkStats = (await query(db.url, `SELECT sum(rows_copied) AS rows, sum(batches) AS batches, count(*) AS chunks FROM cutover.chunks WHERE run_id = $1`, [workflowId]))[0]!;

    const tCompare = Date.now();
    const problems = await checkTargetEqualsSource(source, db.url, workflowId, TABLES);
    expect(problems).toEqual([]);
    const compareSeconds = (Date.now() - tCompare) / 1000;
    expect(finalRows).toBe(TOTAL);
    expect(Number(chunkStats.rows)).toBe(TOTAL);

    const recopied = inserted - finalRows;
    const bound = BATCH * PARALLELISM;
    const retries = await retriedActivities(client, TABLES.map((t) => `${workflowId}/table/${t.name}`));
    const lines = [
      `[kill-worker] ${TOTAL} rows in ${TABLES.length} tables, batchSize ${BATCH}, chunkSize ${CHUNK}, parallelism ${PARALLELISM}; seed ${seed}`,
      `[kill-worker] kills survived: ${perKill.length}; worker processes: ${workerNo}`,
      ...perKill.map(
        (k, i) =>
          `[kill-worker]   kill ${i + 1}: at ≥${k.at} rows (${k.committed} committed), rows re-copied (aborted in flight) ${k.recopied}, copy stalled ${(k.outageMs / 1000).toFixed(1)} s`,
      ),
      `[kill-worker] n_tup_ins ${inserted} − final rows ${finalRows} = ${recopied} rows re-copied in total, ${(recopied / perKill.length).toFixed(0)} per kill (bound ${bound} = batchSize × parallelism)`,
      `[kill-worker] committed batches ${chunkStats.batches} in ${chunkStats.chunks} chunks; chunk attempts > 1: ${retries.length} (${retries.map((r) => `${r.summary || r.activity} #${r.attempt}: ${r.lastFailure ?? '?'}`).join('; ')})`,
      `[kill-worker] wall time ${((Date.now() - t0) / 1000).toFixed(1)} s: source built ${((tBuilt - t0) / 1000).toFixed(1)} s, run ${((tDone - tBuilt) / 1000).toFixed(1)} s (of which stalled after kills ${(perKill.reduce((x, k) => x + k.outageMs, 0) / 1000).toFixed(1)} s), value comparison ${compareSeconds.toFixed(1)} s`,
    ];
    console.log(lines.join('\n'));

    expect(perKill.length).toBe(kills);
    expect(recopied).toBeGreaterThanOrEqual(0);
    expect(recopied).toBe(perKill.reduce((s, k) => s + k.recopied, 0));
    for (const k of perKill) expect(k.recopied).toBeLessThanOrEqual(bound);
    expect(retries.length).toBeGreaterThanOrEqual(kills);
  });
});
