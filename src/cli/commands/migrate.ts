// `cutover migrate` (start, watch, wait, report) and `cutover start` (start, print the run id).
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import path from 'node:path';
import { migrateSqliteToPostgres } from '../../../workflows';
import { progressQuery } from '../../../workflows/api';
import type { Config } from '../../config';
import type { MigrationInput, MigrationReport } from '../../types';
import { CliError, ExitCode, exitCodeForFailure } from '../exit-codes';
import { createProgressView, inFlightRows } from '../progress';
import { formatReport } from '../report';
import { openSession, type Session } from '../session';

export interface MigrateFlags {
  source: string;
  target?: string;
  targetSchema?: string;
  batchSize?: number;
  chunkSize?: number;
  parallelism?: number;
  allowRejects?: boolean;
  infer?: boolean;
  map?: string[];
  keepState?: boolean;
  snapshot?: boolean;
  orphans?: 'fail' | 'reject' | 'keep';
  identifiers?: 'keep' | 'lower' | 'snake';
  schema?: 'create' | 'existing';
  truncate?: boolean;
  ignoreColumns?: string;
  drizzleMigrations?: string;
  sqlMigrations?: string;
  schemaOnly?: boolean;
  grantSelect?: string;
  requireApproval?: boolean;
  cutoverHook?: string;
  onSourceChange?: 'ask' | 'rerun' | 'fail';
  validation?: 'count' | 'checksum';
  onNul?: 'reject' | 'strip';
  onInvalidUtf8?: 'reject' | 'replace';
  maxRejects?: number;
  withWorker?: boolean;
  workflowId?: string;
  json?: boolean;
}

const isUrl = (s: string) => /^postgres(ql)?:\/\//i.test(s);

/** Splits --target into what goes in the workflow (a name) and what stays in this process (the URL). */
export function targetFor(flags: MigrateFlags, cfg: Config, env = process.env): { name: string; inProcessTargets: Record<string, string>; needsWorker: boolean } {
  const given = flags.target ?? env.CUTOVER_TARGET ?? null;
  if (given && isUrl(given)) {
    return { name: 'default', inProcessTargets: { default: given }, needsWorker: true };
  }
  if (given) return { name: given, inProcessTargets: {}, needsWorker: false };
  if (env.CUTOVER_TARGET_URL) return { name: 'default', inProcessTargets: { default: env.CUTOVER_TARGET_URL }, needsWorker: false };
  if (!cfg.temporalAddress) return { name: 'default', inProcessTargets: {}, needsWorker: false };
  throw new CliError('no target: pass --target postgres://… (or a connection name the worker knows), or set CUTOVER_TARGET_URL.', ExitCode.BadInput);
}

export function parseMaps(maps: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of maps) {
    const eq = m.indexOf('=');
    if (eq <= 0 || !m.slice(0, eq).includes('.')) throw new CliError(`--map "${m}" must look like table.column=type[:unit], e.g. candles.time=timestamp:s`, ExitCode.BadInput);
    out[m.slice(0, eq)] = m.slice(eq + 1);
  }
  return out;
}

export function workflowInput(flags: MigrateFlags, targetName: string): MigrationInput {
  return {
    source: path.resolve(flags.source),
    target: targetName,
    targetSchema: flags.targetSchema,
    batchSize: flags.batchSize,
    chunkSize: flags.chunkSize,
    parallelism: flags.parallelism,
    allowRejects: flags.allowRejects,
    infer: flags.infer,
    map: flags.map?.length ? parseMaps(flags.map) : undefined,
    keepStateOnRollback: flags.keepState,
    snapshot: flags.snapshot === false ? false : undefined,
    orphans: flags.orphans,
    identifiers: flags.identifiers,
    schema: flags.schema,
    truncate: flags.truncate || undefined,
    ignoreColumns: flags.ignoreColumns ? flags.ignoreColumns.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    // Folders are paths as the worker sees them, like the source.
    drizzleMigrations: flags.drizzleMigrations ? path.resolve(flags.drizzleMigrations) : undefined,
    sqlMigrations: flags.sqlMigrations ? path.resolve(flags.sqlMigrations) : undefined,
    schemaOnly: flags.schemaOnly || undefined,
    grantSelect: flags.grantSelect,
    requireApproval: flags.requireApproval || undefined,
    cutoverHook: flags.cutoverHook,
    onSourceChange: flags.onSourceChange,
    validation: flags.validation,
    onNul: flags.onNul,
    onInvalidUtf8: flags.onInvalidUtf8,
    maxRejects: flags.maxRejects,
  };
}

export function defaultWorkflowId(source: string): string {
  const base = path.basename(source).replace(/[^A-Za-z0-9_.-]/g, '_');
  return `cutover-${base}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}`;
}

export async function startRun(client: Client, cfg: Config, input: MigrationInput, workflowId: string): Promise<WorkflowHandle<typeof migrateSqliteToPostgres>> {
  return client.workflow.start(migrateSqliteToPostgres, {
    taskQueue: cfg.taskQueue,
    workflowId,
    args: [input],
  });
}

export interface RunOutcome {
  exitCode: number;
  report: MigrationReport | null;
  message: string;
}

/** Watches a run to its end, rendering progress; returns the exit code and the report. */
export async function watchRun(handle: WorkflowHandle, opts: { json: boolean; log: (m: string) => void }): Promise<RunOutcome> {
  const tty = Boolean(process.stderr.isTTY) && !opts.json;
  const view = createProgressView(process.stderr, tty);
  let polling = true;
  // One controller per poll: the client adds an abort listener per call and never removes it, so a
  // shared signal would collect one listener per second for the whole run.
  let inFlightPoll: AbortController | null = null;
  // The pause between polls ends early when the run ends: the result is printed at once, not up
  // to a poll interval later.
  let wake = () => {};
  const poll = (async () => {
    while (polling) {
      try {
        const controller = new AbortController();
        inFlightPoll = controller;
        const [p, inFlight] = await handle.client.withAbortSignal(controller.signal, () => Promise.all([handle.query(progressQuery), inFlightRows(handle)]));
        inFlightPoll = null;
        if (!polling) break;
        view.update(p, inFlight);
      } catch {
        // The query fails until the first workflow task ran: keep polling.
      }
      if (!polling) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, tty ? 500 : 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  try {
    const report = (await handle.result()) as MigrationReport;
    return { exitCode: ExitCode.Success, report, message: `run ${handle.workflowId} succeeded` };
  } catch (err) {
    return outcomeOfFailure(handle.workflowId, err);
  } finally {
    polling = false;
    wake();
    // A progress query sent as the run closes can be buffered by the server for a workflow task
    // that never comes, and answered only at its timeout (seen: the report printed ≈ 10 s after
    // the run ended, in 2 of 18 bench runs). Its answer is not needed any more: cancel it.
    (inFlightPoll as AbortController | null)?.abort();
    await poll;
    view.stop();
  }
}

function outcomeOfFailure(runId: string, err: unknown): RunOutcome {
  if (err instanceof WorkflowFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) {
      const report = (cause.details?.[0] as MigrationReport | undefined) ?? null;
      let code = exitCodeForFailure(cause.type ?? undefined);
      if (code === ExitCode.ValidationFailed && report && report.totals.rejects > 0) code = ExitCode.RejectsPresent;
      return { exitCode: code, report, message: cause.message };
    }
    const name = cause?.name ?? '';
    if (name === 'CancelledFailure' || name === 'TerminatedFailure') return { exitCode: ExitCode.Aborted, report: null, message: `run ${runId} was ${name === 'CancelledFailure' ? 'cancelled and rolled back' : 'terminated'}` };
    return { exitCode: ExitCode.Failed, report: null, message: cause?.message ?? err.message };
  }
  return { exitCode: ExitCode.Failed, report: null, message: (err as Error).message };
}

export function printOutcome(outcome: RunOutcome, json: boolean, uiUrl: string | null, runId: string): void {
  if (json) {
    process.stdout.write(JSON.stringify({ runId, ok: outcome.exitCode === 0, exitCode: outcome.exitCode, message: outcome.message, report: outcome.report }, null, 2) + '\n');
    return;
  }
  if (outcome.report) process.stdout.write(formatReport(outcome.report) + '\n\n');
  process.stdout.write(`${outcome.exitCode === 0 ? 'OK' : 'FAILED'}: ${outcome.message}\n`);
  if (uiUrl) process.stdout.write(`history: ${uiUrl}/namespaces/default/workflows/${encodeURIComponent(runId)}\n`);
}

export async function migrateCommand(cfg: Config, flags: MigrateFlags, opts: { log: (m: string) => void; embeddedPostgres?: boolean; onSession?: (s: Session) => void; prepareTarget?: (url: string) => Promise<string> }): Promise<RunOutcome & { session: Session; runId: string }> {
  const target = targetFor(flags, cfg);
  const withWorker = Boolean(flags.withWorker) || !cfg.temporalAddress;
  if (target.needsWorker && !withWorker) {
    throw new CliError(
      `--target is a URL, but runs on ${cfg.temporalAddress} are executed by the cluster's workers, which must not receive URLs through workflow input. Configure CUTOVER_TARGET_URL_<NAME> on those workers and pass --target <name>, or add --with-worker to run a worker in this process.`,
      ExitCode.BadInput,
    );
  }
  const session = await openSession(cfg, {
    withWorker,
    targets: target.inProcessTargets,
    embeddedPostgres: opts.embeddedPostgres ?? (!cfg.temporalAddress && Object.keys(target.inProcessTargets).length === 0),
    log: opts.log,
    prepareTarget: opts.prepareTarget,
  });
  opts.onSession?.(session);
  const runId = flags.workflowId ?? defaultWorkflowId(flags.source);
  const handle = await startRun(session.client, cfg, workflowInput(flags, target.name), runId);
  opts.log(`started run ${runId} on task queue ${cfg.taskQueue}${session.uiUrl ? ` — ${session.uiUrl}/namespaces/${cfg.namespace}/workflows/${encodeURIComponent(runId)}` : ''}`);
  const outcome = await watchRun(handle, { json: Boolean(flags.json), log: opts.log });
  return { ...outcome, session, runId };
}
