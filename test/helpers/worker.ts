// A real worker on the shared dev server, on a task queue of its own, with
// the real activities pointed at a test database.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { defaultDeps, type ActivityDeps } from '../../activities/deps';
import { bundleWorkflows, createWorker } from '../../src/worker';
import { testEnv } from './env';

let bundle: Promise<WorkflowBundleWithSourceMap> | null = null;

/** Bundling takes seconds: once per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflows();
  return bundle;
}

export interface TestWorker {
  client: Client;
  taskQueue: string;
  worker: Worker;
  deps: ActivityDeps;
  stop(): Promise<void>;
}

export async function startTestWorker(prefix: string, targets: Record<string, string>, deps?: ActivityDeps): Promise<TestWorker> {
  const env = testEnv();
  const taskQueue = env.taskQueue(prefix);
  const d = deps ?? defaultDeps(targets);
  const nativeConnection = await NativeConnection.connect({ address: env.temporalAddress });
  const worker = await createWorker({ connection: nativeConnection, namespace: env.namespace, taskQueue, deps: d, workflowBundle: await workflowBundle() });
  const running = worker.run();
  const connection = await Connection.connect({ address: env.temporalAddress });
  const client = new Client({ connection, namespace: env.namespace });
  return {
    client,
    taskQueue,
    worker,
    deps: d,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await d.pools.closeAll();
      await nativeConnection.close();
      await connection.close();
    },
  };
}
