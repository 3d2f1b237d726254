// copyTable: one table's copy, as a child workflow, so a table's story is one
// history an on-call can open. Pages through the chunks stored in
// cutover.chunks and continues as new before its history grows large.
import {
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { rangeText } from '../src/keys';
import type { SourceFingerprint } from '../src/sqlite/snapshot';
import type { ChunkPlan, KeyPlan } from '../src/types';
import { abortSignal, pauseSignal, resumeSignal, tableParallelismSignal, tableProgressSignal } from './api';
import { copyStep, ddlStep, longStep, shortStep } from './profiles';
import { checksumMode } from '../src/validate/mode';

const copy = proxyActivities<Activities>(copyStep);
const short = proxyActivities<Activities>(shortStep);
const long = proxyActivities<Activities>(longStep);
const ddl = proxyActivities<Activities>(ddlStep);

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
  /** Content checksums of this table after its copy (and its keys), or only counts. */
  validation?: 'count' | 'checksum';
  /** Checksum stage: the next chunk to check (continue-as-new carries it). */
  checksumNext?: number;
  /** Warnings of earlier runs of this table's workflow. */
  warnings?: string[];
  /** The table's keys were built by an earlier run. */
  keysDone?: boolean;
  /** Planned from a sample: confirmed (or re-created and copied again) after the copy, before its keys. */
  speculative?: boolean;
}

export interface CopyTableResult {
  table: string;
  rows: number;
  rejects: number;
  chunks: number;
  seconds: number;
  aborted: boolean;
  warnings?: string[];
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
  const warnings = [...(input.warnings ?? [])];
  const copyFrom = async (first: number): Promise<void> => {
    let next = first;
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
        await continueAsNew<typeof copyTable>({ ...input, nextChunkNo: next, done, parallelism: state.parallelism, paused: state.paused, warnings });
      }
    }
  };
  await copyFrom(input.nextChunkNo);
  // patched: only tables planned from a sample take this step (plan/speculation.ts); their types
  // are confirmed from every row the copy read before keys are built on them.
  if (!state.aborted && input.speculative && patched('speculative-plan')) {
    for (;;) {
      const confirmed = await ddl.confirmTablePlan({ runId: input.runId, target: input.target, table: input.table, source: input.source });
      warnings.push(...confirmed.warnings);
      if (!confirmed.recopy) break;
      // Emptied and re-created with the types of every value: the whole table again.
      done.rows = 0;
      done.rejects = 0;
      done.chunks = 0;
      await copyFrom(0);
      if (state.aborted) break;
    }
  }
  // patched: table workflows recorded before keys and checksums moved here replay without them.
  if (!state.aborted && patched('table-keys-and-checksums')) {
    // Keys right after the copy: this table's index build overlaps other tables' copies,
    // and the checksums below read the target by key range.
    if (!input.keysDone) {
      const keys = await ddl.buildTableKeys({ runId: input.runId, target: input.target, table: input.table });
      warnings.push(...keys.warnings);
    }
    if (input.validation === 'checksum') await checksumAll(input, state, done, warnings);
  }
  return { table: input.table, ...done, aborted: state.aborted, warnings };
}

/**
 * Checks every chunk of the table (source hash vs target hash), a few at a
 * time, continuing as new when the history grows; results go to cutover.checksums.
 */
async function checksumAll(
  input: CopyTableInput,
  state: { parallelism: number; aborted: boolean; changed: number },
  done: CopyTableInput['done'],
  warnings: string[],
): Promise<void> {
  const args = { runId: input.runId, target: input.target, table: input.table, source: input.source };
  if (checksumMode(input.key) === 'table') {
    await long.checksumTable(args);
    return;
  }
  let next = input.checksumNext ?? 0;
  while (next < input.chunkCount && !state.aborted) {
    // Checked before each page: a run's history stays under the limit plus one page.
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > input.maxHistoryEvents) {
      await continueAsNew<typeof copyTable>({ ...input, nextChunkNo: input.chunkCount, checksumNext: next, keysDone: true, done, parallelism: state.parallelism, warnings });
    }
    const end = Math.min(input.chunkCount, next + PAGE);
    // patched: runs recorded before kept the number of lanes a page started with, even when the
    // table's share of the parallelism grew as other tables finished (one lane for a whole page).
    if (patched('checksum-lanes-follow-parallelism')) await checksumPage(args, next, end, state);
    else {
      let cursor = next;
      await Promise.all(
        Array.from({ length: Math.max(1, state.parallelism) }, async () => {
          while (cursor < end && !state.aborted) {
            const chunkNo = cursor++;
            await long.checksumChunk({ ...args, chunkNo });
          }
        }),
      );
    }
    next = end;
  }
}

/** Checksums of chunks [from, end), as many at once as the table's current share of the parallelism. */
async function checksumPage(
  args: { runId: string; target: string; table: string; source: string },
  from: number,
  end: number,
  state: { parallelism: number; aborted: boolean; changed: number },
): Promise<void> {
  let cursor = from;
  let inFlight = 0;
  let settled = 0;
  let failure: unknown = null;
  let seen = state.changed;
  for (;;) {
    if (failure !== null || state.aborted) break;
    while (cursor < end && inFlight < Math.max(1, state.parallelism)) {
      const chunkNo = cursor++;
      inFlight++;
      long
        .checksumChunk({ ...args, chunkNo })
        .catch((err: unknown) => {
          failure ??= err;
        })
        .finally(() => {
          inFlight--;
          settled++;
        });
    }
    if (cursor >= end && inFlight === 0) break;
    const before = settled;
    await condition(() => settled !== before || state.changed !== seen);
    seen = state.changed;
  }
  await condition(() => inFlight === 0);
  if (failure !== null) throw failure;
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
          {
            runId: input.runId,
            target: input.target,
            chunk,
            batchSize: input.batchSize,
            source: input.source,
            fingerprint: input.fingerprint,
            // The checksum stage then hashes only the target side of each chunk (chunk-digests.ts).
            sourceDigests: input.validation === 'checksum',
          },
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
