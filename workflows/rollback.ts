// rollbackMigration: undo a run later (a finished run ops decided to revert,
// or a rollback that was interrupted). Idempotent: run it again until it
// reports nothing left to undo.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RollbackResult } from '../activities/finish';
import { undoStep } from './profiles';

const undo = proxyActivities<Activities>(undoStep);

export interface RollbackInput {
  /** The workflow id of the migration run to undo. */
  runId: string;
  target?: string;
  /** Keep the run's cutover.* rows (marked rolled back) for audit. */
  keepState?: boolean;
}

export async function rollbackMigration(input: RollbackInput): Promise<RollbackResult> {
  if (!input || typeof input.runId !== 'string' || input.runId === '') {
    throw ApplicationFailure.create({ type: 'BadInput', nonRetryable: true, message: 'bad workflow input: expected {"runId": "<migration workflow id>", "target": "default"}' });
  }
  const result = await undo.rollback({ runId: input.runId, target: input.target ?? 'default', keepState: input.keepState ?? false });
  if (result.failures.length > 0) {
    throw ApplicationFailure.create({
      type: 'RollbackIncomplete',
      nonRetryable: true,
      message: `rollback of ${input.runId} is incomplete: ${result.failures.join('; ')}. Undone so far: ${result.undone.join(', ') || 'nothing'}. Fix the cause (often a lock held by another session) and start rollbackMigration again: it continues where it stopped.`,
      details: [result],
    });
  }
  return result;
}
