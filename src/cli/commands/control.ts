// `cutover pause | resume | abort | approve | set-parallelism RUN`: the
// workflow's signals and update, sent through the Temporal client. Each does
// the same as the `temporal workflow signal|update` line printed in --help.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { abortSignal, pauseSignal, progressQuery, resumeSignal, setParallelismUpdate } from '../../../workflows/api';
import type { Config } from '../../config';
import type { Progress } from '../../types';
import { CliError, ExitCode } from '../exit-codes';
import { openSession, type Session } from '../session';

export interface ControlFlags {
  json?: boolean;
}

type Log = (msg: string) => void;

export interface ControlResult {
  runId: string;
  action: string;
  ok: boolean;
  /** Workflow status after the action (RUNNING, COMPLETED, FAILED, …). */
  status: string;
  phase: string | null;
  message: string;
  previousParallelism?: number;
}

/** For tests and embedding: the session to use instead of opening one from cfg. */
export interface ControlOptions {
  session?: Pick<Session, 'client' | 'stop'>;
  /** Where results are printed (default process.stdout). */
  out?: (text: string) => void;
}

const listHint = `List runs with: temporal workflow list --query "WorkflowType='migrateSqliteToPostgres'"`;

async function withOpenRun<T>(cfg: Config, runId: string, action: string, log: Log, opts: ControlOptions, fn: (h: WorkflowHandle, s: Pick<Session, 'client'>) => Promise<T>): Promise<T> {
  if (!opts.session && !cfg.temporalAddress) {
    throw new CliError(
      `cutover ${action} needs the cluster the run is on: set TEMPORAL_ADDRESS (or --temporal-address), e.g. localhost:7233 while \`cutover dev\` runs.`,
      ExitCode.BadInput,
    );
  }
  const session = opts.session ?? (await openSession(cfg, { withWorker: false, targets: {}, embeddedPostgres: false, log }));
  try {
    const handle = session.client.workflow.getHandle(runId);
    let status: string;
    try {
      status = (await handle.describe()).status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new CliError(`no run ${runId} in namespace ${cfg.namespace}: check the run id (it is the workflow id) and --namespace. ${listHint}`, ExitCode.BadInput, { cause: err });
      }
      throw new CliError(`cannot reach Temporal to ${action} run ${runId}: ${(err as Error).message}. Check TEMPORAL_ADDRESS and that the server is up.`, ExitCode.Unreachable, { cause: err });
    }
    if (status !== 'RUNNING') {
      throw new CliError(
        `run ${runId} is ${status}, not running: there is nothing to ${action}. See how it ended with \`cutover status ${runId}\` or \`temporal workflow show --workflow-id ${runId}\`; to migrate again, start a new run.`,
        ExitCode.BadInput,
      );
    }
    return await fn(handle, session);
  } finally {
    if (!opts.session) await session.stop();
  }
}

async function phaseOf(handle: WorkflowHandle): Promise<string | null> {
  try {
    return (await handle.query(progressQuery) as Progress).phase;
  } catch {
    return null;
  }
}

async function statusOf(handle: WorkflowHandle): Promise<string> {
  try {
    return (await handle.describe()).status.name;
  } catch {
    return 'UNKNOWN';
  }
}

function print(result: ControlResult, flags: ControlFlags, opts: ControlOptions): void {
  const out = opts.out ?? ((t: string) => process.stdout.write(t));
  if (flags.json) out(JSON.stringify(result) + '\n');
  else out(`${result.message}\n`);
}

async function signalCommand(
  cfg: Config,
  runId: string,
  action: 'pause' | 'resume' | 'abort' | 'approve' | 'rerun-changed',
  send: (h: WorkflowHandle) => Promise<void>,
  message: string,
  flags: ControlFlags,
  log: Log,
  opts: ControlOptions,
): Promise<number> {
  const result = await withOpenRun(cfg, runId, action, log, opts, async (handle) => {
    await send(handle);
    return { runId, action, ok: true, status: await statusOf(handle), phase: await phaseOf(handle), message } satisfies ControlResult;
  });
  print(result, flags, opts);
  return ExitCode.Success;
}

/** In-flight chunks finish their current batch (committed with its checkpoint) and stop; nothing new starts. */
export function pauseCommand(cfg: Config, runId: string, flags: ControlFlags, log: Log, opts: ControlOptions = {}): Promise<number> {
  return signalCommand(cfg, runId, 'pause', (h) => h.signal(pauseSignal), `paused run ${runId}: chunks stop after their current batch. Resume with: cutover resume ${runId}`, flags, log, opts);
}

export function resumeCommand(cfg: Config, runId: string, flags: ControlFlags, log: Log, opts: ControlOptions = {}): Promise<number> {
  return signalCommand(cfg, runId, 'resume', (h) => h.signal(resumeSignal), `resumed run ${runId}: chunks continue from their last committed batch. Watch with: cutover status ${runId}`, flags, log, opts);
}

/** Stops the run and rolls back everything it created in the target; the source is never touched. */
export function abortCommand(cfg: Config, runId: string, flags: ControlFlags & { reason?: string }, log: Log, opts: ControlOptions = {}): Promise<number> {
  const reason = flags.reason?.trim() || `aborted with cutover abort by ${process.env.USER ?? 'an operator'}`;
  return signalCommand(
    cfg,
    runId,
    'abort',
    (h) => h.signal(abortSignal, reason),
    `abort sent to run ${runId} (${reason}): it stops and rolls back everything it created. Follow it with: cutover status ${runId}`,
    flags,
    log,
    opts,
  );
}

/** Lets a run waiting at its approval gate go on (signal `approve`). */
export function approveCommand(cfg: Config, runId: string, flags: ControlFlags, log: Log, opts: ControlOptions = {}): Promise<number> {
  return signalCommand(cfg, runId, 'approve', (h) => h.signal('approve'), `approved run ${runId}: it continues past its approval gate. Watch with: cutover status ${runId}`, flags, log, opts);
}

/**
 * At the cutover gate, when the source changed after the snapshot: copy the changed tables again
 * from a new snapshot (signal `rerunChanged`). Refused unless the run is waiting for that choice.
 */
export function rerunChangedCommand(cfg: Config, runId: string, flags: ControlFlags, log: Log, opts: ControlOptions = {}): Promise<number> {
  return signalCommand(
    cfg,
    runId,
    'rerun-changed',
    async (h) => {
      const p = (await h.query(progressQuery)) as Progress;
      if (p.phase !== 'source changed' || !p.sourceChanged) {
        throw new CliError(`run ${runId} is in phase "${p.phase}", not waiting for a choice about a changed source: nothing to rerun. See \`cutover status ${runId}\`.`, ExitCode.BadInput);
      }
      await h.signal('rerunChanged');
    },
    `rerun sent to run ${runId}: it copies the changed tables again from a new snapshot, validates, and comes back to its gate. Watch with: cutover status ${runId}`,
    flags,
    log,
    opts,
  );
}

/** Chunks copied at once (1–64), through the `setParallelism` update: the workflow validates and answers. */
export async function setParallelismCommand(cfg: Config, runId: string, parallelism: number, flags: ControlFlags, log: Log, opts: ControlOptions = {}): Promise<number> {
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 64) {
    throw new CliError(`parallelism must be a whole number from 1 to 64, got ${parallelism}`, ExitCode.BadInput);
  }
  const result = await withOpenRun(cfg, runId, 'set-parallelism', log, opts, async (handle) => {
    let previous: number;
    try {
      previous = (await handle.executeUpdate(setParallelismUpdate, { args: [parallelism] })) as number;
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const cause = err.cause instanceof ApplicationFailure || err.cause instanceof Error ? err.cause.message : err.message;
        throw new CliError(`run ${runId} refused parallelism ${parallelism}: ${cause}`, ExitCode.BadInput, { cause: err });
      }
      throw err;
    }
    return {
      runId,
      action: 'set-parallelism',
      ok: true,
      status: await statusOf(handle),
      phase: await phaseOf(handle),
      previousParallelism: previous,
      message: `run ${runId}: parallelism ${previous} → ${parallelism} (takes effect as chunks finish or start)`,
    } satisfies ControlResult;
  });
  print(result, flags, opts);
  return ExitCode.Success;
}
