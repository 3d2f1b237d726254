// migrateSqliteToPostgres: the orchestration of one run. Deterministic: no
// I/O here, only activities, timers and state.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ChunkPlan, MigrationInput, MigrationReport, Phase, PlanSummary, Progress, ResolvedInput, TableProgress } from '../src/types';
import { FailureType } from '../src/errors';
import { resolveInput } from './input';
import { copyStep, longStep, shortStep, undoStep } from './profiles';
import { abortSignal, pauseSignal, progressQuery, resumeSignal, setParallelismUpdate } from './api';

const short = proxyActivities<Activities>(shortStep);
const long = proxyActivities<Activities>(longStep);
const copy = proxyActivities<Activities>(copyStep);
const undo = proxyActivities<Activities>(undoStep);

export async function migrateSqliteToPostgres(raw: MigrationInput): Promise<MigrationReport> {
  const input = resolveInput(raw);
  const info = workflowInfo();
  const runId = info.workflowId;
  const run = { runId, target: input.target };
  const startedAt = Date.now();

  let phase: Phase = 'starting';
  let phaseStarted = Date.now();
  const phases: { phase: Phase; seconds: number }[] = [];
  const tables: TableProgress[] = [];
  const tableSeconds: Record<string, number> = {};
  let error: string | null = null;
  let copyStarted = 0;

  const enter = (next: Phase) => {
    if (phase !== 'starting') phases.push({ phase, seconds: (Date.now() - phaseStarted) / 1000 });
    phase = next;
    phaseStarted = Date.now();
  };

  setHandler(progressQuery, (): Progress => {
    const done = tables.reduce((s, t) => s + t.rowsDone, 0);
    const total = tables.reduce((s, t) => s + t.rowsTotal, 0);
    const elapsed = copyStarted ? (Date.now() - copyStarted) / 1000 : 0;
    const rate = elapsed > 0 ? done / elapsed : 0;
    return {
      runId,
      phase,
      tables,
      startedAt,
      rowsPerSecond: Math.round(rate),
      etaSeconds: rate > 0 && phase === 'copy' ? Math.round((total - done) / rate) : null,
      error,
    };
  });

  const controls: Controls = { paused: false, abortReason: null, parallelism: input.parallelism, changed: 0 };
  setHandler(pauseSignal, () => {
    controls.paused = true;
    controls.changed++;
  });
  setHandler(resumeSignal, () => {
    controls.paused = false;
    controls.changed++;
  });
  setHandler(abortSignal, (reason?: string) => {
    controls.abortReason = reason || 'aborted by an operator';
    controls.changed++;
  });
  setHandler(
    setParallelismUpdate,
    (n: number) => {
      const previous = controls.parallelism;
      controls.parallelism = n;
      controls.changed++;
      return previous;
    },
    {
      validator: (n: number) => {
        if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`parallelism must be a whole number from 1 to 64, got ${JSON.stringify(n)}`);
      },
    },
  );
  const checkAbort = () => {
    if (controls.abortReason !== null) {
      throw ApplicationFailure.create({ type: FailureType.Aborted, nonRetryable: true, message: `run aborted: ${controls.abortReason}` });
    }
  };

  // Saga: each step that creates something pushes its undo; run in reverse on failure.
  const compensations: { name: string; run: () => Promise<void> }[] = [];
  const undoFailures: string[] = [];

  try {
    enter('preflight');
    const pre = await short.preflight({ runId, temporalRunId: info.firstExecutionRunId, input });
    compensations.push({
      name: 'drop everything this run created',
      run: async () => {
        const r = await undo.rollback({ ...run, keepState: input.keepStateOnRollback });
        for (const f of r.failures) log.error('undo step failed', { runId, failure: f });
        if (r.failures.length) undoFailures.push(...r.failures);
      },
    });

    checkAbort();
    enter('plan');
    const plan: PlanSummary = await long.plan({ runId, input });
    for (const t of plan.tables) {
      tables.push({ table: t.name, rowsTotal: t.rows, rowsDone: 0, rejects: 0, chunksTotal: t.chunks.length, chunksDone: 0 });
    }

    checkAbort();
    enter('schema');
    await short.createSchema(run);

    checkAbort();
    enter('copy');
    copyStarted = Date.now();
    await copyAll(plan, input, run, tables, tableSeconds, controls);
    checkAbort();

    checkAbort();
    enter('constraints');
    const constraints = await long.buildConstraints(run);

    checkAbort();
    enter('sequences');
    await short.setSequences(run);

    checkAbort();
    enter('validate');
    const warnings = [...pre.warnings, ...plan.warnings, ...constraints.warnings];
    const phasesSoFar = [...phases, { phase, seconds: (Date.now() - phaseStarted) / 1000 }];
    const report = await long.validate({ ...run, allowRejects: input.allowRejects, phases: phasesSoFar, tableSeconds, warnings });
    if (report.status !== 'succeeded') {
      const bad = report.tables.filter((t) => !t.ok);
      throw ApplicationFailure.create({
        type: FailureType.ValidationFailed,
        nonRetryable: true,
        message:
          `validation failed on ${bad.length} table(s): ` +
          bad.map((t) => `${t.table}: ${t.problems.join('; ')}`).join(' | ') +
          (report.totals.rejects > 0 && !input.allowRejects
            ? '. Fix the rejected values in the source (or re-run with allowRejects to load the rest and keep the rejects in cutover.rejects, keepStateOnRollback to inspect them).'
            : '.'),
        details: [report],
      });
    }
    enter('done');
    return report;
  } catch (err) {
    const failedPhase = phase;
    error = describeFailure(err);
    enter('rolling back');
    await CancellationScope.nonCancellable(async () => {
      for (const step of compensations.reverse()) {
        try {
          await step.run();
        } catch (undoErr) {
          const msg = `${step.name}: ${describeFailure(undoErr)}`;
          log.error('compensation failed', { runId, error: msg });
          undoFailures.push(msg);
        }
      }
    });
    enter(undoFailures.length ? 'failed' : 'rolled back');
    if (isCancellation(err)) throw err;
    const rolledBack = compensations.length === 0
      ? 'Nothing had been written to the target.'
      : undoFailures.length
        ? `Rollback was INCOMPLETE: ${undoFailures.join('; ')}. Run \`cutover rollback ${runId}\` after fixing the cause.`
        : 'Everything this run created in the target was rolled back.';
    throw ApplicationFailure.create({
      type: failureType(err),
      nonRetryable: true,
      message: `migration ${runId} failed in phase ${failedPhase}: ${error} ${rolledBack}`,
      details: (err as ApplicationFailure)?.details ?? undefined,
    });
  }
}

interface Controls {
  paused: boolean;
  abortReason: string | null;
  parallelism: number;
  /** Bumped by every signal/update, so the scheduler wakes up. */
  changed: number;
}

/**
 * Runs chunk activities, at most `parallelism` at once, largest tables first.
 * Pause and abort cancel the chunks in flight: each stops after its current
 * batch (committed with its checkpoint) and is requeued, to resume from there.
 */
async function copyAll(
  plan: PlanSummary,
  input: ResolvedInput,
  run: { runId: string; target: string },
  tables: TableProgress[],
  tableSeconds: Record<string, number>,
  controls: Controls,
): Promise<void> {
  const queue: ChunkPlan[] = [...plan.tables].sort((a, b) => b.rows - a.rows).flatMap((t) => t.chunks);
  const inFlight = new Map<string, CancellationScope>();
  let failure: unknown = null;
  let settled = 0;

  const start = (chunk: ChunkPlan) => {
    const key = `${chunk.table}#${chunk.chunkNo}`;
    const scope = new CancellationScope();
    inFlight.set(key, scope);
    scope
      .run(() => copy.copyChunk({ ...run, chunk, batchSize: input.batchSize, source: input.source }))
      .then((r) => {
        const t = tables.find((x) => x.table === chunk.table)!;
        t.rowsDone += r.rows + r.rejects;
        t.rejects += r.rejects;
        t.chunksDone++;
        tableSeconds[chunk.table] = (tableSeconds[chunk.table] ?? 0) + r.seconds;
      })
      .catch((err: unknown) => {
        if (isCancellation(err) && (controls.paused || controls.abortReason !== null)) queue.unshift(chunk);
        else failure ??= err;
      })
      .finally(() => {
        inFlight.delete(key);
        settled++;
      });
  };

  let seen = controls.changed;
  for (;;) {
    if (failure !== null || controls.abortReason !== null) break;
    if (controls.paused) {
      for (const s of inFlight.values()) s.cancel();
    } else {
      while (queue.length > 0 && inFlight.size < controls.parallelism) start(queue.shift()!);
    }
    if (queue.length === 0 && inFlight.size === 0) break;
    const settledBefore = settled;
    await condition(() => settled !== settledBefore || controls.changed !== seen);
    seen = controls.changed;
  }
  // Abort or failure: stop what is running, wait for it to settle (its batches are committed).
  for (const s of inFlight.values()) s.cancel();
  await condition(() => inFlight.size === 0);
  if (failure !== null) throw failure;
}

/** The deepest ApplicationFailure in the chain: it carries our type and actionable message. */
function rootCause(err: unknown): unknown {
  let found: unknown = err;
  let e = err as { cause?: unknown } | undefined;
  while (e && typeof e === 'object') {
    if (e instanceof ApplicationFailure) found = e;
    e = e.cause as { cause?: unknown } | undefined;
  }
  return found;
}

function describeFailure(err: unknown): string {
  const root = rootCause(err) as { message?: string } | undefined;
  return root?.message ?? String(err);
}

function failureType(err: unknown): string {
  const root = rootCause(err) as { type?: string } | undefined;
  return root?.type ?? 'MigrationFailed';
}
