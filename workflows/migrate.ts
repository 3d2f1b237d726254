// migrateSqliteToPostgres: the orchestration of one run. Deterministic: no
// I/O here, only activities, child workflows, timers and state.
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ContinueAsNew,
  ParentClosePolicy,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  setHandler,
  startChild,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type { Activities } from '../activities';
import type { TableChunks } from '../activities/copy';
import type { SnapshotResult } from '../activities/snapshot';
import type { MigrationInput, MigrationReport, Phase, Progress, ResolvedInput, SkippedObject, SourceChange, TableProgress } from '../src/types';
import { FailureType } from '../src/errors';
import { resolveInput } from './input';
import { ddlStep, longStep, shortStep, undoStep } from './profiles';
import {
  abortSignal,
  approveSignal,
  planQuery,
  type PlanView,
  pauseSignal,
  progressQuery,
  rerunChangedSignal,
  resumeSignal,
  setParallelismUpdate,
  tableParallelismSignal,
  tableProgressSignal,
} from './api';
import { copyTable, type CopyTableResult } from './copy-table';

const short = proxyActivities<Activities>(shortStep);
const long = proxyActivities<Activities>(longStep);
const ddl = proxyActivities<Activities>(ddlStep);
const undo = proxyActivities<Activities>(undoStep);
const local = proxyLocalActivities<Activities>({ startToCloseTimeout: '30s' });
const PhaseKey = defineSearchAttributeKey('CutoverPhase', 'KEYWORD');
const SourceKey = defineSearchAttributeKey('CutoverSource', 'KEYWORD');
const SchemaKey = defineSearchAttributeKey('CutoverTargetSchema', 'KEYWORD');
/** App migrations and hooks run as long as they run: no heartbeat timeout. */
const migrationsStep = proxyActivities<Activities>({ ...longStep, heartbeatTimeout: undefined, startToCloseTimeout: '2 hours' });
const hook = proxyActivities<Activities>({ ...longStep, heartbeatTimeout: '1 minute', startToCloseTimeout: '1 hour', retry: { maximumAttempts: 1 } });

/** What a run carries into its continuation (continue-as-new during the copy phase). */
export interface CarriedState {
  startedAt: number;
  copyStarted: number;
  phases: { phase: Phase; seconds: number }[];
  phaseStarted: number;
  snap: SnapshotResult;
  tables: TableChunks[];
  progress: TableProgress[];
  tableSeconds: Record<string, number>;
  warnings: string[];
  skipped: SkippedObject[];
  /** Tables whose copy finished (by name). */
  copied: string[];
  /** Existing-schema load order: waves of tables, copied in order. */
  waves: string[][] | null;
  paused: boolean;
  parallelism: number;
}

type Input = MigrationInput & { carried?: CarriedState; maxHistoryEvents?: number };

export async function migrateSqliteToPostgres(raw: Input): Promise<MigrationReport> {
  const { carried, maxHistoryEvents: rawMax, ...userInput } = raw ?? ({} as Input);
  const input = resolveInput(userInput);
  const maxHistoryEvents = rawMax ?? 10_000;
  const info = workflowInfo();
  const runId = info.workflowId;
  const run = { runId, target: input.target };
  const startedAt = carried?.startedAt ?? Date.now();

  let phase: Phase = carried ? 'copy' : 'starting';
  let phaseStarted = carried?.phaseStarted ?? Date.now();
  const phases: { phase: Phase; seconds: number }[] = carried?.phases ?? [];
  const tables: TableProgress[] = carried?.progress ?? [];
  const tableSeconds: Record<string, number> = carried?.tableSeconds ?? {};
  let error: string | null = null;
  let copyStarted = carried?.copyStarted ?? 0;

  let searchAttributes = false;
  const showDetails = () => {
    const done = tables.reduce((s, t) => s + t.rowsDone, 0);
    const total = tables.reduce((s, t) => s + t.rowsTotal, 0);
    setCurrentDetails(
      `**${phase}**` +
        (total ? ` — ${done} of ${total} rows, ${tables.filter((t) => t.rowsDone >= t.rowsTotal).length} of ${tables.length} tables` : '') +
        (error ? `\n\n${error}` : ''),
    );
  };
  const enter = (next: Phase) => {
    if (phase !== 'starting') phases.push({ phase, seconds: (Date.now() - phaseStarted) / 1000 });
    phase = next;
    phaseStarted = Date.now();
    if (searchAttributes) upsertSearchAttributes([{ key: PhaseKey, value: next }]);
    showDetails();
  };

  const controls: Controls = {
    approved: false,
    rerun: false,
    paused: carried?.paused ?? false,
    abortReason: null,
    parallelism: carried?.parallelism ?? input.parallelism,
    changed: 0,
  };
  const copied = new Set<string>(carried?.copied ?? []);

  setHandler(progressQuery, (): Progress => {
    const done = tables.reduce((s, t) => s + t.rowsDone, 0);
    const total = tables.reduce((s, t) => s + t.rowsTotal, 0);
    const elapsed = copyStarted ? (Date.now() - copyStarted) / 1000 : 0;
    const rate = elapsed > 0 ? done / elapsed : 0;
    return {
      runId,
      phase: controls.paused && phase === 'copy' ? 'paused' : phase,
      tables,
      startedAt,
      rowsPerSecond: Math.round(rate),
      etaSeconds: rate > 0 && phase === 'copy' ? Math.round((total - done) / rate) : null,
      error,
      awaitingApproval: phase === 'awaiting approval' ? pendingReport : null,
      sourceChanged: sourceChange,
    };
  });
  let pendingReport: MigrationReport | null = null;
  let sourceChange: SourceChange | null = null;
  let planView: PlanView | null = null;
  setHandler(planQuery, () => planView);

  setHandler(pauseSignal, () => {
    controls.paused = true;
    controls.changed++;
  });
  setHandler(resumeSignal, () => {
    controls.paused = false;
    controls.changed++;
  });
  setHandler(approveSignal, () => {
    controls.approved = true;
    controls.changed++;
  });
  setHandler(rerunChangedSignal, () => {
    controls.rerun = true;
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
  setHandler(tableProgressSignal, (p) => {
    const t = tables.find((x) => x.table === p.table);
    if (t && !copied.has(p.table)) {
      t.rowsDone = p.rows + p.rejects;
      t.rejects = p.rejects;
      t.chunksDone = p.chunks;
      showDetails();
    }
  });
  const checkAbort = () => {
    if (controls.abortReason !== null) {
      throw ApplicationFailure.create({ type: FailureType.Aborted, nonRetryable: true, message: `run aborted: ${controls.abortReason}` });
    }
  };

  const failIfInvalid = (report: MigrationReport) => {
    if (report.status === 'succeeded') return;
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
  };

  // Saga: each step that creates something pushes its undo; run in reverse on failure.
  const compensations: { name: string; run: () => Promise<void> }[] = [];
  const undoFailures: string[] = [];
  const pushRollback = () =>
    compensations.push({
      name: 'drop everything this run created',
      run: async () => {
        const r = await undo.rollback({ ...run, keepState: input.keepStateOnRollback });
        for (const f of r.failures) log.error('undo step failed', { runId, failure: f });
        if (r.failures.length) undoFailures.push(...r.failures);
      },
    });

  // patched: runs recorded before search attributes replay without this step.
  if (patched('search-attributes')) {
    searchAttributes = (await local.clusterCapabilities()).searchAttributes;
    if (searchAttributes) {
      upsertSearchAttributes([
        { key: SourceKey, value: input.source },
        { key: SchemaKey, value: input.targetSchema },
        { key: PhaseKey, value: phase },
      ]);
    }
  }
  try {
    let snap: SnapshotResult;
    let chunked: TableChunks[];
    let warnings: string[];
    let skipped: SkippedObject[];
    let waves: string[][] | null = null;
    const existing = input.schema === 'existing';
    if (carried) {
      pushRollback();
      ({ snap, tables: chunked, warnings, skipped, waves } = carried);
    } else {
      enter('preflight');
      const pre = await short.preflight({ runId, temporalRunId: info.firstExecutionRunId, input });
      pushRollback();

      checkAbort();
      enter('snapshot');
      snap = await long.snapshot({ runId, source: input.source, enabled: input.snapshot });

      checkAbort();
      enter('plan');
      // Everything from here reads the snapshot (or the live file, fingerprinted).
      const readInput = { ...input, source: snap.readPath };
      warnings = [...pre.warnings];
      if (existing) {
        if (input.drizzleMigrations || input.sqlMigrations) {
          const applied = await migrationsStep.applyAppMigrations({
            ...run,
            targetSchema: input.targetSchema,
            drizzleMigrations: input.drizzleMigrations,
            sqlMigrations: input.sqlMigrations,
          });
          warnings.push(...applied.warnings);
        }
        const plan = await long.planExisting({ runId, input: readInput, existing: { truncate: input.truncate, ignoreColumns: input.ignoreColumns } });
        warnings.push(...plan.warnings);
        skipped = plan.skipped;
        waves = plan.waves;
      } else {
        const plan = input.schemaOnly ? await long.planSchemaOnly({ runId, input: readInput }) : await long.plan({ runId, input: readInput });
        warnings.push(...plan.warnings);
        skipped = plan.skipped;
      }

      checkAbort();
      enter('schema');
      if (existing) await short.prepareExistingLoad(run);
      else await short.createSchema(run);
      chunked = input.schemaOnly ? [] : (await long.registerChunks({ ...run, source: snap.readPath, chunkSize: input.chunkSize, parallelism: input.parallelism })).tables;
      for (const t of chunked) {
        tables.push({ table: t.name, rowsTotal: t.rows, rowsDone: 0, rejects: 0, chunksTotal: t.chunkCount, chunksDone: 0 });
      }

      checkAbort();
      enter('copy');
      copyStarted = Date.now();
    }

    planView = {
      tables: chunked.map((t) => ({ table: t.name, rows: t.rows, chunks: t.chunkCount, key: (t.key.display ?? t.key.columns).join(', ') })),
      warnings,
      skipped: skipped.map((s) => ({ kind: s.kind, name: s.name, reason: s.reason })),
    };
    // Existing schemas load parents before children: wave by wave.
    let outcome: 'done' | 'continue' = 'done';
    for (const wave of waves ?? [chunked.map((t) => t.name)]) {
      outcome = await copyTables(
        chunked.filter((t) => wave.includes(t.name)),
        copied,
        input,
        snap,
        run,
        tables,
        tableSeconds,
        controls,
        maxHistoryEvents,
        warnings,
      );
      if (outcome === 'continue') break;
    }
    if (outcome === 'continue') {
      // Drained: no child is running. A fresh history carries on from here.
      await continueAsNew<typeof migrateSqliteToPostgres>({
        ...userInput,
        maxHistoryEvents: rawMax,
        carried: {
          startedAt,
          copyStarted,
          phases,
          phaseStarted,
          snap,
          tables: chunked,
          progress: tables,
          tableSeconds,
          warnings,
          skipped,
          copied: [...copied],
          waves,
          paused: controls.paused,
          parallelism: controls.parallelism,
        },
      });
    }
    checkAbort();

    enter('constraints');
    const constraints = existing ? await long.restoreForeignKeys(run) : await ddl.buildConstraints(run);

    checkAbort();
    enter('sequences');
    await short.setSequences(run);

    if (input.grantSelect) {
      checkAbort();
      enter('grants');
      await short.grantSelect({ ...run, role: input.grantSelect });
    }

    checkAbort();
    enter('validate');
    const phasesSoFar = [...phases, { phase, seconds: (Date.now() - phaseStarted) / 1000 }];
    let report = await long.validate({
      ...run,
      source: input.source,
      snapshot: snap.snapshot,
      allowRejects: input.allowRejects,
      maxRejects: input.maxRejects,
      phases: phasesSoFar,
      tableSeconds,
      warnings: [...warnings, ...constraints.warnings],
    });
    report.skipped = skipped;
    failIfInvalid(report);
    if (input.requireApproval || input.cutoverHook) {
      // patched: runs recorded before the choice failed at once when the source had changed.
      const mayRerun = patched('source-change-choice');
      for (let round = 1; ; round++) {
        if (input.requireApproval) {
          enter('awaiting approval');
          pendingReport = report;
          await condition(() => controls.approved || controls.abortReason !== null);
          checkAbort();
        }
        enter('cutover');
        const check = await short.sourceUnchanged({ source: input.source, fingerprint: snap.sourceFingerprint });
        if (check.unchanged) break;
        if (!mayRerun || input.onSourceChange === 'fail') {
          throw ApplicationFailure.create({
            type: FailureType.SourceChanged,
            nonRetryable: true,
            message: `source ${input.source} changed after the snapshot the target was copied from, so the target misses those writes. Stop the application's writes and start a new run (it takes a new snapshot), or use onSourceChange "ask" or "rerun" to copy the changed tables again.`,
          });
        }
        enter('source changed');
        const next = await long.snapshot({ runId, source: input.source, enabled: input.snapshot, generation: round });
        const diff = await long.diffSource({ ...run, before: snap.snapshot?.path ?? null, after: next.readPath });
        if (diff.schemaChange) {
          throw ApplicationFailure.create({
            type: FailureType.SourceChanged,
            nonRetryable: true,
            message: `source ${input.source} changed its schema after the snapshot (${diff.schemaChange}): copying tables again cannot follow a schema change. Stop the application's writes and start a new run.`,
          });
        }
        if (diff.tables.length === 0) {
          // Written to, but every row is as copied (a rewrite, a VACUUM): the new snapshot stands.
          snap = next;
          continue;
        }
        sourceChange = {
          tables: diff.tables,
          schemaChange: null,
          round,
          choice:
            input.onSourceChange === 'rerun'
              ? 'copying the changed tables again (onSourceChange "rerun")'
              : 'signal `rerunChanged` (cutover rerun-changed RUN) to copy these tables again from a new snapshot, validate, and come back to this gate; or `abort` (cutover abort RUN) to roll back',
        };
        error = `source changed after the snapshot: ${diff.tables.map((t) => `${t.table} (${t.detail})`).join('; ')}. Next: ${sourceChange.choice}.`;
        showDetails();
        if (input.onSourceChange === 'ask') {
          controls.rerun = false;
          await condition(() => controls.rerun || controls.abortReason !== null);
          checkAbort();
        }
        error = null;
        sourceChange = null;

        enter('copy');
        const prepared = await long.prepareRerun({ ...run, round, tables: diff.tables.map((t) => t.table), source: next.readPath, chunkSize: input.chunkSize, parallelism: input.parallelism });
        for (const t of prepared.tables) {
          copied.delete(t.name);
          const p = tables.find((x) => x.table === t.name);
          if (p) Object.assign(p, { rowsTotal: t.rows, rowsDone: 0, rejects: 0, chunksTotal: t.chunkCount, chunksDone: 0 });
        }
        await copyTables(prepared.tables, copied, input, next, run, tables, tableSeconds, controls, maxHistoryEvents, warnings, false);
        checkAbort();
        enter('constraints');
        await long.restoreRerunForeignKeys({ ...run, round });
        checkAbort();
        enter('sequences');
        await short.setSequences(run);
        checkAbort();
        enter('validate');
        snap = next;
        report = await long.validate({
          ...run,
          source: input.source,
          snapshot: snap.snapshot,
          allowRejects: input.allowRejects,
          maxRejects: input.maxRejects,
          phases: [...phases, { phase, seconds: (Date.now() - phaseStarted) / 1000 }],
          tableSeconds,
          warnings: [...warnings, ...constraints.warnings, `source changed after the snapshot; copied again (round ${round}): ${prepared.tables.map((t) => t.name).join(', ')}`],
        });
        report.skipped = skipped;
        failIfInvalid(report);
        controls.approved = false;
      }
      if (input.cutoverHook) await hook.runCutoverHook({ ...run, command: input.cutoverHook, report });
      await short.recordCutover(run);
    }
    enter('done');
    return report;
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
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
    const rolledBack =
      compensations.length === 0
        ? 'Nothing had been written to the target.'
        : undoFailures.length
          ? `Rollback was INCOMPLETE: ${undoFailures.join('; ')}. Run \`cutover rollback ${runId}\` after fixing the cause.`
          : 'Everything this run created in the target was rolled back.';
    throw ApplicationFailure.create({
      type: failureType(err),
      nonRetryable: true,
      message: `migration ${runId} failed in phase ${failedPhase}: ${error} ${rolledBack}`,
      details: (rootCause(err) as ApplicationFailure)?.details ?? undefined,
    });
  }
}

interface Controls {
  approved: boolean;
  /** At the gate after a source change: the operator chose to copy the changed tables again. */
  rerun: boolean;
  paused: boolean;
  abortReason: string | null;
  parallelism: number;
  /** Bumped by every signal/update, so the scheduler wakes up. */
  changed: number;
}

/**
 * One child workflow per table, largest first, at most `parallelism` tables at
 * once; each child gets an equal share of the parallelism, rebalanced as
 * children finish, so at most `parallelism` chunks run in all. Pause, resume
 * and abort are forwarded to the children. Returns 'continue' when this run's
 * history is long: the caller continues as new (nothing is in flight then).
 */
async function copyTables(
  chunked: TableChunks[],
  copied: Set<string>,
  input: ResolvedInput,
  snap: SnapshotResult,
  run: { runId: string; target: string },
  tables: TableProgress[],
  tableSeconds: Record<string, number>,
  controls: Controls,
  maxHistoryEvents: number,
  tableWarnings: string[],
  /** False for a rerun at the gate: few tables, and no continue-as-new from there. */
  mayContinueAsNew = true,
): Promise<'done' | 'continue'> {
  const queue = [...chunked].filter((t) => !copied.has(t.name)).sort((a, b) => b.rows - a.rows);
  // Table name → its child's handle (null while the child is being started).
  const active = new Map<string, ChildWorkflowHandle<typeof copyTable> | null>();
  const shares = new Map<string, number>();
  let failure: unknown = null;
  let settled = 0;
  let forwardedPause = controls.paused;

  // The loop below awaits nothing but `condition`: starts and signals run
  // alongside, so no completion can slip between a check and the wait.
  const share = () => Math.max(1, Math.floor(controls.parallelism / Math.max(1, active.size)));
  const signalAll = (send: (h: ChildWorkflowHandle<typeof copyTable>) => Promise<void>) => {
    // A child that just finished cannot be signalled: that is fine.
    for (const h of active.values()) if (h) send(h).catch(() => undefined);
  };
  const rebalance = () => {
    for (const [name, h] of active) {
      const s = share();
      if (h && shares.get(name) !== s) {
        shares.set(name, s);
        h.signal(tableParallelismSignal, s).catch(() => undefined);
      }
    }
  };

  const launch = (t: TableChunks) => {
    active.set(t.name, null);
    const initialShare = share();
    const startedPaused = controls.paused;
    startChild(copyTable, {
      workflowId: `${run.runId}/table/${t.name}`,
      args: [
        {
          runId: run.runId,
          target: run.target,
          table: t.name,
          key: t.key,
          rows: t.rows,
          chunkCount: t.chunkCount,
          source: snap.readPath,
          fingerprint: snap.fingerprint,
          batchSize: input.batchSize,
          parallelism: initialShare,
          paused: startedPaused,
          maxHistoryEvents,
          nextChunkNo: 0,
          done: { rows: 0, rejects: 0, chunks: 0, seconds: 0 },
          validation: input.validation,
          checksumNext: 0,
          ...(t.speculative ? { speculative: true } : {}),
        },
      ],
      // Cancelling the run cancels the table copies; they stop after a committed batch.
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      staticSummary: `copy table ${t.name}: ${t.rows} rows in ${t.chunkCount} chunk(s)`,
    })
      .then((handle) => {
        active.set(t.name, handle);
        shares.set(t.name, initialShare);
        // A pause or resume that came while it was starting.
        if (controls.paused !== startedPaused) handle.signal(controls.paused ? pauseSignal : resumeSignal).catch(() => undefined);
        rebalance();
        return handle.result();
      })
      .then((r: CopyTableResult) => {
        if (r.aborted) return;
        tableWarnings.push(...(r.warnings ?? []));
        const p = tables.find((x) => x.table === t.name)!;
        p.rowsDone = r.rows + r.rejects;
        p.rejects = r.rejects;
        p.chunksDone = r.chunks;
        tableSeconds[t.name] = r.seconds;
        copied.add(t.name);
      })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => {
        active.delete(t.name);
        shares.delete(t.name);
        settled++;
      });
  };

  let seen = controls.changed;
  let long = false;
  for (;;) {
    if (failure !== null || controls.abortReason !== null) break;
    if (forwardedPause !== controls.paused) {
      forwardedPause = controls.paused;
      signalAll((h) => h.signal(controls.paused ? pauseSignal : resumeSignal));
    }
    long = mayContinueAsNew && (workflowInfo().historyLength > maxHistoryEvents || workflowInfo().continueAsNewSuggested);
    if (!controls.paused && !long) while (queue.length > 0 && active.size < controls.parallelism) launch(queue.shift()!);
    rebalance();
    if (active.size === 0 && (queue.length === 0 || long)) break;
    const before = settled;
    await condition(() => settled !== before || controls.changed !== seen);
    seen = controls.changed;
  }
  if (controls.abortReason !== null || failure !== null) {
    signalAll((h) => h.signal(abortSignal));
    await condition(() => active.size === 0);
  }
  if (failure !== null) throw failure;
  return queue.length > 0 ? 'continue' : 'done';
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
