// Failure types that reach the workflow history. Each `type` has an entry in
// docs/runbook.md: what it means and what on-call should do next.
import { ApplicationFailure } from '@temporalio/common';

export const FailureType = {
  SourceMissing: 'SourceMissing',
  SourceNotSqlite: 'SourceNotSqlite',
  SourceCorrupt: 'SourceCorrupt',
  TargetUnknown: 'TargetUnknown',
  TargetUnreachable: 'TargetUnreachable',
  TargetNotEmpty: 'TargetNotEmpty',
  BadInput: 'BadInput',
  ValidationFailed: 'ValidationFailed',
  RunInProgress: 'RunInProgress',
  PlanMissing: 'PlanMissing',
  PlanNotConfirmed: 'PlanNotConfirmed',
  Aborted: 'Aborted',
  SourceChanged: 'SourceChanged',
  SchemaMismatch: 'SchemaMismatch',
  HookFailed: 'HookFailed',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** A problem retrying cannot fix: the message must say what to do instead. */
export function nonRetryable(type: FailureType, message: string, cause?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: true,
    cause: cause instanceof Error ? cause : undefined,
  });
}
