// migrateSqliteToPostgres: the orchestration of one run. Deterministic: no
// I/O here, only activities, timers and state.
import {
  ApplicationFailure,
  CancellationScope,
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
import { progressQuery } from './api';

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

    enter('plan');
    const plan: PlanSummary = await long.plan({ runId, input });
    for (const t of plan.tables) {
      tables.push({ table: t.name, rowsTotal: t.rows, rowsDone: 0, rejects: 0, chunksTotal: t.chunks.length, chunksDone: 0 });
    }

    enter('schema');
    await short.createSchema(run);

    enter('copy');
    copyStarted = Date.now();
    await copyAll(plan, input, run, tables, tableSeconds);

    enter('constraints');
    const constraints = await long.buildConstraints(run);

    enter('sequences');
    await short.setSequences(run);

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

async function copyAll(
  plan: PlanSummary,
  input: ResolvedInput,
  run: { runId: string; target: string },
  tables: TableProgress[],
  tableSeconds: Record<string, number>,
): Promise<void> {
  // Largest tables first, so the long tail is short.
  const queue: ChunkPlan[] = [...plan.tables]
    .sort((a, b) => b.rows - a.rows)
    .flatMap((t) => t.chunks);
  const runChunk = async (chunk: ChunkPlan) => {
    const r = await copy.copyChunk({ ...run, chunk, batchSize: input.batchSize, source: input.source });
    const t = tables.find((x) => x.table === chunk.table)!;
    t.rowsDone += r.rows + r.rejects;
    t.rejects += r.rejects;
    t.chunksDone++;
    tableSeconds[chunk.table] = (tableSeconds[chunk.table] ?? 0) + r.seconds;
  };
  const workers: Promise<void>[] = [];
  let failure: unknown = null;
  for (let w = 0; w < Math.max(1, input.parallelism); w++) {
    workers.push(
      (async () => {
        while (queue.length > 0 && failure === null) {
          const chunk = queue.shift()!;
          try {
            await runChunk(chunk);
          } catch (err) {
            failure ??= err;
          }
        }
      })(),
    );
  }
  await Promise.all(workers);
  if (failure !== null) throw failure;
}

function rootCause(err: unknown): unknown {
  let e = err as { cause?: unknown } | undefined;
  while (e && typeof e === 'object' && e.cause) e = e.cause as { cause?: unknown };
  return e;
}

function describeFailure(err: unknown): string {
  const root = rootCause(err) as { message?: string } | undefined;
  return root?.message ?? String(err);
}

function failureType(err: unknown): string {
  const root = rootCause(err) as { type?: string } | undefined;
  return root?.type ?? 'MigrationFailed';
}
