// Queries, signals and updates of the migration workflow: the names ops type
// in the Temporal UI and the `temporal` CLI.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Progress } from '../src/types';

/** Phase and per-table progress. `temporal workflow query --type progress` */
export const progressQuery = defineQuery<Progress>('progress');

/** What the run will do / does: tables, rows, chunks, warnings, objects not migrated. */
export const planQuery = defineQuery<PlanView | null>('plan');

export interface PlanView {
  tables: { table: string; rows: number; chunks: number; key: string }[];
  warnings: string[];
  skipped: { kind: string; name: string; reason: string }[];
}

/** In-flight chunks finish their batch and stop; nothing new starts. */
export const pauseSignal = defineSignal<[]>('pause');
export const resumeSignal = defineSignal<[]>('resume');
/** Let a run waiting at its approval gate (requireApproval) continue to the cutover. */
export const approveSignal = defineSignal<[]>('approve');
/**
 * At the cutover gate, when the source changed after the snapshot: take a new snapshot and copy
 * the changed tables again (then validate, and wait for approve again with requireApproval).
 */
export const rerunChangedSignal = defineSignal<[]>('rerunChanged');
/** Stop and roll back everything the run created. */
export const abortSignal = defineSignal<[reason?: string]>('abort');
/** Chunks copied at once (1–64); returns the previous value. */
export const setParallelismUpdate = defineUpdate<number, [number]>('setParallelism');

/** Internal: the parent gives each table's child its share of the parallelism. */
export const tableParallelismSignal = defineSignal<[number]>('tableParallelism');
/** Internal: a table's child reports its progress to the parent after each page. */
export const tableProgressSignal = defineSignal<[{ table: string; rows: number; rejects: number; chunks: number }]>('tableProgress');
