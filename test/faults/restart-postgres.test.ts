// Fault injection: stop the TARGET PostgreSQL mid-copy (a dedicated embedded
// server, durable, on a fixed port), keep it down ~3 s, start it again on the
// same data folder and port. The run must complete and the target must equal
// the source; the retried chunk attempts show in the per-table child histories.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateSqliteToPostgres } from '../../workflows';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/dev/embedded-postgres';
import { getFreePort } from '../../src/dev/free-port';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { buildFaultSource, checkTargetEqualsSource, closePollers, committedRows, retriedActivities, sleep, waitFor, type SourceTable } from '../helpers/faults';
import { tempDir } from '../helpers/sqlite';
import { startTestWorker, type TestWorker } from '../helpers/worker';

const dir = tempDir('fault-pg');

const TABLES: SourceTable[] = [
  { name: 'orders', rows: 150_000 },
  { name: 'events', rows: 100_000 },
  { name: 'users', rows: 50_000 },
];
const TOTAL = TABLES.reduce((s, t) => s + t.rows, 0);

describe('fault: restart the target PostgreSQL mid-copy', () => {
  let server: EmbeddedPostgres | undefined;
  let db: TestDatabase | undefined;
  let w: TestWorker | undefined;
  let snapshotDir: string | null = null;
  afterAll(async () => {
    await closePollers();
    await w?.stop();
    await db?.drop().catch(() => undefined);
    await server?.stop();
    // Sources, snapshots and server state: tens of MB per run.
    rmSync(dir, { recursive: true, force: true });
    if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
  });

  it('waits PostgreSQL out (retries with backoff), completes, target = source', { timeout: 240_000 }, async () => {
    const t0 = Date.now();
    const dataDir = path.join(dir, 'data');
    const port = await getFreePort();
    const log = (m: string) => console.log(`[restart-postgres] ${m}`);
    server = await startEmbeddedPostgres({ dataDir, port, durable: true, log });
    db = await createTestDatabase('fault_pg', server.url);
    w = await startTestWorker('fault-pg', { default: db.url });
    const source = buildFaultSource(dir, 'pg.db', TABLES);

    const workflowId = `fault-pg-${Date.now()}`;
    const handle = await w.client.workflow.start(migrateSqliteToPostgres, {
      taskQueue: w.taskQueue,
      workflowId,
      args: [{ source, targetSchema: 'restarted', batchSize: 1000, chunkSize: 50_000, parallelism: 2 }],
    });

    const threshold = Math.floor(TOTAL * 0.25);
    await waitFor(`${threshold} committed rows`, async () => (await committedRows(db!.url, workflowId)) >= threshold, 90_000, 15);
    const before = await committedRows(db.url, workflowId);
    const stopAt = Date.now();
    await server.stop();
    const stoppedAt = Date.now();
    await sleep(3000);
    server = await startEmbeddedPostgres({ dataDir, port, durable: true, log });
    const upAt = Date.now();
    // The copy moves again once a retried attempt gets through.
    await waitFor('the copy to move again', async () => (await committedRows(db!.url, workflowId)) > before, 90_000, 50);
    const movingAt = Date.now();

    const report = await handle.result();
    expect(report.status).toBe('succeeded');
    expect(before).toBeLessThan(TOTAL);
    // The run's snapshot lives in the shared test worker's work folder: <workDir>/<runId>/source.db.
    if (report.snapshot && path.basename(path.dirname(report.snapshot.path)) === workflowId) snapshotDir = path.dirname(report.snapshot.path);

    const problems = await checkTargetEqualsSource(source, db.url, workflowId, TABLES);
    expect(problems).toEqual([]);

    const retries = await retriedActivities(w.client, [workflowId, ...TABLES.map((t) => `${workflowId}/table/${t.name}`)]);
    console.log(
      [
        `[restart-postgres] stopped at ${before}/${TOTAL} committed rows; stop took ${((stoppedAt - stopAt) / 1000).toFixed(1)} s, ` +
          `PostgreSQL down ${((upAt - stoppedAt) / 1000).toFixed(1)} s (3 s wait + restart), outage (stop → up) ${((upAt - stopAt) / 1000).toFixed(1)} s, ` +
          `copy stalled ${((movingAt - stopAt) / 1000).toFixed(1)} s (stop → first new commit)`,
        `[restart-postgres] activity attempts > 1 seen in the histories: ${retries.length}`,
        ...retries.map((r) => `[restart-postgres]   ${r.workflowId.slice(workflowId.length) || '(parent)'} ${r.activity} ${r.summary} attempt ${r.attempt}: ${r.lastFailure ?? ''}`),
        `[restart-postgres] wall time ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      ].join('\n'),
    );
    expect(retries.length).toBeGreaterThan(0);
    // Readable from the history: each retried chunk's last failure names the table, chunk and key range, and the cause.
    for (const r of retries.filter((x) => x.activity === 'copyChunk')) {
      expect(r.lastFailure).toMatch(/^copy of table \w+, chunk \d+ \(id [^)]+\) failed: .*(ECONNREFUSED|57P01|terminat|Connection)/i);
    }
  });
});
