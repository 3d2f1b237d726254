// Prometheus metrics and the process-wide Temporal Runtime.
//
// The SDK's Core exports its own metrics (workflow/activity task latencies,
// poller counts, schedule-to-start, sticky cache, …) on a Prometheus endpoint
// when the Runtime is installed with `telemetryOptions.metrics.prometheus`.
// Our own counters and histograms are created from the SDK's metric meter
// (the activity Context's `metricMeter`, or `Runtime.instance().metricMeter`),
// so they appear on the same endpoint, with the activity's tags
// (namespace, task_queue, activity_type) added by the SDK.
import { Context } from '@temporalio/activity';
import type { Logger, MetricMeter } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import { JsonLogger, parseLevel, type LevelName } from './log';

export interface RuntimeConfig {
  /** Port of the Prometheus endpoint (`/metrics`); null = no metrics exporter. */
  metricsPort: number | null;
  /** Address to bind the endpoint to (default 0.0.0.0: scraped from other hosts). */
  metricsHost?: string;
  /** debug | info | warn | error (default info). */
  logLevel?: LevelName | string;
}

export interface InstalledRuntime {
  runtime: Runtime;
  logger: Logger;
  /** http://<host>:<port>/metrics, or null when metrics are off. */
  metricsUrl: string | null;
}

/** Metric names, for the docs and the dashboards. Counters get no `_total` suffix (SDK default). */
export const METRICS = {
  rowsCopied: 'cutover_rows_copied',
  rowsRejected: 'cutover_rows_rejected',
  batchesCommitted: 'cutover_batches_committed',
  batchesRetried: 'cutover_batches_retried',
  chunksCompleted: 'cutover_chunks_completed',
  chunksFailed: 'cutover_chunks_failed',
  chunkDuration: 'cutover_chunk_duration_seconds',
} as const;

let installed: InstalledRuntime | null = null;

/**
 * Installs the process-wide Temporal Runtime: JSON logs (the SDK's lines,
 * workflow and activity `log.*`, and Core's native lines at WARN+)
 * and, with a metrics port, the Prometheus exporter. Call it once, before the
 * first NativeConnection / Worker is created (the SDK installs a default
 * Runtime at that moment otherwise, and a Runtime cannot be replaced).
 * A second call returns the first installation.
 */
export function installRuntime(cfg: RuntimeConfig, opts: { logger?: Logger } = {}): InstalledRuntime {
  if (installed) return installed;
  const logger = opts.logger ?? new JsonLogger({ level: parseLevel(cfg.logLevel), base: { pid: process.pid } });
  const host = cfg.metricsHost ?? '0.0.0.0';
  const runtime = Runtime.install({
    logger,
    telemetryOptions: {
      // Core's native lines (WARN+) through our JSON logger, i.e. to stderr: printed by Core itself
      // they go to stdout, in the middle of `--json` output. Forwarding keeps the process alive
      // until the Runtime shuts down: see releaseRuntime.
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(cfg.metricsPort !== null && cfg.metricsPort !== undefined
        ? {
            metrics: {
              prometheus: {
                bindAddress: `${host}:${cfg.metricsPort}`,
                // Seconds, like every other Prometheus duration.
                useSecondsForDurations: true,
                histogramBucketOverrides: {
                  [METRICS.chunkDuration]: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
                },
              },
            },
          }
        : {}),
    },
  });
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  installed = { runtime, logger, metricsUrl: cfg.metricsPort !== null && cfg.metricsPort !== undefined ? `http://${shownHost}:${cfg.metricsPort}/metrics` : null };
  return installed;
}

/**
 * Shuts the Runtime down once no worker or native connection is open any more (a no-op while one
 * is). Call it when a command is done: Core's log forwarding would keep the process alive, also
 * for commands that never opened anything native.
 */
export async function releaseRuntime(): Promise<void> {
  const runtime = installed?.runtime as unknown as { shutdownIfIdle?: () => Promise<void> } | undefined;
  await runtime?.shutdownIfIdle?.();
}

export interface ChunkOutcome {
  table: string;
  rows: number;
  rejects: number;
  batches: number;
  resumedRows: number;
  seconds: number;
}

export interface ChunkMetrics {
  /** A chunk attempt started; attempt > 1 means Temporal retried it (at most one batch is re-done). */
  started(table: string, attempt: number): void;
  /** A chunk completed: its rows (including those committed by earlier attempts) are counted once. */
  completed(outcome: ChunkOutcome): void;
  /** A chunk attempt failed (retried or not) with this failure type. */
  failed(table: string, type: string, seconds: number): void;
}

/**
 * Our copy metrics. Inside an activity, pass nothing: the activity's meter
 * carries the SDK's tags. Outside one, the Runtime's meter is used (tests can
 * pass their own).
 */
export function chunkMetrics(meter?: MetricMeter): ChunkMetrics {
  const m = meter ?? currentMeter();
  const rows = m.createCounter(METRICS.rowsCopied, 'rows', 'Rows written to PostgreSQL by completed chunks');
  const rejects = m.createCounter(METRICS.rowsRejected, 'rows', 'Rows rejected into cutover.rejects by completed chunks');
  const batches = m.createCounter(METRICS.batchesCommitted, 'batches', 'COPY batches committed with their checkpoint');
  const retried = m.createCounter(METRICS.batchesRetried, 'batches', 'Chunk attempts retried by Temporal (each re-does at most one uncommitted batch)');
  const done = m.createCounter(METRICS.chunksCompleted, 'chunks', 'Chunks completed');
  const failedC = m.createCounter(METRICS.chunksFailed, 'chunks', 'Chunk attempts that failed, by failure type');
  const duration = m.createHistogram(METRICS.chunkDuration, 'float', 's', 'Wall time of one chunk attempt');
  return {
    started(table, attempt) {
      if (attempt > 1) retried.add(1, { table });
    },
    completed(o) {
      rows.add(Math.max(0, Math.round(o.rows)), { table: o.table });
      if (o.rejects > 0) rejects.add(Math.round(o.rejects), { table: o.table });
      if (o.batches > 0) batches.add(Math.round(o.batches), { table: o.table });
      done.add(1, { table: o.table });
      duration.record(Math.max(0, o.seconds), { table: o.table, outcome: 'completed' });
    },
    failed(table, type, seconds) {
      failedC.add(1, { table, type });
      duration.record(Math.max(0, seconds), { table, outcome: 'failed' });
    },
  };
}

function currentMeter(): MetricMeter {
  try {
    return Context.current().metricMeter;
  } catch {
    return Runtime.instance().metricMeter;
  }
}

interface ActivityArgs {
  runId?: unknown;
  chunk?: { table?: unknown; chunkNo?: unknown };
  table?: unknown;
}

function describeError(err: unknown): { type: string; message: string } {
  const e = err as { type?: unknown; name?: unknown; message?: unknown };
  return { type: typeof e?.type === 'string' ? e.type : typeof e?.name === 'string' ? e.name : 'Error', message: String(e?.message ?? err) };
}

/**
 * Wraps the worker's activities: a structured log line when each starts,
 * ends or fails (runId, table, chunk, attempt, seconds), and the copy metrics
 * for `copyChunk`. Returns the same activities, same types:
 * `activities: instrumentActivities(createActivities(deps))`.
 */
export function instrumentActivities<T extends object>(activities: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities as Record<string, unknown>)) {
    if (typeof fn !== 'function') {
      out[name] = fn;
      continue;
    }
    const wrapped = async (...args: unknown[]) => {
      const ctx = Context.current();
      const a = (args[0] ?? {}) as ActivityArgs;
      const table = typeof a.chunk?.table === 'string' ? a.chunk.table : typeof a.table === 'string' ? a.table : undefined;
      const fields = { runId: a.runId, table, chunk: a.chunk?.chunkNo, attempt: ctx.info.attempt };
      const isChunk = name === 'copyChunk' && table !== undefined;
      const metrics = isChunk ? chunkMetrics(ctx.metricMeter) : null;
      metrics?.started(table!, ctx.info.attempt);
      const t0 = Date.now();
      ctx.log.debug(`${name} started`, fields);
      try {
        const result = await (fn as (...x: unknown[]) => Promise<unknown>)(...args);
        const seconds = (Date.now() - t0) / 1000;
        if (metrics && result && typeof result === 'object') {
          const r = result as Partial<ChunkOutcome>;
          metrics.completed({ table: table!, rows: r.rows ?? 0, rejects: r.rejects ?? 0, batches: r.batches ?? 0, resumedRows: r.resumedRows ?? 0, seconds: r.seconds ?? seconds });
          ctx.log.info(`${name} done`, { ...fields, rows: r.rows, rejects: r.rejects, batches: r.batches, resumedRows: r.resumedRows, seconds });
        } else {
          ctx.log.info(`${name} done`, { ...fields, seconds });
        }
        return result;
      } catch (err) {
        const seconds = (Date.now() - t0) / 1000;
        const { type, message } = describeError(err);
        const cancelled = ctx.cancellationSignal.aborted;
        if (metrics && !cancelled) metrics.failed(table!, type, seconds);
        ctx.log[cancelled ? 'info' : 'warn'](cancelled ? `${name} stopped (cancelled: pause, abort or shutdown)` : `${name} failed`, { ...fields, failureType: type, error: message, seconds });
        throw err;
      }
    };
    Object.defineProperty(wrapped, 'name', { value: name });
    out[name] = wrapped;
  }
  return out as T;
}

/**
 * The Runtime settings for a `cutover …` command line, read before commander
 * parses it (the Runtime must exist before the first connection): JSON logs at
 * LOG_LEVEL (default info) for the long-running `worker` and `dev`, warnings
 * only for the interactive commands (their progress display owns the terminal);
 * metrics only for `worker`/`dev`, on --metrics-port or CUTOVER_METRICS_PORT.
 */
export function runtimeConfigFromArgv(argv: string[], env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const serving = argv.includes('worker') || argv.includes('dev');
  let port: string | undefined = env.CUTOVER_METRICS_PORT || undefined;
  const i = argv.findIndex((a) => a === '--metrics-port' || a.startsWith('--metrics-port='));
  if (i >= 0) port = argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  const n = port === undefined ? null : Number(port);
  return {
    metricsPort: serving && n !== null && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : null,
    metricsHost: env.CUTOVER_METRICS_HOST || undefined,
    logLevel: env.LOG_LEVEL?.toLowerCase() ?? (serving ? 'info' : 'warn'),
  };
}
