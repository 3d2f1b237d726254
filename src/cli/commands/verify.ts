// `cutover verify --source FILE --target URL`: standalone validation of any source/target pair
// (also after pgloader or a hand-written script). No Temporal, no cutover state.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { CliError, ExitCode } from '../exit-codes';
import { formatVerifyReport, verify, type VerifyReport } from '../../validate/verify';
import type { IdentifierMode } from '../../types';

export interface VerifyFlags {
  source: string;
  target?: string;
  targetSchema?: string;
  map?: string[];
  infer?: boolean;
  identifiers?: IdentifierMode;
  chunkSize?: number;
  table?: string[];
  countsOnly?: boolean;
  json?: boolean;
}

function parseMaps(maps: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of maps) {
    const eq = m.indexOf('=');
    if (eq <= 0 || !m.slice(0, eq).includes('.')) throw new CliError(`--map "${m}" must look like table.column=type[:unit], e.g. candles.time=timestamp:s`, ExitCode.BadInput);
    out[m.slice(0, eq)] = m.slice(eq + 1);
  }
  return out;
}

const UNREACHABLE = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|EAI_AGAIN|timeout expired|Connection terminated/i;

/** Runs the verification and prints the report; returns the exit code (0 all good, 3 mismatches). */
export async function verifyCommand(flags: VerifyFlags, io: { out?: (s: string) => void; log?: (m: string) => void } = {}): Promise<number> {
  const out = io.out ?? ((s: string) => process.stdout.write(s));
  const target = flags.target ?? process.env.CUTOVER_TARGET_URL;
  if (!target || !/^postgres(ql)?:\/\//i.test(target)) {
    throw new CliError('cutover verify needs --target postgres://user:pw@host:5432/db (or CUTOVER_TARGET_URL)', ExitCode.BadInput);
  }
  if (!existsSync(flags.source)) throw new CliError(`source ${flags.source} does not exist`, ExitCode.BadInput);
  if (flags.identifiers && !['keep', 'lower', 'snake'].includes(flags.identifiers)) throw new CliError('--identifiers must be keep, lower or snake', ExitCode.BadInput);
  let report: VerifyReport;
  try {
    report = await verify({
      source: flags.source,
      targetUrl: target,
      targetSchema: flags.targetSchema,
      map: parseMaps(flags.map),
      infer: flags.infer,
      identifiers: flags.identifiers,
      chunkSize: flags.chunkSize,
      tables: flags.table,
      countsOnly: flags.countsOnly,
      log: io.log,
    });
  } catch (err) {
    const e = err as { code?: string; message?: string; type?: string };
    if (e?.code && UNREACHABLE.test(`${e.code} ${e.message}`)) throw new CliError(`target unreachable: ${e.message}`, ExitCode.Unreachable, { cause: err });
    if (typeof e?.code === 'string' && /^(28|3D)/.test(e.code)) throw new CliError(`target refused the connection: ${e.message}`, ExitCode.Unreachable, { cause: err });
    if (e?.type && /^Source/.test(e.type)) throw new CliError(e.message ?? String(err), ExitCode.BadInput, { cause: err });
    if (/--map|PlanError/.test(`${e?.message} ${(err as Error)?.name}`)) throw new CliError(e.message ?? String(err), ExitCode.BadInput, { cause: err });
    throw err;
  }
  out(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatVerifyReport(report));
  return report.ok ? ExitCode.Success : ExitCode.ValidationFailed;
}

function int(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new CliError(`${name} must be a positive whole number`, ExitCode.BadInput);
    return n;
  };
}

const collect = (v: string, acc: string[] = []) => [...acc, v];

/** Adds `cutover verify` to the program. */
export function registerVerify(program: Command, log: (m: string) => void = (m) => process.stderr.write(`[cutover] ${m}\n`)): Command {
  return program
    .command('verify')
    .description('Check a PostgreSQL target against a SQLite source: counts, content checksums, sequences, keys, FKs. No Temporal needed; works after any tool.')
    .requiredOption('--source <file>', 'SQLite file')
    .option('--target <url>', 'PostgreSQL URL (env CUTOVER_TARGET_URL)')
    .option('--target-schema <schema>', 'schema holding the tables', 'public')
    .option('--map <table.column=type>', 'type override as for migrate, e.g. candles.time=timestamp:s (repeatable)', collect)
    .option('--infer', "apply the plan's suggestions (as migrate --infer)", false)
    .option('--identifiers <mode>', 'target names: keep, lower or snake (as the migration used)', 'keep')
    .option('--chunk-size <rows>', 'rows per compared key range', int('--chunk-size'))
    .option('--table <name>', 'only this source table (repeatable)', collect)
    .option('--counts-only', 'skip the content checksums', false)
    .option('--json', 'print the report as JSON', false)
    .addHelpText('after', '\nExit codes: 0 all good, 3 mismatches, 2 bad input, 6 target unreachable.\nExample:\n  cutover verify --source app.db --target postgres://user:pw@localhost/app --json')
    .action(async (flags: VerifyFlags) => {
      process.exitCode = await verifyCommand(flags, { log });
    });
}
