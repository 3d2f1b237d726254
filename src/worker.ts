// Builds the cutover worker: our workflows and activities on one task queue.
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { cachedWorkflowBundle } from './temporal/bundle-cache';
import { createActivities } from '../activities';
import { instrumentActivities } from './observability/metrics';
import type { ActivityDeps } from '../activities/deps';

import { existsSync } from 'node:fs';
import path from 'node:path';

// Sources run through tsx (no build step); a compiled tree has index.js instead.
export const WORKFLOWS_PATH = ['index.ts', 'index.js']
  .map((f) => path.join(__dirname, '..', 'workflows', f))
  .find((f) => existsSync(f))!;

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt bundle (tests build it once); otherwise the worker bundles at start. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  maxConcurrentActivityTaskExecutions?: number;
}

export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  opts.deps.listSearchAttributes ??= async () => {
    const r = await opts.connection.operatorService.listSearchAttributes({ namespace: opts.namespace });
    return Object.keys(r.customAttributes ?? {});
  };
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    // JSON log lines per activity (runId, table, chunk) and the cutover_* metrics.
    activities: instrumentActivities(createActivities(opts.deps)),
    workflowBundle: opts.workflowBundle ?? (await bundleWorkflows()),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions ?? 16,
    // Activities stop at the next batch boundary; give in-flight COPYs time to commit.
    shutdownGraceTime: '30s',
    // Heartbeats carry cancellation (pause, abort) to running chunks: send them often.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
  });
}

export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return cachedWorkflowBundle(WORKFLOWS_PATH, quietBundlerLogger);
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
};
