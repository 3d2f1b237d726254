// The worker's Prometheus endpoint: the SDK's own metrics and ours, after a
// real (small) migration. Installing the Temporal Runtime is process-global,
// so this file has the process to itself (vitest runs each file in its own fork).
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { defaultDeps } from '../../activities/deps';
import { getFreePort } from '../../src/dev/free-port';
import { JsonLogger } from '../../src/observability/log';
import { METRICS, installRuntime, instrumentActivities } from '../../src/observability/metrics';
import type { MigrationReport } from '../../src/types';
import { migrateSqliteToPostgres } from '../../workflows';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testEnv } from '../helpers/env';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { workflowBundle } from '../helpers/worker';

const lines: string[] = [];
let metricsUrl: string;
let db: TestDatabase;

async function scrape(): Promise<string> {
  const res = await fetch(metricsUrl);
  expect(res.status).toBe(200);
  return res.text();
}

/** Sum of one metric's samples (all label sets). */
function total(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([0-9.eE+-]+)$/);
    if (m && m[1] === name) sum += Number(m[3]);
  }
  return sum;
}

beforeAll(async () => {
  const port = await getFreePort();
  const installed = installRuntime(
    { metricsPort: port, metricsHost: '127.0.0.1', logLevel: 'info' },
    { logger: new JsonLogger({ level: 'INFO', write: (l) => lines.push(l) }) },
  );
  metricsUrl = installed.metricsUrl!;
  db = await createTestDatabase('observability');
});

afterAll(async () => {
  await db?.drop();
});

describe('Core log lines', () => {
  it('are forwarded to our JSON logger (stderr): printed by Core they would land on stdout, inside `--json` output', () => {
    const options = Runtime.instance().options.runtimeOptions as unknown as { logExporter: { type: string } };
    expect(options.logExporter.type).toBe('forward');
  });
});

describe('Prometheus endpoint', () => {
  it('serves the SDK metrics and ours after a migration', async () => {
    const env = testEnv();
    const source = makeSqlite(tempDir('metrics'), 'm.db', `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE u (id INTEGER PRIMARY KEY, w TEXT);`, (d) => {
      const ins = d.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
      for (let i = 1; i <= 2500; i++) ins.run(i, `v${i}`);
      d.prepare(`INSERT INTO u (id, w) VALUES (1, 'ok'), (2, CAST(x'610062' AS TEXT))`).run();
    });
    const taskQueue = env.taskQueue('metrics');
    const deps = defaultDeps({ default: db.url });
    const native = await NativeConnection.connect({ address: env.temporalAddress });
    const worker = await Worker.create({
      connection: native,
      namespace: env.namespace,
      taskQueue,
      activities: instrumentActivities(createActivities(deps)),
      workflowBundle: await workflowBundle(),
    });
    const running = worker.run();
    const connection = await Connection.connect({ address: env.temporalAddress });
    const client = new Client({ connection, namespace: env.namespace });
    try {
      const report = (await client.workflow.execute(migrateSqliteToPostgres, {
        taskQueue,
        workflowId: `metrics-${taskQueue}`,
        args: [{ source, target: 'default', batchSize: 500, chunkSize: 1000, allowRejects: true }],
      })) as MigrationReport;
      expect(report.status).toBe('succeeded');
      expect(report.totals.rejects).toBe(1);

      // The SDK exports on an interval: poll until our counters are there.
      let text = '';
      const deadline = Date.now() + 20_000;
      for (;;) {
        text = await scrape();
        if (total(text, METRICS.rowsCopied) >= 2501 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      // The SDK's own metrics (Core prefixes them with temporal_).
      expect(text).toMatch(/^temporal_workflow_completed\{/m);
      expect(text).toMatch(/^temporal_activity_execution_latency_(bucket|sum|count)\{/m);
      // Ours: every source row is either copied or rejected, counted once.
      expect(total(text, METRICS.rowsCopied)).toBe(2501);
      expect(total(text, METRICS.rowsRejected)).toBe(1);
      expect(total(text, METRICS.chunksCompleted)).toBe(4); // t: 3 chunks of ≤1000, u: 1
      expect(total(text, METRICS.batchesCommitted)).toBeGreaterThanOrEqual(6);
      expect(text).toMatch(new RegExp(`^${METRICS.chunkDuration}_count\\{[^}]*table="t"`, 'm'));
      expect(text).toMatch(new RegExp(`^${METRICS.rowsCopied}\\{[^}]*taskQueue="${taskQueue}"`, 'm'));

      // Structured logs: one JSON object per line, with the run id, table and chunk, no secrets.
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const chunkDone = parsed.find((l) => l.msg === 'copyChunk done' && l.table === 't');
      expect(chunkDone).toMatchObject({ level: 'info', runId: `metrics-${taskQueue}`, table: 't' });
      expect(typeof chunkDone!.chunk).toBe('number');
      const password = new URL(db.url).password;
      if (password) expect(lines.join('')).not.toContain(`:${password}@`);
    } finally {
      worker.shutdown();
      await running;
      await deps.pools.closeAll();
      await native.close();
      await connection.close();
    }
  });
});
