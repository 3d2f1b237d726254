// copyTable: one table's copy, as a child workflow, so a table's story is one
// history an on-call can open. Pages through the chunks stored in
// cutover.chunks and continues as new before its history grows large.
import {
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { rangeText } from '../src/keys';
import type { SourceFingerprint } from '../src/sqlite/snapshot';
import type { ChunkPlan, KeyPlan } from '../src/types';
import { abortSignal, pauseSignal, resumeSignal, tableParallelismSignal, tableProgressSignal } from './api';
import { copyStep, shortStep } from './profiles';

const copy = proxyActivities<Activities>(copyStep);
const short = proxyActivities<Activities>(shortStep);

/** Chunks fetched (and run) per page. */
const PAGE = 200;

export interface CopyTableInput {
  runId: string;
  target: string;
  table: string;
  key: KeyPlan;
  rows: number;
  chunkCount: number;
  source: string;
  fingerprint: SourceFingerprint | null;
  batchSize: number;
  parallelism: number;
  paused: boolean;
  /** Continue-as-new after this many history events (tests lower it). */
  maxHistoryEvents: number;
  /** Where a continued run picks up, and what earlier runs of this table did. */
  nextChunkNo: number;
  done: { rows: number; rejects: number; chunks: number; seconds: number };
}

export interface CopyTableResult {
  table: string;
  rows: number;
  rejects: number;
  chunks: number;
  seconds: number;
  aborted: boolean;
}

export async function copyTable(input: CopyTableInput): Promise<CopyTableResult> {
  const state = { parallelism: input.parallelism, paused: input.paused, aborted: false, changed: 0 };
  setHandler(tableParallelismSignal, (n: number) => {
    state.parallelism = Math.max(1, Math.floor(n));
    state.changed++;
  });
  setHandler(pauseSignal, () => {
    state.paused = true;
    state.changed++;
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
    state.changed++;
  });
  setHandler(abortSignal, () => {
    state.aborted = true;
    state.changed++;
  });

  const done = { ...input.done };
  let next = input.nextChunkNo;
  while (next < input.chunkCount && !state.aborted) {
    const page = await short.listChunks({ runId: input.runId, target: input.target, table: input.table, fromChunkNo: next, limit: PAGE });
    if (page.length === 0) break;
    await runPage(page, input, state, done);
    const parent = workflowInfo().parent;
    if (parent) {
      // Progress is informative: a parent between runs (continue-as-new) may miss one.
      await getExternalWorkflowHandle(parent.workflowId)
        .signal(tableProgressSignal, { table: input.table, rows: done.rows, rejects: done.rejects, chunks: done.chunks })
        .catch(() => undefined);
    }
    if (state.aborted) break;
    next = page[page.length - 1]!.chunkNo + 1;
    const info = workflowInfo();
    if (next < input.chunkCount && (info.continueAsNewSuggested || info.historyLength > input.maxHistoryEvents)) {
      await continueAsNew<typeof copyTable>({ ...input, nextChunkNo: next, done, parallelism: state.parallelism, paused: state.paused });
    }
  }
  return { table: input.table, ...done, aborted: state.aborted };
}

async function runPage(
  page: ChunkPlan[],
  input: CopyTableInput,
  state: { parallelism: number; paused: boolean; aborted: boolean; changed: number },
  done: CopyTableInput['done'],
): Promise<void> {
  const queue = [...page];
  const inFlight = new Map<number, CancellationScope>();
  let failure: unknown = null;
  let settled = 0;

  const start = (chunk: ChunkPlan) => {
    const scope = new CancellationScope();
    inFlight.set(chunk.chunkNo, scope);
    scope
      .run(() =>
        copy.copyChunk.executeWithOptions({ ...copyStep, summary: `copy ${input.table} ${rangeText(input.key, chunk)}` }, [
          { runId: input.runId, target: input.target, chunk, batchSize: input.batchSize, source: input.source, fingerprint: input.fingerprint },
        ]),
      )
      .then((r) => {
        done.rows += r.rows;
        done.rejects += r.rejects;
        done.chunks++;
        done.seconds += r.seconds;
      })
      .catch((err: unknown) => {
        // Paused or aborted: the chunk stopped after a committed batch; run it again later.
        if (isCancellation(err) && (state.paused || state.aborted)) queue.unshift(chunk);
        else failure ??= err;
      })
      .finally(() => {
        inFlight.delete(chunk.chunkNo);
        settled++;
      });
  };

  let seen = state.changed;
  for (;;) {
    if (failure !== null || state.aborted) break;
    if (state.paused) for (const s of inFlight.values()) s.cancel();
    else while (queue.length > 0 && inFlight.size < state.parallelism) start(queue.shift()!);
    if (queue.length === 0 && inFlight.size === 0) break;
    const before = settled;
    await condition(() => settled !== before || state.changed !== seen);
    seen = state.changed;
  }
  for (const s of inFlight.values()) s.cancel();
  await condition(() => inFlight.size === 0);
  if (failure !== null) throw failure;
}
