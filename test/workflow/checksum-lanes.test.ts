// Issue 6: a table's checksum stage runs as many chunks at once as its current share of the
// parallelism: a share that grows mid-page (other tables finished) is used at once, not from the
// next page of 200 chunks (before, a page kept the lanes it started with: one, for a whole table).
//
// Orchestration only: the workflow is the real one on the real dev server; its checksum activity
// is replaced by one that holds each chunk until the test lets it go, so "how many at once" can be
// read exactly (the real checksums are tested in test/unit/checksum.test.ts and the migrate tests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { copyTable, type CopyTableInput } from '../../workflows/copy-table';
import { tableParallelismSignal } from '../../workflows/api';
import { testEnv } from '../helpers/env';
import { workflowBundle } from '../helpers/worker';

const CHUNKS = 6;

let client: Client;
let connection: Connection;
let native: NativeConnection;
let worker: Worker;
let running: Promise<void>;
const taskQueue = testEnv().taskQueue('checksum-lanes');

/** Chunks whose checksum is running now, the most at once, and the gates holding them. */
let now = 0;
let most = 0;
const started: number[] = [];
const gates = new Map<number, () => void>();

beforeAll(async () => {
  const env = testEnv();
  native = await NativeConnection.connect({ address: env.temporalAddress });
  worker = await Worker.create({
    connection: native,
    namespace: env.namespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      async checksumChunk(args: { table: string; chunkNo: number }) {
        now++;
        most = Math.max(most, now);
        started.push(args.chunkNo);
        await new Promise<void>((release) => gates.set(args.chunkNo, release));
        now--;
        return { table: args.table, chunkNo: args.chunkNo, rows: 1, targetRows: 1, sourceHash: 'h', targetHash: 'h', ok: true, differences: [], seconds: 0 };
      },
    },
  });
  running = worker.run();
  connection = await Connection.connect({ address: env.temporalAddress });
  client = new Client({ connection, namespace: env.namespace });
});

afterAll(async () => {
  for (const release of gates.values()) release();
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running?.catch(() => undefined);
  await native?.close();
  await connection?.close();
});

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (started: ${started.join(', ')}; running now: ${now})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('checksum stage of a table', () => {
  it('runs a second chunk as soon as the table’s share grows from 1 to 2, in the middle of a page', async () => {
    const input: CopyTableInput = {
      runId: 'lanes',
      target: 'default',
      table: 't',
      key: { kind: 'rowid', columns: ['id'], display: ['id'] },
      rows: CHUNKS,
      chunkCount: CHUNKS,
      source: '/nonexistent.db',
      fingerprint: null,
      batchSize: 1,
      parallelism: 1,
      paused: false,
      maxHistoryEvents: 10_000,
      // The copy and the keys are done: the workflow goes straight to the checksums.
      nextChunkNo: CHUNKS,
      keysDone: true,
      done: { rows: CHUNKS, rejects: 0, chunks: CHUNKS, seconds: 0 },
      validation: 'checksum',
      checksumNext: 0,
    };
    const handle = await client.workflow.start(copyTable, { taskQueue, workflowId: `checksum-lanes-${Date.now()}`, args: [input] });

    await until('chunk 0', () => gates.has(0));
    // Share 1: chunk 0 alone, however long it takes.
    await new Promise((r) => setTimeout(r, 500));
    expect(started).toEqual([0]);

    await handle.signal(tableParallelismSignal, 2);
    await until('a second chunk beside chunk 0', () => started.length === 2);
    expect(started).toEqual([0, 1]);
    expect(now).toBe(2);

    // Two at a time from here to the end of the page.
    for (let chunk = 0; chunk < CHUNKS; chunk++) {
      await until(`chunk ${chunk}`, () => gates.has(chunk));
      gates.get(chunk)!();
    }
    const result = await handle.result();
    expect(result).toMatchObject({ table: 't', rows: CHUNKS, aborted: false });
    expect([...started].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(2);
  });
});
