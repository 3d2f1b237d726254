// The `cutover` command as an operator runs it: real processes (`node
// bin/cutover.js …`) against the test Temporal server, with a worker started
// here on a task queue of its own that knows the target databases by name.
// Some controls are driven through their exported command functions (faster,
// and their output is captured); the gate test runs them as processes.
import { spawn } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortCommand, pauseCommand, resumeCommand, setParallelismCommand } from '../../src/cli/commands/control';
import { CliError, ExitCode } from '../../src/cli/exit-codes';
import { resolveConfig, type Config } from '../../src/config';
import type { MigrationReport, Progress } from '../../src/types';
import { progressQuery } from '../../workflows/api';
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolveTemporalBinary } from '../../src/dev/temporal-binary';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testEnv } from '../helpers/env';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { startTestWorker, type TestWorker } from '../helpers/worker';

const ROOT = path.join(__dirname, '..', '..');
const env = testEnv();
const dir = tempDir('cli');
const quiet = () => undefined;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cutover(args: string[], opts: { timeoutMs?: number } = {}): { done: Promise<Run>; kill(): void } {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'cutover.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: env.temporalAddress, TEMPORAL_NAMESPACE: env.namespace, CUTOVER_TARGET_URL: '', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
  const done = new Promise<Run>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { done, kill: () => child.kill('SIGTERM') };
}

const run = (args: string[]) => cutover(args).done;

let worker: TestWorker;
const dbs: Record<string, TestDatabase> = {};
let small: string;
let big: string;
let cfg: Config;

async function tables(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)).rows.map((r) => r.t);
  } finally {
    await c.end();
  }
}

interface StatusJson {
  runId: string;
  status: string;
  progress: { phase: string; tables: { table: string; rowsDone: number; rowsTotal: number }[] };
  inFlightRows: Record<string, number>;
}

async function status(runId: string): Promise<StatusJson> {
  const r = await run(['status', runId, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusJson;
}

/** The progress query straight from the client: fast enough to catch a run mid-copy. */
async function progress(runId: string): Promise<Progress> {
  return worker.client.workflow.getHandle(runId).query(progressQuery);
}

const rowsDone = (s: StatusJson) => s.progress.tables.reduce((n, t) => n + t.rowsDone, 0) + Object.values(s.inFlightRows).reduce((n, v) => n + v, 0);

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  for (const name of ['ok', 'rej', 'big', 'abort', 'gate']) dbs[name] = await createTestDatabase(`cli_${name}`);
  worker = await startTestWorker('cli', Object.fromEntries(Object.entries(dbs).map(([k, d]) => [k, d.url])));
  cfg = resolveConfig({ temporalAddress: env.temporalAddress, namespace: env.namespace, taskQueue: worker.taskQueue }, {});
  small = makeSqlite(dir, 'small.db', `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL);
    INSERT INTO items (name, price) VALUES ('a', 1.5), ('b', 2.25), ('ü', NULL);`);
  big = makeSqlite(
    dir,
    'big.db',
    `CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, n INTEGER);
     WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000)
     INSERT INTO events SELECT x, 'event number ' || x, x * 7 FROM c;`,
  );
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  for (const d of Object.values(dbs)) await d.drop().catch(() => undefined);
});

describe('cutover migrate (spawned)', () => {
  it('migrates and prints a JSON report, exit 0', async () => {
    const r = await run(['migrate', '--source', small, '--target', 'ok', '--task-queue', worker.taskQueue, '--json', '--workflow-id', `cli-ok-${worker.taskQueue}`]);
    expect(r.code, r.stderr).toBe(ExitCode.Success);
    const out = JSON.parse(r.stdout) as { ok: boolean; exitCode: number; report: MigrationReport };
    expect(out).toMatchObject({ ok: true, exitCode: 0 });
    expect(out.report.status).toBe('succeeded');
    expect(out.report.tables).toEqual([expect.objectContaining({ table: 'items', sourceRows: 3, targetRows: 3, rejectedRows: 0 })]);
    expect(await tables(dbs.ok!.url)).toContain('items');
  });

  it('exits 4 when a value is rejected (text with a NUL byte), and rolls back', async () => {
    const src = makeSqlite(dir, 'nul.db', `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
      INSERT INTO notes VALUES (1, 'fine'), (2, CAST(x'610062' AS TEXT)), (3, 'also fine');`);
    const r = await run(['migrate', '--source', src, '--target', 'rej', '--task-queue', worker.taskQueue, '--json']);
    expect(r.code, r.stderr).toBe(ExitCode.RejectsPresent);
    const out = JSON.parse(r.stdout) as { ok: boolean; message: string; report: MigrationReport | null };
    expect(out.ok).toBe(false);
    expect(out.message).toMatch(/reject/i);
    expect(out.report?.totals.rejects).toBe(1);
    expect(await tables(dbs.rej!.url)).not.toContain('notes');
  });

  it('exits 2 with a readable message when the source does not exist', async () => {
    const r = await run(['migrate', '--source', path.join(dir, 'nope.db'), '--target', 'ok', '--task-queue', worker.taskQueue]);
    expect(r.code).toBe(ExitCode.BadInput);
    expect(r.stdout + r.stderr).toMatch(/does not exist/);
    expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace without --verbose
  });
});

describe('start, status, pause, resume, abort', () => {
  it('start prints the run id; status --json shows progress; pause holds it still; resume completes it', async () => {
    const runId = `cli-big-${worker.taskQueue}`;
    const started = await run(['start', '--source', big, '--target', 'big', '--task-queue', worker.taskQueue, '--batch-size', '500', '--chunk-size', '20000', '--parallelism', '1', '--workflow-id', runId, '--json']);
    expect(started.code, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout)).toEqual({ runId });

    await until('the copy phase', () => progress(runId), (p) => p.phase === 'copy', 60_000);
    const out: string[] = [];
    expect(await pauseCommand(cfg, runId, { json: true }, quiet, { out: (t) => out.push(t) })).toBe(0);
    expect(JSON.parse(out[0]!)).toMatchObject({ runId, action: 'pause', ok: true, status: 'RUNNING' });
    const copying = await status(runId);
    expect(copying.status).toBe('RUNNING');
    expect(['copy', 'paused']).toContain(copying.progress.phase);
    expect(copying.progress.tables).toEqual([expect.objectContaining({ table: 'events', rowsTotal: 300_000 })]);

    // In-flight chunks stop after their current batch: give them a moment, then nothing moves.
    await new Promise((r) => setTimeout(r, 3000));
    const a = await status(runId);
    await new Promise((r) => setTimeout(r, 3000));
    const b = await status(runId);
    expect(b.status).toBe('RUNNING');
    expect(rowsDone(b)).toBe(rowsDone(a));
    expect(rowsDone(b)).toBeLessThan(300_000);

    expect(await setParallelismCommand(cfg, runId, 2, { json: true }, quiet, { out: (t) => out.push(t) })).toBe(0);
    expect(JSON.parse(out[1]!)).toMatchObject({ action: 'set-parallelism', previousParallelism: 1 });
    await expect(setParallelismCommand(cfg, runId, 0, {}, quiet, { out: quiet })).rejects.toThrow(/1 to 64/);

    expect(await resumeCommand(cfg, runId, { json: true }, quiet, { out: (t) => out.push(t) })).toBe(0);
    const report = (await worker.client.workflow.getHandle(runId).result()) as MigrationReport;
    expect(report.status).toBe('succeeded');
    expect(report.totals.rows).toBe(300_000);
    const done = await status(runId);
    expect(done.status).toBe('COMPLETED');

    // Controls on a finished run: exit 2 with the next step.
    const err = await pauseCommand(cfg, runId, {}, quiet, { out: quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(ExitCode.BadInput);
    expect((err as CliError).message).toMatch(/COMPLETED, not running.*start a new run/);
  }, 150_000);

  it('abort rolls the run back and the watching `cutover migrate` exits 5', async () => {
    const runId = `cli-abort-${worker.taskQueue}`;
    const watcher = cutover(['migrate', '--source', big, '--target', 'abort', '--task-queue', worker.taskQueue, '--batch-size', '500', '--chunk-size', '20000', '--parallelism', '1', '--workflow-id', runId, '--json'], { timeoutMs: 120_000 });
    await until('the copy phase', () => progress(runId), (p) => p.phase === 'copy', 60_000);
    const out: string[] = [];
    expect(await abortCommand(cfg, runId, { json: true, reason: 'test: wrong source' }, quiet, { out: (t) => out.push(t) })).toBe(0);
    expect(JSON.parse(out[0]!)).toMatchObject({ action: 'abort', ok: true });
    const r = await watcher.done;
    expect(r.code, r.stderr).toBe(ExitCode.Aborted);
    const result = JSON.parse(r.stdout) as { ok: boolean; message: string };
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/test: wrong source/);
    expect(await tables(dbs.abort!.url)).not.toContain('events');
  }, 150_000);

  it('a run that does not exist: exit 2 with how to list runs', async () => {
    const err = await abortCommand(cfg, 'no-such-run-xyz', {}, quiet, { out: quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(ExitCode.BadInput);
    expect((err as CliError).message).toMatch(/no run no-such-run-xyz.*temporal workflow list/);
    const r = await run(['status', 'no-such-run-xyz', '--json']);
    expect(r.code).toBe(ExitCode.BadInput);
  });
});

describe('the cutover gate from `cutover` and `temporal`', () => {
  it('approve with `cutover approve`; the source changed: rerun-changed refused before the choice, then `temporal workflow signal` reruns and approves', async () => {
    const runId = `cli-gate-${worker.taskQueue}`;
    const src = makeSqlite(dir, 'gate.db', `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO items (name) VALUES ('a'), ('b');`);
    const temporal = (await resolveTemporalBinary()).path;
    const signal = (name: string) =>
      promisify(execFile)(temporal, ['workflow', 'signal', '--workflow-id', runId, '--name', name, '--address', env.temporalAddress, '--namespace', env.namespace]);

    const started = await run(['start', '--source', src, '--target', 'gate', '--task-queue', worker.taskQueue, '--require-approval', '--workflow-id', runId]);
    expect(started.code, started.stderr).toBe(0);
    const gate = await until('the approval gate', () => progress(runId), (p) => p.phase === 'awaiting approval', 60_000);
    expect(gate.awaitingApproval?.tables).toEqual([expect.objectContaining({ table: 'items', targetRows: 2, ok: true })]);

    const early = await run(['rerun-changed', runId]);
    expect(early.code).toBe(ExitCode.BadInput);
    expect(early.stderr).toMatch(/not waiting for a choice about a changed source/);

    const app = new Database(src);
    app.prepare(`INSERT INTO items (name) VALUES ('written after the snapshot')`).run();
    app.close();
    const approved = await run(['approve', runId, '--json']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ action: 'approve', ok: true });

    const changed = await until('the source-changed choice', () => progress(runId), (p) => p.phase === 'source changed' && Boolean(p.sourceChanged), 60_000);
    expect(changed.sourceChanged?.tables).toEqual([{ table: 'items', detail: expect.stringMatching(/1 row\(s\) more \(2 at the snapshot, 3 now\)/) }]);
    const shown = await status(runId);
    expect(shown.progress.phase).toBe('source changed');

    await signal('rerunChanged');
    await until('the gate again', () => progress(runId), (p) => p.phase === 'awaiting approval', 60_000);
    await signal('approve');
    const report = (await worker.client.workflow.getHandle(runId).result()) as MigrationReport;
    expect(report.tables).toEqual([expect.objectContaining({ table: 'items', sourceRows: 3, targetRows: 3 })]);
    expect(await tables(dbs.gate!.url)).toContain('items');
  }, 150_000);
});

describe('the process the CLI runs in (bin/cutover.js)', () => {
  /** Spawns `cutover worker` on a task queue of its own; resolves once the relayed process serves it. */
  async function startWorkerProcess(): Promise<{ parent: ReturnType<typeof spawn>; childPid: number; out: () => string; exited: Promise<number | null> }> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS: env.temporalAddress, TEMPORAL_NAMESPACE: env.namespace, CUTOVER_TASK_QUEUE: `relay-${Date.now()}`, FORCE_COLOR: '0' };
    delete childEnv.MALLOC_ARENA_MAX;
    delete childEnv.CUTOVER_MALLOC_ARENAS;
    const parent = spawn(process.execPath, [path.join(ROOT, 'bin', 'cutover.js'), 'worker'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    parent.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    parent.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => parent.on('exit', (code) => resolve(code)));
    await until('the worker to serve', async () => out, (o) => o.includes('worker serving task queue') && /"pid":\d+/.test(o), 60_000);
    const m = /"pid":(\d+)/.exec(out);
    const childPid = m ? Number(m[1]) : NaN;
    return { parent, childPid, out: () => out, exited };
  }

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('runs once more with MALLOC_ARENA_MAX=2, relays SIGTERM (graceful stop, exit 0) and the exit code', async () => {
    const w = await startWorkerProcess();
    expect(w.childPid).not.toBe(w.parent.pid);
    expect(alive(w.childPid)).toBe(true);
    const environ = (await import('node:fs')).readFileSync(`/proc/${w.childPid}/environ`, 'utf8').split('\0');
    expect(environ).toContain('MALLOC_ARENA_MAX=2');
    w.parent.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(w.out()).toContain('worker stopped');
    expect(alive(w.childPid)).toBe(false);
  });

  it('the relayed process dies with the first one when that is killed outright (SIGKILL still means stop now)', async () => {
    const w = await startWorkerProcess();
    w.parent.kill('SIGKILL');
    await w.exited;
    await until('the relayed process to stop', async () => alive(w.childPid), (a) => a === false, 30_000);
  });
});
