// `cutover dev`: a local stack to try cutover from the Temporal UI, the
// `temporal` CLI or `cutover start`: the Temporal dev server (UI on :8233,
// state persisted in the state dir), a worker, and an embedded PostgreSQL when
// no CUTOVER_TARGET_URL is set. Ctrl-C stops the worker (in-flight batches
// commit), then PostgreSQL, then Temporal.
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { defaultDeps } from '../../../activities/deps';
import type { Config } from '../../config';
import { startDevStack, type DevStack } from '../../dev/stack';
import { connectWorker } from '../../temporal/connect';
import { createWorker } from '../../worker';
import { CliError, ExitCode } from '../exit-codes';

export interface DevFlags {
  /** Temporal gRPC port (default 7233; 0 = any free port). */
  port?: number;
  /** Temporal UI port (default 8233; 0 = any free port). */
  uiPort?: number;
  /** Print the addresses as one JSON object on stdout once ready. */
  json?: boolean;
}

export interface DevInfo {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  uiUrl: string | null;
  /** The target the worker writes to, password hidden; "CUTOVER_TARGET_URL" when given by the environment. */
  target: string;
  embeddedPostgres: boolean;
  stateDir: string;
  exampleInput: { source: string; target: string };
  temporalStartCommand: string;
}

export interface DevOptions {
  /** Resolves when the stack should stop (default: SIGINT or SIGTERM). */
  until?: Promise<unknown>;
  onReady?: (info: DevInfo) => void;
  /** A prebuilt workflow bundle (tests); otherwise the worker bundles at start. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  env?: NodeJS.ProcessEnv;
  out?: (text: string) => void;
}

function hidePassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(set)';
  }
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The `temporal workflow start` line that starts a run on this stack. */
export function temporalStartLine(address: string, namespace: string, taskQueue: string, input: object, workflowId = 'my-first-cutover'): string {
  return [
    'temporal workflow start',
    `--address ${address}`,
    `--namespace ${shellQuote(namespace)}`,
    `--task-queue ${shellQuote(taskQueue)}`,
    '--type migrateSqliteToPostgres',
    `--workflow-id ${shellQuote(workflowId)}`,
    `--input ${shellQuote(JSON.stringify(input))}`,
  ].join(' \\\n    ');
}

function waitForSignal(): { promise: Promise<NodeJS.Signals>; dispose(): void } {
  let handler: ((s: NodeJS.Signals) => void) | null = null;
  const promise = new Promise<NodeJS.Signals>((resolve) => {
    handler = (s) => resolve(s);
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  });
  return {
    promise,
    dispose() {
      if (handler) {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      }
    },
  };
}

export async function devCommand(cfg: Config, flags: DevFlags, log: (m: string) => void, opts: DevOptions = {}): Promise<number> {
  const env = opts.env ?? process.env;
  const out = opts.out ?? ((t: string) => process.stdout.write(t));
  if (cfg.temporalAddress) log(`TEMPORAL_ADDRESS=${cfg.temporalAddress} is ignored: cutover dev starts its own Temporal dev server`);
  const externalTarget = env.CUTOVER_TARGET_URL?.trim() || null;

  let stack: DevStack;
  try {
    stack = await startDevStack({
      stateDir: cfg.stateDir,
      temporalPort: flags.port ?? 7233,
      uiPort: flags.uiPort ?? (flags.port === undefined ? 8233 : undefined),
      namespace: cfg.namespace,
      targetUrl: externalTarget,
      log,
    });
  } catch (err) {
    throw new CliError(
      `could not start the dev stack: ${(err as Error).message}. If port ${flags.port ?? 7233} or ${flags.uiPort ?? 8233} is taken (another \`cutover dev\` or \`temporal server start-dev\`), stop it or pass --port 0 --ui-port 0; the Temporal server log is in ${cfg.stateDir}/temporal.`,
      ExitCode.Unreachable,
      { cause: err },
    );
  }

  const deps = defaultDeps(externalTarget ? {} : { default: stack.targetUrl });
  let connection: Awaited<ReturnType<typeof connectWorker>> | null = null;
  const signals = opts.until ? null : waitForSignal();
  try {
    connection = await connectWorker(cfg, stack.temporalAddress);
    const worker = await createWorker({ connection, namespace: stack.namespace, taskQueue: cfg.taskQueue, deps, workflowBundle: opts.workflowBundle });
    const running = worker.run();

    const exampleInput = { source: '/absolute/path/to/app.db', target: 'default' };
    const info: DevInfo = {
      temporalAddress: stack.temporalAddress,
      namespace: stack.namespace,
      taskQueue: cfg.taskQueue,
      uiUrl: stack.uiUrl,
      target: externalTarget ? 'CUTOVER_TARGET_URL' : hidePassword(stack.targetUrl),
      embeddedPostgres: stack.embeddedPostgres !== null,
      stateDir: cfg.stateDir,
      exampleInput,
      temporalStartCommand: temporalStartLine(stack.temporalAddress, stack.namespace, cfg.taskQueue, exampleInput),
    };
    if (flags.json) {
      out(JSON.stringify(info) + '\n');
    } else {
      out(
        [
          '',
          'cutover dev stack is up:',
          `  Temporal UI        ${stack.uiUrl ?? '(off)'}`,
          `  Temporal frontend  ${stack.temporalAddress}   (namespace ${stack.namespace})`,
          `  worker             task queue "${cfg.taskQueue}"`,
          `  target "default"   ${externalTarget ? 'from CUTOVER_TARGET_URL' : `embedded PostgreSQL ${stack.embeddedPostgres?.version ?? ''} ${hidePassword(stack.targetUrl)}`}`,
          `  state              ${cfg.stateDir}`,
          '',
          'Start a migration (UI: Start Workflow → Task Queue ' + cfg.taskQueue + ', Workflow Type migrateSqliteToPostgres, Input as below), or:',
          '',
          `  ${info.temporalStartCommand}`,
          '',
          `  TEMPORAL_ADDRESS=${stack.temporalAddress} npx cutover start --source /absolute/path/to/app.db --target default`,
          `  TEMPORAL_ADDRESS=${stack.temporalAddress} npx cutover status <run-id>`,
          '',
          'Ctrl-C stops the worker (in-flight batches commit first), PostgreSQL and Temporal.',
          '',
        ].join('\n'),
      );
    }
    opts.onReady?.(info);

    // The SDK also shuts the worker down on SIGINT/SIGTERM by itself; either way we drain then stop.
    const stopReason = await Promise.race([
      (opts.until ?? signals!.promise).then((s) => `stop requested${typeof s === 'string' ? ` (${s})` : ''}`),
      running.then(
        () => 'worker stopped',
        (err: unknown) => `worker failed: ${(err as Error).message}`,
      ),
    ]);
    log(`${stopReason}: stopping the worker, then the stack…`);
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch((err: unknown) => log(`worker: ${(err as Error).message}`));
    return stopReason.startsWith('worker failed') ? ExitCode.Failed : ExitCode.Success;
  } finally {
    signals?.dispose();
    await deps.pools.closeAll().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await stack.stop().catch((err: unknown) => log(`stopping the stack: ${(err as Error).message}`));
    log('dev stack stopped');
  }
}
