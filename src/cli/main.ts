// The `cutover` command line. Strict parsing, kebab-case flags, exit 0 only on success.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, resolveConfig, type Config, type ConfigFlags } from '../config';
import { CliError, ExitCode } from './exit-codes';
import { demoCommand } from './commands/demo';
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
    .option('--batch-size <rows>', 'rows per COPY batch, committed with its checkpoint', int('--batch-size'))
    .option('--chunk-size <rows>', 'rows per chunk (one activity)', int('--chunk-size'))
    .option('--parallelism <n>', 'chunks copied at once', int('--parallelism'))
    .option('--allow-rejects', 'succeed even when rows were rejected (they stay in cutover.rejects)', process.env.CUTOVER_ALLOW_REJECTS === 'true')
    .option('--infer', "apply the profile's suggestions (booleans, epochs, jsonb, uuid)", false)
    .option('--map <table.column=type>', 'override one column type, e.g. candles.time=timestamp:s (repeatable)', collect)
    .option('--keep-state', 'keep cutover.* rows after a rollback, for audit', false)
    .option('--with-worker', 'run a worker in this process even with TEMPORAL_ADDRESS set', false)
    .option('--workflow-id <id>', 'workflow id (= run id) to use')
    .option('--json', 'print the final report as JSON on stdout', false);
}

export function buildProgram(): Command {
  const program = new Command('cutover')
    .description('Durable SQLite → PostgreSQL migrations, run as a Temporal workflow.')
    .option('--temporal-address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS); unset = embedded stack')
    .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE)')
    .option('--task-queue <name>', 'task queue (env CUTOVER_TASK_QUEUE, default cutover)')
    .option('--state-dir <dir>', 'embedded stack state (env CUTOVER_STATE_DIR, default ./.cutover)')
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
  // The SDK's own INFO lines (worker state changes) would drown the progress display.
  const level = process.env.LOG_LEVEL?.toUpperCase() ?? (argv.includes('worker') ? 'INFO' : 'WARN');
  Runtime.install({ logger: new DefaultLogger(level as 'INFO') });
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = report(err);
  }
}
