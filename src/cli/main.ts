// The `cutover` command line. Strict parsing, kebab-case flags, exit 0 only on success.
import { Command, InvalidArgumentError, type Option } from 'commander';
import { ConfigError, resolveConfig, type Config, type ConfigFlags } from '../config';
import { installRuntime, releaseRuntime, runtimeConfigFromArgv } from '../observability/metrics';
import { CliError, ExitCode } from './exit-codes';
import { abortCommand, approveCommand, pauseCommand, rerunChangedCommand, resumeCommand, setParallelismCommand } from './commands/control';
import { demoCommand } from './commands/demo';
import { registerVerify } from './commands/verify';
import { planCommand } from './commands/plan';
import { rollbackCommand } from './commands/rollback';
import { devCommand } from './commands/dev';
import { migrateCommand, printOutcome, startRun, targetFor, workflowInput, defaultWorkflowId, type MigrateFlags } from './commands/migrate';
import { statusCommand } from './commands/status';
import { workerCommand } from './commands/worker';
import { openSession } from './session';

const log = (m: string) => process.stderr.write(`[cutover] ${m}\n`);
let verbose = false;

function int(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive whole number`);
    return n;
  };
}

function collect(v: string, acc: string[] = []): string[] {
  return [...acc, v];
}

function config(cmd: Command): Readonly<Config> {
  const o = cmd.optsWithGlobals() as ConfigFlags;
  return resolveConfig(o);
}

function addMigrationOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--source <file>', 'SQLite file to migrate (path as the worker sees it)', process.env.CUTOVER_SOURCE)
    .option('--target <url-or-name>', 'PostgreSQL URL (in-process worker) or a connection name the worker knows (env CUTOVER_TARGET, CUTOVER_TARGET_URL)')
    .option('--target-schema <schema>', 'schema to create the tables in (env CUTOVER_TARGET_SCHEMA)', process.env.CUTOVER_TARGET_SCHEMA ?? 'public')
    .option('--batch-size <rows>', 'rows per COPY batch at most (a batch also ends at about 4 MB), committed with its checkpoint', int('--batch-size'))
    .option('--chunk-size <rows>', 'rows per chunk at most (one activity; a large table gets equal chunks, a multiple of --parallelism when they stay ≥ 500,000 rows)', int('--chunk-size'))
    .option('--parallelism <n>', 'chunks copied at once', int('--parallelism'))
    .option('--allow-rejects', 'succeed even when rows were rejected (they stay in cutover.rejects)', process.env.CUTOVER_ALLOW_REJECTS === 'true')
    .option('--infer', "apply the profile's suggestions (booleans, epochs, jsonb, uuid)", false)
    .option('--map <table.column=type>', 'override one column type, e.g. candles.time=timestamp:s (repeatable)', collect)
    .option('--keep-state', 'keep cutover.* rows after a rollback, for audit', false)
    .option('--no-snapshot', 'read the live file instead of a snapshot (the app must be stopped: any write fails the run)')
    .option('--orphans <policy>', 'rows whose FK parent is missing: fail (default), reject, keep')
    .option('--on-nul <policy>', 'text with a NUL character: reject (default) or strip')
    .option('--on-invalid-utf8 <policy>', 'text that is not UTF-8: reject (default) or replace (U+FFFD)')
    .option('--max-rejects <n>', 'succeed when at most n rows were rejected', (v: string) => Number(v))
    .option('--identifiers <rule>', 'target names: keep (default), lower, snake')
    .option('--schema <mode>', 'create (default) the tables, or load into existing ones')
    .option('--truncate', 'existing schema: empty the target tables first (backed up, restored on rollback)')
    .option('--ignore-columns <list>', 'existing schema: source columns to leave out, e.g. users.legacy,audit.*')
    .option('--drizzle-migrations <dir>', "apply the app's Drizzle migrations folder first (implies --schema existing)")
    .option('--sql-migrations <dir>', 'apply ordered .sql files first, one transaction each (implies --schema existing)')
    .option('--schema-only', 'create the tables and constraints, copy no rows')
    .option('--grant-select <role>', 'grant USAGE and SELECT on the migrated tables to this role')
    .option('--validation <kind>', 'checksum (default: counts plus content checksums) or count (row counts only)')
    .option('--require-approval', 'wait after validation for `cutover approve RUN` before the cutover')
    .option('--cutover-hook <command>', 'run this command at cutover (env CUTOVER_RUN_ID, CUTOVER_REPORT_PATH)')
    .option('--on-source-change <policy>', 'source written after the snapshot, found at the gate: ask (default: wait for rerun-changed or abort), rerun, fail')
    .option('--with-worker', 'run a worker in this process even with TEMPORAL_ADDRESS set', false)
    .option('--workflow-id <id>', 'workflow id (= run id) to use')
    .option('--json', 'print the final report as JSON on stdout', false);
}

export function buildProgram(): Command {
  const program = new EnvCommand('cutover')
    .description('Durable SQLite → PostgreSQL migrations, run as a Temporal workflow.')
    .option('--temporal-address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS); unset = embedded stack')
    .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE)')
    .option('--task-queue <name>', 'task queue (env CUTOVER_TASK_QUEUE, default cutover)')
    .option('--state-dir <dir>', 'embedded stack state (env CUTOVER_STATE_DIR, default ./.cutover)')
    .option('--metrics-port <port>', 'Prometheus /metrics port for `worker` and `dev` (env CUTOVER_METRICS_PORT)')
    .option('--verbose', 'show stack traces on errors', false)
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: false })
    .exitOverride();
  program.hook('preAction', (cmd) => {
    verbose = Boolean(cmd.optsWithGlobals().verbose);
  });

  addMigrationOptions(
    program
      .command('migrate')
      .description('Run a migration and wait: live progress, a report, exit 0 only if it completed and validated.')
      .addHelpText('after', '\nExamples:\n  cutover migrate --source app.db --target postgres://user:pw@localhost/app\n  TEMPORAL_ADDRESS=temporal:7233 cutover migrate --source /data/app.db --target default --json'),
  ).action(async (flags: MigrateFlags, cmd: Command) => {
    const cfg = config(cmd);
    const outcome = await migrateCommand(cfg, flags, { log });
    try {
      printOutcome(outcome, Boolean(flags.json), outcome.session.uiUrl, outcome.runId);
    } finally {
      await outcome.session.stop();
    }
    process.exitCode = outcome.exitCode;
  });

  addMigrationOptions(
    program
      .command('start')
      .description('Start a migration on a running cluster and print its run id at once.')
      .addHelpText('after', '\nExample:\n  TEMPORAL_ADDRESS=localhost:7233 cutover start --source /data/app.db --target default'),
  ).action(async (flags: MigrateFlags, cmd: Command) => {
    const cfg = config(cmd);
    if (!cfg.temporalAddress) throw new CliError('cutover start needs a running cluster: set TEMPORAL_ADDRESS (or --temporal-address), e.g. the one `cutover dev` prints. Use `cutover migrate` to run with the embedded stack.', ExitCode.BadInput);
    const target = targetFor(flags, cfg);
    if (target.needsWorker) throw new CliError('cutover start cannot pass a URL to the cluster\'s workers: use --target <name> with CUTOVER_TARGET_URL_<NAME> set on the workers.', ExitCode.BadInput);
    const session = await openSession(cfg, { withWorker: false, targets: {}, embeddedPostgres: false, log });
    try {
      const runId = flags.workflowId ?? defaultWorkflowId(flags.source);
      await startRun(session.client, cfg, workflowInput(flags, target.name), runId);
      if (flags.json) process.stdout.write(JSON.stringify({ runId }) + '\n');
      else process.stdout.write(`${runId}\n`);
    } finally {
      await session.stop();
    }
  });

  program
    .command('status <run-id>')
    .description("Show a run's phase and per-table progress (the workflow's progress query).")
    .option('--json', 'print JSON', false)
    .addHelpText('after', '\nExample:\n  cutover status cutover-app.db-20261121T101500 --json')
    .action(async (runId: string, flags: { json: boolean }, cmd: Command) => {
      process.exitCode = await statusCommand(config(cmd), runId, flags, log);
    });

  const run = (id: string) => `  temporal workflow ${id}`;
  // pause, resume, approve: one signal without arguments each.
  const runSignal = (name: string, description: string, send: typeof pauseCommand) =>
    program
      .command(`${name} <run-id>`)
      .description(description)
      .option('--json', 'print the result as JSON', false)
      .addHelpText('after', `\nExamples:\n  cutover ${name} cutover-app.db-20261121T101500\n${run(`signal --workflow-id <run-id> --name ${name}`)}`)
      .action(async (runId: string, flags: { json: boolean }, cmd: Command) => {
        process.exitCode = await send(config(cmd), runId, flags, log);
      });
  runSignal('pause', 'Pause a run: in-flight chunks commit their current batch and stop; nothing new starts.', pauseCommand);
  runSignal('resume', 'Resume a paused run: chunks continue after their last committed batch.', resumeCommand);
  runSignal('approve', 'Let a run waiting at its approval gate continue.', approveCommand);
  program
    .command('rerun-changed <run-id>')
    .description('At the cutover gate, after the source changed since the snapshot: copy the changed tables again from a new snapshot (then validate and return to the gate).')
    .option('--json', 'print the result as JSON', false)
    .addHelpText('after', `\nExamples:\n  cutover rerun-changed cutover-app.db-20261121T101500\n${run('signal --workflow-id <run-id> --name rerunChanged')}`)
    .action(async (runId: string, flags: { json: boolean }, cmd: Command) => {
      process.exitCode = await rerunChangedCommand(config(cmd), runId, flags, log);
    });

  program
    .command('abort <run-id>')
    .description('Abort a run: it stops and rolls back everything it created in the target (the source is never touched).')
    .option('--reason <text>', 'why, recorded in the history and the failure message')
    .option('--json', 'print the result as JSON', false)
    .addHelpText('after', `\nExamples:\n  cutover abort cutover-app.db-20261121T101500 --reason "wrong source file"\n${run(`signal --workflow-id <run-id> --name abort --input '"wrong source file"'`)}`)
    .action(async (runId: string, flags: { json: boolean; reason?: string }, cmd: Command) => {
      process.exitCode = await abortCommand(config(cmd), runId, flags, log);
    });

  program
    .command('set-parallelism <run-id> <n>')
    .description('Change how many chunks a run copies at once (1-64); prints the previous value.')
    .option('--json', 'print the result as JSON', false)
    .addHelpText('after', `\nExamples:\n  cutover set-parallelism cutover-app.db-20261121T101500 4\n${run('update execute --workflow-id <run-id> --name setParallelism --input 4')}`)
    .action(async (runId: string, n: string, flags: { json: boolean }, cmd: Command) => {
      process.exitCode = await setParallelismCommand(config(cmd), runId, Number(n), flags, log);
    });

  program
    .command('dev')
    .description('Run a local stack: Temporal dev server (UI on :8233, state in --state-dir), a worker, and embedded PostgreSQL unless CUTOVER_TARGET_URL is set. Ctrl-C stops it all.')
    .option('--port <port>', 'Temporal gRPC port (0 = any free port)', (v: string) => Number(v), 7233)
    .option('--ui-port <port>', 'Temporal UI port (0 = any free port; default port + 1000)', (v: string) => Number(v))
    .option('--json', 'print the addresses as JSON once ready', false)
    .addHelpText('after', '\nExamples:\n  cutover dev\n  CUTOVER_TARGET_URL=postgres://app:pw@localhost/app cutover dev --metrics-port 9464')
    .action(async (flags: { port: number; uiPort?: number; json: boolean }, cmd: Command) => {
      process.exitCode = await devCommand(config(cmd), flags, log);
    });

  program
    .command('worker')
    .description('Run a worker: executes migrations for the task queue; targets come from CUTOVER_TARGET_URL[_<NAME>].')
    .addHelpText('after', '\nExample:\n  TEMPORAL_ADDRESS=localhost:7233 CUTOVER_TARGET_URL=postgres://… cutover worker')
    .action(async (_flags: unknown, cmd: Command) => {
      process.exitCode = await workerCommand(config(cmd), log);
    });

  program
    .command('demo')
    .description('Build a sample candle-annotator database (~1M rows), migrate it into embedded PostgreSQL, show the report.')
    .option('--rows <n>', 'candles to generate', int('--rows'), 900_000)
    .option('--exit', 'exit after the report instead of keeping the UI up', false)
    .option('--json', 'print the report as JSON', false)
    .action(async (flags: { rows: number; exit: boolean; json: boolean }, cmd: Command) => {
      process.exitCode = await demoCommand(config(cmd), flags, log);
    });

  program
    .command('plan')
    .description('Print how every table and column would be mapped, with reasons, warnings and suggestions (no Temporal, no target).')
    .requiredOption('--source <file>', 'SQLite file')
    .option('--target-schema <schema>', 'schema the plan is for', 'public')
    .option('--map <table.column=type>', 'override one column type (repeatable)', collect)
    .option('--infer', "apply the profile's suggestions", false)
    .option('--identifiers <rule>', 'keep (default), lower, snake')
    .option('--orphans <policy>', 'fail (default), reject, keep')
    .option('--json', 'print the plan as JSON', false)
    .addHelpText('after', '\nExamples:\n  cutover plan --source app.db\n  cutover plan --source app.db --map candles.time=timestamp:s --json')
    .action((flags) => {
      process.exitCode = planCommand(flags);
    });

  program
    .command('rollback <run-id>')
    .description('Undo everything a run created in the target (a finished run, or an interrupted rollback); idempotent.')
    .option('--target <url-or-name>', 'target name the workers know (default "default"), or a URL with the embedded stack')
    .option('--keep-state', "keep the run's cutover.* rows, marked rolled back", false)
    .option('--with-worker', 'run a worker in this process', false)
    .option('--json', 'print the result as JSON', false)
    .addHelpText('after', '\nExamples:\n  TEMPORAL_ADDRESS=localhost:7233 cutover rollback cutover-app.db-20261121T101500\n  temporal workflow start --task-queue cutover --type rollbackMigration --input \'{"runId": "<run-id>"}\'')
    .action(async (runId: string, flags, cmd: Command) => {
      process.exitCode = await rollbackCommand(config(cmd), runId, flags, log);
    });

  registerVerify(program, log);
  return program;
}

function report(err: unknown): number {
  if (err instanceof CliError || err instanceof ConfigError) {
    process.stderr.write(`cutover: ${err.message}\n`);
    if (verbose && err.stack) process.stderr.write(`${err.stack}\n`);
    return err instanceof CliError ? err.exitCode : ExitCode.BadInput;
  }
  const e = err as { code?: string; exitCode?: number; message?: string };
  if (typeof e?.code === 'string' && e.code.startsWith('commander.')) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.Success;
    return ExitCode.BadInput;
  }
  process.stderr.write(`cutover: ${e?.message ?? String(err)}\n${verbose ? `${(err as Error)?.stack ?? ''}\n` : 'Run again with --verbose for the stack trace.\n'}`);
  return ExitCode.Failed;
}

export async function main(argv = process.argv): Promise<void> {
  // JSON logs (+ Prometheus metrics for worker/dev); the SDK's own INFO lines would drown the progress display of the other commands.
  const { metricsUrl } = installRuntime(runtimeConfigFromArgv(argv));
  if (metricsUrl) log(`metrics: ${metricsUrl}`);
  try {
    const program = buildProgram();
    dropFalseBooleanEnv();
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = report(err);
  } finally {
    await releaseRuntime();
  }
}

/** Flags that name a variable of their own; every other flag is CUTOVER_<FLAG>. */
const OWN_ENV: Record<string, string> = {
  temporalAddress: 'TEMPORAL_ADDRESS',
  namespace: 'TEMPORAL_NAMESPACE',
  taskQueue: 'CUTOVER_TASK_QUEUE',
  stateDir: 'CUTOVER_STATE_DIR',
  metricsPort: 'CUTOVER_METRICS_PORT',
};

/**
 * Every flag can also come from the environment: CUTOVER_<FLAG> (e.g.
 * --batch-size ↔ CUTOVER_BATCH_SIZE). Flags win over the environment.
 */
const BOOLEAN_ENV = new Set<string>();

/** commander turns on a boolean flag whenever its variable exists: "false" must mean off. */
function dropFalseBooleanEnv(): void {
  for (const name of BOOLEAN_ENV) {
    if (name in process.env && /^(0|false|no|off|)$/i.test(process.env[name]!.trim())) delete process.env[name];
  }
}

class EnvCommand extends Command {
  override createCommand(name?: string): Command {
    return new EnvCommand(name);
  }

  override createOption(flags: string, description?: string): Option {
    const opt = super.createOption(flags, description);
    const name = opt.attributeName();
    if (name !== 'help' && name !== 'version') {
      const env = OWN_ENV[name] ?? `CUTOVER_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
      opt.env(env);
      if (!opt.required && !opt.optional) BOOLEAN_ENV.add(env);
    }
    return opt;
  }
}
