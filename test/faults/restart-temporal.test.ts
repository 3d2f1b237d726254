// Fault injection: stop the Temporal server mid-run (a dedicated dev server with
// persisted state on a fixed port), keep it down ~3 s, start it again on the same
// port and state file. The run started before the restart must complete, the
// target must equal the source, and the SAME worker must carry on (the SDK
// reconnects): it is not recreated.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultDeps, type ActivityDeps } from '../../activities/deps';
import { getFreePorts } from '../../src/dev/free-port';
import { startTemporalDevServer, type TemporalDevServer } from '../../src/dev/temporal-server';
import { createWorker } from '../../src/worker';
import { migrateSqliteToPostgres } from '../../workflows';
import { progressQuery } from '../../workflows/api';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { buildFaultSource, checkTargetEqualsSource, closePollers, committedRows, retriedActivities, sleep, waitFor, type SourceTable } from '../helpers/faults';
import { tempDir } from '../helpers/sqlite';
import { workflowBundle } from '../helpers/worker';

const dir = tempDir('fault-temporal');

const TABLES: SourceTable[] = [
  { name: 'orders', rows: 150_000 },
  { name: 'events', rows: 100_000 },
  { name: 'users', rows: 50_000 },
];
const TOTAL = TABLES.reduce((s, t) => s + t.rows, 0);

describe('fault: restart the Temporal server mid-run', () => {
  let server: TemporalDevServer | undefined;
  let db: TestDatabase | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let nativeConnection: NativeConnection | undefined;
  let connection: Connection | undefined;
  let deps: ActivityDeps | undefined;
  afterAll(async () => {
    await closePollers();
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await deps?.pools.closeAll();
    await nativeConnection?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await server?.stop();
    await db?.drop();
    // Sources, snapshots and server state: tens of MB per run.
    rmSync(dir, { recursive: true, force: true });
  });

  it('the run started before the restart completes, with the same worker', { timeout: 240_000 }, async () => {
    const t0 = Date.now();
    const stateDir = path.join(dir, 'state');
    const [port, uiPort] = await getFreePorts(2);
    const log = (m: string) => console.log(`[restart-temporal] ${m}`);
    const serverOpts = { stateDir, port: port!, uiPort: uiPort!, ui: false, persist: true, log };
    server = await startTemporalDevServer(serverOpts);

    db = await createTestDatabase('fault_temporal');
    deps = defaultDeps({ default: db.url }, path.join(dir, 'work'));
    nativeConnection = await NativeConnection.connect({ address: server.address });
    const taskQueue = `fault-temporal-${process.pid}`;
    worker = await createWorker({ connection: nativeConnection, namespace: 'default', taskQueue, deps, workflowBundle: await workflowBundle() });
    let workerError: unknown = null;
    running = worker.run().catch((err: unknown) => {
      workerError = err;
    });
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    const source = buildFaultSource(dir, 'temporal.db', TABLES);

    const workflowId = `fault-temporal-${Date.now()}`;
    const handle = await client.workflow.start(migrateSqliteToPostgres, {
      taskQueue,
      workflowId,
      // Small batches, large chunks: in-flight chunks outlast the outage (their heartbeats fail meanwhile),
      // and the remaining chunks must be scheduled after it.
      args: [{ source, targetSchema: 'restarted', batchSize: 500, chunkSize: 100_000, parallelism: 2 }],
    });

    const threshold = Math.floor(TOTAL * 0.2);
    await waitFor(`${threshold} committed rows`, async () => (await committedRows(db!.url, workflowId)) >= threshold, 90_000, 15);
    const before = await committedRows(db.url, workflowId);
    const stopAt = Date.now();
    await server.stop();
    const stoppedAt = Date.now();
    await sleep(3000);
    const duringOutage = await committedRows(db.url, workflowId);
    server = await startTemporalDevServer(serverOpts);
    const upAt = Date.now();

    // The same handle (same client connection) answers again.
    await waitFor('a progress query after the restart', async () => {
      try {
        await handle.query(progressQuery);
        return true;
      } catch {
        return false;
      }
    }, 60_000, 250);
    const queryAt = Date.now();
    const report = await handle.result();
    expect(report.status).toBe('succeeded');
    expect(before).toBeLessThan(TOTAL);
    expect(workerError).toBeNull();
    expect(worker.getState()).toBe('RUNNING');

    const problems = await checkTargetEqualsSource(source, db.url, workflowId, TABLES);
    expect(problems).toEqual([]);
    const retries = await retriedActivities(client, [workflowId, ...TABLES.map((t) => `${workflowId}/table/${t.name}`)]);
    console.log(
      [
        `[restart-temporal] stopped at ${before}/${TOTAL} committed rows; stop took ${((stoppedAt - stopAt) / 1000).toFixed(1)} s, ` +
          `server down ${((upAt - stoppedAt) / 1000).toFixed(1)} s (3 s wait + restart), first query answered ${((queryAt - stopAt) / 1000).toFixed(1)} s after the stop`,
        `[restart-temporal] rows committed while Temporal was stopping/down (in-flight chunks go on): ${duringOutage - before} (${before} → ${duringOutage})`,
        `[restart-temporal] the worker survived the outage (state ${worker.getState()}, not recreated)`,
        `[restart-temporal] activity attempts > 1: ${retries.length}${retries.map((r) => `\n[restart-temporal]   ${r.activity} ${r.summary} attempt ${r.attempt}: ${r.lastFailure ?? ''}`).join('')}`,
        `[restart-temporal] wall time ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      ].join('\n'),
    );
  });
});
