// What a CLI command runs against: an existing Temporal cluster, or the
// embedded stack (Temporal dev server, optional embedded PostgreSQL, and an
// in-process worker that alone knows the target URL).
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { defaultDeps, type ActivityDeps } from '../../activities/deps';
import type { Config } from '../config';
import { startDevStack, type DevStack } from '../dev/stack';
import { connectClient, connectWorker } from '../temporal/connect';
import { createWorker } from '../worker';
import { CliError, ExitCode } from './exit-codes';

export interface Session {
  client: Client;
  address: string;
  uiUrl: string | null;
  /** The target URL the embedded stack made (embedded PostgreSQL), if any. */
  embeddedTargetUrl: string | null;
  stack: DevStack | null;
  stop(): Promise<void>;
}

export interface SessionOptions {
  /** Run a worker in this process (always, with the embedded stack). */
  withWorker: boolean;
  /** Target name → URL for the in-process worker only. */
  targets: Record<string, string>;
  /** Start embedded PostgreSQL when no target URL is known (demo, dev). */
  embeddedPostgres: boolean;
  log: (msg: string) => void;
  /** Embedded stack ports (defaults: 7233 and UI 8233, or free ports when taken). */
  temporalPort?: number;
  uiPort?: number;
  /** Turns the embedded PostgreSQL's admin URL into the target URL (e.g. a fresh database). */
  prepareTarget?: (embeddedUrl: string) => Promise<string>;
}

export async function openSession(cfg: Config, opts: SessionOptions): Promise<Session> {
  let stack: DevStack | null = null;
  let address = cfg.temporalAddress;
  let uiUrl: string | null = null;
  let embeddedTargetUrl: string | null = null;
  if (!address) {
    opts.log(`no TEMPORAL_ADDRESS: starting the embedded stack (state in ${cfg.stateDir})`);
    try {
      stack = await startDevStack({
        stateDir: cfg.stateDir,
        temporalPort: opts.temporalPort,
        uiPort: opts.uiPort,
        namespace: cfg.namespace,
        // A target URL given by the caller means no embedded PostgreSQL is needed.
        targetUrl: opts.embeddedPostgres ? null : (opts.targets.default ?? 'external'),
        log: opts.log,
      });
    } catch (err) {
      throw new CliError(`could not start the embedded Temporal stack: ${(err as Error).message}`, ExitCode.Unreachable, { cause: err });
    }
    address = stack.temporalAddress;
    uiUrl = stack.uiUrl;
    embeddedTargetUrl = stack.embeddedPostgres?.url ?? null;
    if (embeddedTargetUrl && opts.prepareTarget) embeddedTargetUrl = await opts.prepareTarget(embeddedTargetUrl);
  }
  let client: Client;
  try {
    client = await connectClient(cfg, address);
  } catch (err) {
    await stack?.stop();
    throw new CliError(
      `cannot reach Temporal at ${address}: ${(err as Error).message}. Check TEMPORAL_ADDRESS (--temporal-address), or unset it to use the embedded stack.`,
      ExitCode.Unreachable,
      { cause: err },
    );
  }

  let worker: Worker | null = null;
  let deps: ActivityDeps | null = null;
  let workerRun: Promise<void> | null = null;
  let workerConnection: Awaited<ReturnType<typeof connectWorker>> | null = null;
  if (opts.withWorker || stack) {
    const targets = { ...opts.targets };
    if (embeddedTargetUrl && !targets.default) targets.default = embeddedTargetUrl;
    const connection = (workerConnection = await connectWorker(cfg, address));
    deps = defaultDeps(targets);
    worker = await createWorker({ connection, namespace: cfg.namespace, taskQueue: cfg.taskQueue, deps });
    workerRun = worker.run();
    workerRun.catch((err) => opts.log(`worker stopped: ${(err as Error).message}`));
  }

  let stopped = false;
  return {
    client,
    address,
    uiUrl,
    embeddedTargetUrl,
    stack,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (worker) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun?.catch(() => undefined);
      }
      // The last native object: closing it shuts the Temporal Runtime down, which ends Core's log forwarding.
      await workerConnection?.close().catch(() => undefined);
      // Idle pooled connections would otherwise keep the process alive for their idle timeout.
      await deps?.pools.closeAll();
      await client.connection.close().catch(() => undefined);
      await stack?.stop();
    },
  };
}
