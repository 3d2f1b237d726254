// Named timeout and retry profiles for activities.
import type { ActivityOptions } from '@temporalio/workflow';
import { FailureType } from '../src/errors';

const nonRetryableErrorTypes = Object.values(FailureType);

/** Quick catalog work: preflight, schema, sequences, validate. */
export const shortStep: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes },
};

/** Profiling and index builds scale with the data. */
export const longStep: ActivityOptions = {
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '10 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '60s', maximumAttempts: 10, nonRetryableErrorTypes },
};

/**
 * Keys, indexes, constraints, a speculative table's plan confirmation: as long as longStep, but the
 * activity heartbeats every 5 s while it runs, so a worker that died mid-step is noticed in 30 s,
 * not 10 minutes (the run would otherwise wait that long for the retry).
 */
export const ddlStep: ActivityOptions = { ...longStep, heartbeatTimeout: '30s' };

/**
 * One chunk. A dead worker is noticed by the missed heartbeat (the activity
 * heartbeats every 5 s while alive); a restarted PostgreSQL is waited out for
 * ~25 minutes of retries before the run gives up.
 */
export const copyStep: ActivityOptions = {
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s', maximumAttempts: 30, nonRetryableErrorTypes: [...nonRetryableErrorTypes, 'CopyError'] },
};

/** Compensation must finish: retried long, never cancelled. */
export const undoStep: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 20 },
};
