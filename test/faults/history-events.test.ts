// Bounded histories, with figures: a run of many tiny chunks (chunkSize 1) across
// two tables, with the continue-as-new threshold lowered (maxHistoryEvents), and
// what each history holds: events per child run, chunks per run, runs per table,
// events per chunk, and the extrapolation to a 100,000-chunk table at the defaults.
import type { Client } from '@temporalio/client';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateSqliteToPostgres } from '../../workflows';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { startTestWorker, type TestWorker } from '../helpers/worker';

const dir = tempDir('fault-history');

/** PAGE in workflows/copy-table.ts: chunks listed and run per page; continue-as-new is checked between pages. */
const PAGE = 200;
// This file measures the copy stage's paging: count validation, so no checksum stage follows the copy
// (test/workflow/controls.test.ts bounds the histories with checksums, the default).
/** Temporal's hard limit (history.maximumHistoryCount default: 51,200 events; the server warns at 10,240). */
const HARD_LIMIT = 51_200;

interface RunFigures {
  runId: string;
  events: number;
  chunks: number;
  /** Activities scheduled, by type. */
  activities: Record<string, number>;
  bytes: number;
  suggestedAt: number | null;
}

async function runsOf(client: Client, workflowId: string): Promise<RunFigures[]> {
  const out: RunFigures[] = [];
  const runIds: { runId: string; start: number }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runIds.push({ runId: wf.runId, start: wf.startTime.getTime() });
  runIds.sort((a, b) => a.start - b.start);
  for (const { runId } of runIds) {
    const h = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = h.events ?? [];
    let chunks = 0;
    const activities: Record<string, number> = {};
    let bytes = 0;
    let suggestedAt: number | null = null;
    for (const e of events) {
      const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (type) activities[type] = (activities[type] ?? 0) + 1;
      if (type === 'copyChunk') chunks++;
      const ws = e.workflowTaskStartedEventAttributes;
      if (ws) {
        bytes = Math.max(bytes, Number(ws.historySizeBytes ?? 0));
        if (ws.suggestContinueAsNew && suggestedAt === null) suggestedAt = Number(e.eventId);
      }
    }
    out.push({ runId, events: events.length, chunks, activities, bytes, suggestedAt });
  }
  return out;
}

/** Least squares events = a + e·chunks over the runs. */
function fit(runs: RunFigures[]): { a: number; e: number } {
  const n = runs.length;
  const mx = runs.reduce((s, r) => s + r.chunks, 0) / n;
  const my = runs.reduce((s, r) => s + r.events, 0) / n;
  const sxx = runs.reduce((s, r) => s + (r.chunks - mx) ** 2, 0);
  const sxy = runs.reduce((s, r) => s + (r.chunks - mx) * (r.events - my), 0);
  const e = sxx === 0 ? my / mx : sxy / sxx;
  return { a: my - e * mx, e };
}

describe('history size with many tiny chunks', () => {
  let db: TestDatabase;
  let w: TestWorker;
  beforeAll(async () => {
    db = await createTestDatabase('fault_history');
    w = await startTestWorker('fault-history', { default: db.url });
  });
  afterAll(async () => {
    await w?.stop();
    await db?.drop();
    // Sources, snapshots and server state: tens of MB per run.
    rmSync(dir, { recursive: true, force: true });
  });

  it('continues each table as new: events per history stay bounded; figures for 100,000 chunks', { timeout: 240_000 }, async () => {
    const t0 = Date.now();
    const rows = { big: 450, small: 250 };
    const source = makeSqlite(dir, 'tiny.db', `CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT);`, (d) => {
      d.transaction(() => {
        for (const [t, n] of Object.entries(rows)) {
          const ins = d.prepare(`INSERT INTO ${t} VALUES (?, ?)`);
          for (let i = 1; i <= n; i++) ins.run(i, `v${i}`);
        }
      })();
    });
    const maxHistoryEvents = 300;
    const id = `fault-history-${Date.now()}`;
    const handle = await w.client.workflow.start(migrateSqliteToPostgres, {
      taskQueue: w.taskQueue,
      workflowId: id,
      args: [{ source, targetSchema: 'tiny', batchSize: 10, chunkSize: 1, parallelism: 8, maxHistoryEvents, validation: 'count' } as Parameters<typeof migrateSqliteToPostgres>[0]],
    });
    const report = await handle.result();
    const copySeconds = (Date.now() - t0) / 1000;
    expect(report.status).toBe('succeeded');
    expect(report.totals.rows).toBe(rows.big + rows.small);

    const parent = await runsOf(w.client, id);
    const children: Record<string, RunFigures[]> = {};
    for (const t of Object.keys(rows)) children[t] = await runsOf(w.client, `${id}/table/${t}`);
    const all = Object.values(children).flat();
    const { a, e } = fit(all);

    // At the defaults (maxHistoryEvents 10,000) a run continues as new after the first page that
    // crosses the threshold; the server's continueAsNewSuggested, if it comes earlier, only shortens runs.
    const suggested = all.filter((r) => r.suggestedAt !== null);
    const pagesPerRun = Math.ceil((10_000 - a) / (PAGE * e));
    const chunksPerRun = pagesPerRun * PAGE;
    const eventsPerRun = Math.round(a + e * chunksPerRun);
    const runsFor100k = Math.ceil(100_000 / chunksPerRun);
    // The parent must not grow with the number of chunks: linear extrapolation of its events to 100,000 chunks.
    const totalChunks = rows.big + rows.small;
    const parentEvents = parent.reduce((s, r) => s + r.events, 0);
    const parentActivities: Record<string, number> = {};
    for (const r of parent) for (const [k, v] of Object.entries(r.activities)) parentActivities[k] = (parentActivities[k] ?? 0) + v;
    const perChunkActivities = Object.entries(parentActivities).filter(([, v]) => v >= totalChunks);
    const parentFor100k = Math.round(parentEvents * (100_000 / totalChunks));

    const lines = [
      `[history] ${rows.big + rows.small} chunks (chunkSize 1) in 2 tables, parallelism 8, maxHistoryEvents ${maxHistoryEvents}; copy ${copySeconds.toFixed(1)} s (${((rows.big + rows.small) / copySeconds).toFixed(0)} chunks/s)`,
      `[history] parent: ${parent.length} run(s), events ${parent.map((r) => r.events).join(', ')}; activities ${Object.entries(parentActivities)
        .map(([k, v]) => `${k} ×${v}`)
        .join(', ')}`,
      `[history] parent events per chunk ${(parentEvents / totalChunks).toFixed(2)}` +
        (perChunkActivities.length
          ? ` — the parent runs one activity per chunk (${perChunkActivities.map(([k]) => k).join(', ')}): linear extrapolation to 100,000 chunks ≈ ${parentFor100k} events in the parent history (hard limit ${HARD_LIMIT})`
          : ''),
      ...Object.entries(children).map(
        ([t, runs]) =>
          `[history] table ${t} (${rows[t as keyof typeof rows]} chunks): ${runs.length} runs; events per run ${runs.map((r) => r.events).join(', ')}; chunks per run ${runs
            .map((r) => r.chunks)
            .join(', ')}; max history size ${Math.max(...runs.map((r) => r.bytes))} bytes`,
      ),
      `[history] fit over child runs: events ≈ ${a.toFixed(1)} + ${e.toFixed(2)} × chunks (events per chunk ${e.toFixed(2)})`,
      `[history] server suggested continue-as-new in ${suggested.length} of ${all.length} child runs${suggested.map((r) => ` (at event ${r.suggestedAt})`).join('')}`,
      `[history] extrapolated, one table of 100,000 chunks at the defaults (maxHistoryEvents 10,000, page ${PAGE}): ` +
        `continue as new after ${pagesPerRun} pages = ${chunksPerRun} chunks per run, ≈ ${eventsPerRun} events per child history (hard limit ${HARD_LIMIT}), ${runsFor100k} runs of that table, ` +
        `≈ ${((eventsPerRun * Math.max(...all.map((r) => r.bytes / r.events))) / 1e6).toFixed(1)} MB per child history (limit 50 MB)`,
      `[history] wall time ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    ];
    console.log(lines.join('\n'));

    // Every child run holds at most one page past the threshold.
    for (const r of all) expect(r.events).toBeLessThan(maxHistoryEvents + Math.ceil(PAGE * e) + 50);
    for (const r of all) expect(r.chunks).toBeLessThanOrEqual(PAGE);
    expect(children.big!.length).toBe(Math.ceil(rows.big / PAGE));
    expect(children.small!.length).toBe(Math.ceil(rows.small / PAGE));
    // The parent's history must not grow with the chunks (per-chunk work belongs in the per-table children).
    expect(perChunkActivities.map(([k, v]) => `${k} ×${v} in the parent`), 'per-chunk activities in the parent history').toEqual([]);
    // (No linear extrapolation of the parent: its events are per phase and per table, not per chunk;
    // the two assertions around this line pin exactly that.)
    expect(Math.max(...parent.map((r) => r.events))).toBeLessThan(200);
    // At the defaults a 100,000-chunk table stays far below the hard limit.
    expect(eventsPerRun).toBeLessThan(HARD_LIMIT / 4);
  });
});
