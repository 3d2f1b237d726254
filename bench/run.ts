// The benchmark of issue 6: cutover vs pgloader vs a raw sqlite3 | psql pipe, same machine, same run.
//
//   npm run bench -- --scale 1 --runs 3 [--only cutover,pgloader,pipe] [--keep]
//                    [--validation count,checksum] [--seed 42] [--cpu-prof DIR]
//
// Every contender is a separate whole process (tree), timed wall-clock, with its peak RSS; each
// run gets a fresh database (CREATE DATABASE … / DROP after). Runs are interleaved (run 1 of every
// contender, then run 2, …) so drift on the machine hits all of them alike; figures are medians.
// The cutover contender talks to ONE Temporal dev server started here (its start time is reported
// separately) and runs its worker in process (--with-worker): the measurement is the migration.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { generateBenchDb, BENCH_TABLES } from './generate';
import { measure, hasGnuTime, type Measured } from './measure';
import { pipeCreateSql, writePipeScript, PIPE_TABLES } from './pipe';
import { formatSummary, profileFiles, summarizeProfile } from './cpuprofile';
import { busyShareOver, cpuShares, readCpuTicks } from './cpu-share';
import { startTemporalDevServer } from '../src/dev/temporal-server';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'bin', 'cutover.js');
export const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** The benchmark-only switch asked of the copy path: checkpoints and heartbeats off. */
export const NO_CHECKPOINT_ENV = 'CUTOVER_BENCH_NO_CHECKPOINT';

export type ContenderKind = 'cutover' | 'cutover-nockpt' | 'cutover-embedded' | 'pgloader' | 'pipe' | 'pipe-idx';
export const ALL_ONLY = ['cutover', 'cutover-nockpt', 'cutover-embedded', 'pgloader', 'pipe', 'pipe-noidx', 'pipe-idx'] as const;

export interface BenchOptions {
  scales: number[];
  runs: number;
  /** Contender selection (ALL_ONLY names; 'pipe' = both pipe variants). Default: all but cutover-embedded. */
  only?: string[];
  keep?: boolean;
  seed?: number;
  /** Generate the bench database without the planted extreme doubles (pgloader can load it). */
  plainValues?: boolean;
  /** Validation modes to run cutover with (only if `cutover migrate --help` lists --validation). */
  validation?: string[];
  /** Admin URL of the PostgreSQL server (a database per run is created on it). */
  url?: string;
  /** Use this Temporal frontend instead of starting a dev server. */
  temporalAddress?: string;
  temporalNamespace?: string;
  cacheDir?: string;
  /** Run one extra, profiled cutover run per scale and write its .cpuprofile files here. */
  cpuProfDir?: string;
  /**
   * How cutover runs: 'dist' builds dist/ once at the start if it does not match the sources
   * (untimed), and every run uses that build (CUTOVER_CODE=dist), as a deployment would run it (the
   * CLI's default); 'tsx' runs the TypeScript sources (CUTOVER_CODE=ts; the default of runBench, so a
   * programmatic smoke run writes no build output).
   */
  code?: 'dist' | 'tsx';
  log?: (msg: string) => void;
}

export interface RunFigure {
  wallS: number;
  peakRssBytes: number | null;
  exitCode: number;
  ok: boolean;
  note: string;
  /** 1-minute load average when the run started (it includes the bench's own previous runs). */
  load1?: number;
  /** Share of the CPUs busy in the quiet window just before the run (bench/cpu-share.ts). */
  busyBefore?: number | null;
  /** Share of the CPUs' time the hypervisor took (steal) during the run. */
  stealDuring?: number | null;
  /** cutover: seconds until its report was printed (before the process shut down). */
  reportS?: number | null;
  /** cutover: the run's own total and per-phase seconds. */
  inRunS?: number | null;
  phases?: Record<string, number>;
}

export interface ContenderResult {
  label: string;
  kind: ContenderKind;
  runs: RunFigure[];
  ok: boolean;
  wallS: number;
  peakRssBytes: number | null;
  rowsPerS: number;
  mbPerS: number;
  usPerRow: number;
  reportS: number | null;
  inRunS: number | null;
  phases: Record<string, number>;
}

export interface ScaleResult {
  scale: number;
  file: string;
  rows: number;
  tables: Record<string, number>;
  bytes: number;
  generatedS: number | null;
  contenders: ContenderResult[];
  skipped: string[];
  profile?: string;
}

export interface TargetCheck {
  target: string;
  measured: string;
  pass: boolean | null;
}

export interface BenchResult {
  date: string;
  machine: { cpus: number; cpuModel: string; memGiB: number; kernel: string; node: string };
  /** 1-minute load average at the start and at the end of the bench, and the highest seen at a run's start. */
  load: { start: number; end: number; maxAtRunStart: number };
  /** The most other work seen before a run, and the most steal during one (shares of the CPUs; null: no /proc/stat). */
  contention: { maxBusyBefore: number | null; maxSteal: number | null };
  postgres: string;
  pgloader: string | null;
  temporalDevServerStartS: number | null;
  validationSupported: boolean;
  noCheckpointSupported: boolean;
  /** How cutover ran: compiled dist/ or the TypeScript sources through tsx. */
  code: 'dist' | 'tsx';
  /** The bench database had no planted extreme doubles (--plain-values). */
  plainValues: boolean;
  rssSource: string;
  runs: number;
  scales: ScaleResult[];
  targets: TargetCheck[];
}

// ---------------------------------------------------------------- helpers

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(db)}`;
  return u.toString();
}

async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end().catch(() => undefined);
  }
}

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() || null : null;
}

function machine(): BenchResult['machine'] {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1]!.trim();
  } catch {
    /* not Linux */
  }
  return { cpus: os.cpus().length, cpuModel, memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, kernel: os.release(), node: process.version };
}

/**
 * dist/ built from the current sources (bin/cutover.js runs it then, else the sources through tsx):
 * `tsc -p tsconfig.build.json` and the build stamp, when the stamp does not match. Untimed.
 */
export function ensureBuilt(log: (m: string) => void): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const launcher = require(CLI) as { compiledEntry(): string | null; writeBuildStamp(): string };
  if (launcher.compiledEntry()) return;
  log('building dist/ (tsc -p tsconfig.build.json; untimed) so cutover runs compiled JavaScript, as deployed');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${(r.stdout ?? '') + (r.stderr ?? '')}`);
  launcher.writeBuildStamp();
  log(`dist/ built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/**
 * The workflow bundle of the code cutover will run, made now (untimed): a worker builds it once per
 * code version and caches it (src/temporal/bundle-cache.ts); without this the first measured run
 * after a change pays webpack (seconds, and ≈70 MB of main-thread heap).
 */
export function warmWorkflowBundle(code: 'dist' | 'tsx', log: (m: string) => void): void {
  const worker = code === 'dist' ? path.join(ROOT, 'dist', 'src', 'worker.js') : path.join(ROOT, 'src', 'worker.ts');
  const args = code === 'dist' ? [] : ['--require', require.resolve('tsx/cjs')];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [...args, '-e', `require(${JSON.stringify(worker)}).bundleWorkflows().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); })`], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`building the workflow bundle failed:\n${(r.stdout ?? '') + (r.stderr ?? '')}`);
  const s = (Date.now() - t0) / 1000;
  if (s > 3) log(`workflow bundle built in ${s.toFixed(1)} s (untimed; cached for the runs)`);
}

/** Does `cutover migrate --help` list --validation? */
export function cutoverSupportsValidation(): boolean {
  const r = spawnSync(process.execPath, [CLI, 'migrate', '--help'], { encoding: 'utf8', cwd: ROOT });
  return /--validation\b/.test(r.stdout ?? '');
}

/** Does the copy path know the benchmark-only no-checkpoint switch? */
export function cutoverSupportsNoCheckpoint(): boolean {
  const stack = ['src', 'activities'].map((d) => path.join(ROOT, d));
  while (stack.length) {
    const d = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.name.endsWith('.ts') && fs.readFileSync(p, 'utf8').includes(NO_CHECKPOINT_ENV)) return true;
    }
  }
  return false;
}

function scaleTag(scale: number): string {
  return String(scale).replace('.', 'p');
}

/** The cached bench database of a scale and seed (generated once, atomically). */
export function benchDb(scale: number, seed: number, cacheDir: string, log: (m: string) => void, plainValues = false): { file: string; tables: Record<string, number>; rows: number; bytes: number; generatedS: number | null } {
  fs.mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, `bench-s${scaleTag(scale)}-seed${seed}${plainValues ? '-plain' : ''}.db`);
  const meta = `${file}.json`;
  if (fs.existsSync(file) && fs.existsSync(meta)) {
    const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as { tables: Record<string, number>; rows: number; bytes: number };
    if (fs.statSync(file).size === m.bytes) return { file, ...m, generatedS: null };
  }
  log(`generating the scale ${scale} bench database (seed ${seed}) → ${file}`);
  const tmp = `${file}.tmp-${process.pid}`;
  const r = generateBenchDb(tmp, scale, seed, { plainValues });
  fs.renameSync(tmp, file);
  fs.writeFileSync(meta, JSON.stringify({ tables: r.tables, rows: r.rows, bytes: r.bytes }) + '\n');
  return { file, tables: r.tables, rows: r.rows, bytes: r.bytes, generatedS: r.seconds };
}

interface Contender {
  label: string;
  kind: ContenderKind;
  validation: string | null;
}

export function contendersFor(only: string[] | undefined, validation: string[] | null, noCkpt: boolean, hasPgloader: boolean): { list: Contender[]; skipped: string[] } {
  const sel = new Set(only?.length ? only : ALL_ONLY.filter((x) => x !== 'cutover-embedded'));
  for (const s of sel) if (!(ALL_ONLY as readonly string[]).includes(s)) throw new Error(`--only: unknown contender "${s}" (one of ${ALL_ONLY.join(', ')})`);
  const list: Contender[] = [];
  const skipped: string[] = [];
  const modes = validation && validation.length ? validation : [null];
  const tag = (v: string | null) => (v ? `[${v}]` : '');
  if (sel.has('cutover')) for (const v of modes) list.push({ label: `cutover${tag(v)}`, kind: 'cutover', validation: v });
  if (sel.has('cutover-nockpt')) {
    if (noCkpt) list.push({ label: `cutover-nockpt${tag(modes[0]!)}`, kind: 'cutover-nockpt', validation: modes[0]! });
    else if (only?.includes('cutover-nockpt') || !only?.length) skipped.push(`cutover-nockpt: the copy path has no ${NO_CHECKPOINT_ENV} switch yet`);
  }
  if (sel.has('cutover-embedded')) list.push({ label: `cutover-embedded${tag(modes[0]!)}`, kind: 'cutover-embedded', validation: modes[0]! });
  if (sel.has('pgloader')) {
    if (hasPgloader) list.push({ label: 'pgloader', kind: 'pgloader', validation: null });
    else skipped.push('pgloader: not installed');
  }
  if (sel.has('pipe') || sel.has('pipe-noidx')) list.push({ label: 'pipe', kind: 'pipe', validation: null });
  if (sel.has('pipe') || sel.has('pipe-idx')) list.push({ label: 'pipe+idx', kind: 'pipe-idx', validation: null });
  return { list, skipped };
}

// ---------------------------------------------------------------- contenders

interface RunContext {
  adminUrl: string;
  source: string;
  tables: Record<string, number>;
  rows: number;
  work: string;
  temporalAddress: string;
  temporalNamespace: string;
  cpuProfDir?: string;
  keep: boolean;
  code: 'dist' | 'tsx';
  log: (m: string) => void;
}

function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(TEMPORAL_|CUTOVER_)/.test(k) || k === 'DATABASE_URL') continue;
    if (k === 'NODE_OPTIONS' && v && /vitest/.test(v)) continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

async function runCutover(c: Contender, ctx: RunContext, url: string, n: string): Promise<Measured> {
  const state = path.join(ctx.work, `state-${n}`);
  const args = [CLI, 'migrate', '--source', ctx.source, '--target', url, '--json', '--workflow-id', `bench-${n}`];
  if (c.kind !== 'cutover-embedded') args.push('--with-worker');
  if (c.validation) args.push('--validation', c.validation);
  const nodeArgs = ctx.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', ctx.cpuProfDir] : [];
  const env = childEnv({
    TEMPORAL_ADDRESS: c.kind === 'cutover-embedded' ? undefined : ctx.temporalAddress,
    TEMPORAL_NAMESPACE: c.kind === 'cutover-embedded' ? undefined : ctx.temporalNamespace,
    CUTOVER_TASK_QUEUE: `bench-${n}`,
    CUTOVER_STATE_DIR: state,
    CUTOVER_WORK_DIR: path.join(state, 'runs'),
    [NO_CHECKPOINT_ENV]: c.kind === 'cutover-nockpt' ? '1' : undefined,
    // The build made at the start, for every run, even when the sources change meanwhile.
    CUTOVER_CODE: ctx.code === 'tsx' ? 'ts' : 'dist',
  });
  try {
    return await measure(process.execPath, [...nodeArgs, ...args], { env, cwd: ROOT });
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
}

function cutoverFigure(m: Measured): RunFigure {
  let report: { ok?: boolean; message?: string; report?: { totals?: { seconds?: number; rows?: number; rejects?: number }; phases?: Array<{ phase: string; seconds: number }> } | null } | null = null;
  try {
    report = JSON.parse(m.stdout);
  } catch {
    /* not JSON: failed early */
  }
  const phases: Record<string, number> = {};
  for (const p of report?.report?.phases ?? []) phases[p.phase] = (phases[p.phase] ?? 0) + p.seconds;
  const ok = m.exitCode === 0 && report?.ok === true;
  const note = ok ? '' : `exit ${m.exitCode}: ${report?.message ?? lastLine(m.stderr)}`;
  return { wallS: m.wallS, peakRssBytes: m.peakRssBytes, exitCode: m.exitCode, ok, note, reportS: m.lastStdoutS, inRunS: report?.report?.totals?.seconds ?? null, phases };
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n').filter((l) => l.trim());
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}

/** pgloader's summary: errors and rows of the "Total import time" line. */
export function parsePgloaderSummary(out: string): { errors: number | null; rows: number | null } {
  const m = /Total import time\s+(\S+)\s+(\d+)/.exec(out);
  if (!m) return { errors: null, rows: null };
  return { errors: m[1] === '✓' ? 0 : Number(m[1]), rows: Number(m[2]) };
}

async function countRows(url: string, tables: string[]): Promise<Record<string, number>> {
  const sql = tables.map((t) => `SELECT '${t}' AS t, count(*)::bigint AS n FROM "${t}"`).join(' UNION ALL ');
  const rows = await adminQuery<{ t: string; n: string }>(url, sql);
  return Object.fromEntries(rows.map((r) => [r.t, Number(r.n)]));
}

function countsNote(got: Record<string, number>, want: Record<string, number>): string {
  const bad = Object.keys(want).filter((t) => got[t] !== want[t]);
  return bad.map((t) => `${t}: ${got[t]} of ${want[t]} rows`).join('; ');
}

async function runOne(c: Contender, ctx: RunContext, runNo: number, scale: number): Promise<RunFigure> {
  const n = `${c.kind.replace(/[^a-z]/g, '')}_${scaleTag(scale)}_${runNo}_${process.pid}_${Math.random().toString(36).slice(2, 7)}`;
  const dbName = `bench_${n}`;
  await adminQuery(ctx.adminUrl, `CREATE DATABASE "${dbName}" TEMPLATE template0 ENCODING 'UTF8'`);
  const url = withDatabase(ctx.adminUrl, dbName);
  try {
    switch (c.kind) {
      case 'cutover':
      case 'cutover-nockpt':
      case 'cutover-embedded':
        return cutoverFigure(await runCutover(c, ctx, url, n));
      case 'pgloader': {
        const m = await measure('pgloader', [`sqlite://${ctx.source}`, url.replace(/^postgres:/, 'postgresql:')], { cwd: ctx.work });
        const s = parsePgloaderSummary(m.stdout + m.stderr);
        let counts: Record<string, number> = {};
        try {
          counts = await countRows(url, [...BENCH_TABLES]);
        } catch {
          /* tables missing */
        }
        const missing = countsNote(counts, ctx.tables);
        const ok = m.exitCode === 0 && s.errors === 0 && !missing;
        const firstError = /^.*\b(ERROR|FATAL)\b.*$/m.exec(m.stdout + m.stderr)?.[0].replace(/^\S+\s+/, '').slice(0, 240);
        const note = [`exit ${m.exitCode}`, `errors ${s.errors ?? '?'}`, missing ? `rows: ${missing}` : '', firstError ? `first error: ${firstError}` : ''].filter(Boolean).join(', ');
        return { wallS: m.wallS, peakRssBytes: m.peakRssBytes, exitCode: m.exitCode, ok, note };
      }
      case 'pipe':
      case 'pipe-idx': {
        await adminQuery(url, pipeCreateSql());
        const script = writePipeScript(ctx.work, { source: ctx.source, url, rows: ctx.tables, constraints: c.kind === 'pipe-idx' });
        const m = await measure('bash', [script]);
        fs.rmSync(script, { force: true });
        const missing = countsNote(await countRows(url, PIPE_TABLES.map((t) => t.name)), ctx.tables);
        const ok = m.exitCode === 0 && !missing;
        return { wallS: m.wallS, peakRssBytes: m.peakRssBytes, exitCode: m.exitCode, ok, note: ok ? '' : `exit ${m.exitCode} ${missing} ${lastLine(m.stderr)}` };
      }
      default:
        throw new Error(`unknown contender kind ${String(c.kind)}`);
    }
  } finally {
    if (!ctx.keep) await adminQuery(ctx.adminUrl, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch((e: unknown) => ctx.log(`drop ${dbName}: ${String(e)}`));
    else ctx.log(`kept database ${dbName}`);
  }
}

function summarize(c: Contender, runs: RunFigure[], rows: number, bytes: number): ContenderResult {
  const good = runs.filter((r) => r.ok);
  const use = good.length ? good : runs;
  const wallS = median(use.map((r) => r.wallS));
  const rss = use.map((r) => r.peakRssBytes).filter((x): x is number => x !== null);
  const rep = use.map((r) => r.reportS).filter((x): x is number => typeof x === 'number');
  const inRun = use.map((r) => r.inRunS).filter((x): x is number => typeof x === 'number');
  const phases: Record<string, number> = {};
  for (const name of new Set(use.flatMap((r) => Object.keys(r.phases ?? {})))) phases[name] = median(use.map((r) => r.phases?.[name] ?? 0));
  return {
    label: c.label,
    kind: c.kind,
    runs,
    ok: good.length === runs.length,
    wallS,
    peakRssBytes: rss.length ? median(rss) : null,
    rowsPerS: rows / wallS,
    mbPerS: bytes / 1e6 / wallS,
    usPerRow: (wallS / rows) * 1e6,
    reportS: rep.length ? median(rep) : null,
    inRunS: inRun.length ? median(inRun) : null,
    phases,
  };
}

// ---------------------------------------------------------------- the run

export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`[bench] ${m}\n`));
  const seed = opts.seed ?? 42;
  const loadStart = os.loadavg()[0]!;
  const adminUrl = opts.url ?? process.env.BENCH_DATABASE_URL ?? DEFAULT_URL;
  const cacheDir = opts.cacheDir ?? process.env.BENCH_CACHE_DIR ?? path.join(os.tmpdir(), 'cutover-bench-cache');
  const pgVersion = (await adminQuery<{ v: string }>(adminUrl, 'SELECT version() AS v'))[0]!.v;
  const pgloaderPath = which('pgloader');
  let pgloaderVersion: string | null = null;
  if (pgloaderPath) {
    try {
      pgloaderVersion = execFileSync('pgloader', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
    } catch {
      pgloaderVersion = 'unknown version';
    }
  } else log('pgloader: not installed');
  for (const bin of ['sqlite3', 'psql']) if (!which(bin)) throw new Error(`${bin} is not on PATH (the pipe contender needs it; --only to leave it out)`);

  const code = opts.code ?? 'tsx';
  if (code === 'dist') ensureBuilt(log);
  warmWorkflowBundle(code, log);
  const validationSupported = cutoverSupportsValidation();
  let validation: string[] | null = null;
  if (validationSupported) validation = opts.validation?.length ? opts.validation : ['count', 'checksum'];
  else if (opts.validation?.length) log(`cutover migrate has no --validation flag yet: running it with its default validation (asked: ${opts.validation.join(',')})`);
  const noCkpt = cutoverSupportsNoCheckpoint();
  const { list, skipped } = contendersFor(opts.only, validation, noCkpt, pgloaderPath !== null);
  for (const s of skipped) log(`skipped ${s}`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-'));
  let devServer: { stop(): Promise<void> } | null = null;
  let devStartS: number | null = null;
  let temporalAddress = opts.temporalAddress ?? '';
  const needsTemporal = list.some((c) => c.kind === 'cutover' || c.kind === 'cutover-nockpt') || Boolean(opts.cpuProfDir);
  try {
    if (needsTemporal && !temporalAddress) {
      const t0 = process.hrtime.bigint();
      const s = await startTemporalDevServer({ stateDir: path.join(work, 'temporal'), port: 0, uiPort: 0, ui: false, persist: false, log });
      devStartS = Number(process.hrtime.bigint() - t0) / 1e9;
      devServer = s;
      temporalAddress = s.address;
      log(`Temporal dev server started in ${devStartS.toFixed(2)} s at ${s.address}`);
    }
    const scales: ScaleResult[] = [];
    for (const scale of opts.scales) {
      const db = benchDb(scale, seed, cacheDir, log, opts.plainValues ?? false);
      log(`scale ${scale}: ${db.rows} rows, ${(db.bytes / 1e6).toFixed(1)} MB (${db.file})`);
      const ctx: RunContext = { adminUrl, source: db.file, tables: db.tables, rows: db.rows, work, temporalAddress, temporalNamespace: opts.temporalNamespace ?? 'default', keep: Boolean(opts.keep), code, log };
      const figures = new Map<string, RunFigure[]>(list.map((c) => [c.label, []]));
      for (let r = 1; r <= opts.runs; r++) {
        for (const c of list) {
          const load1 = os.loadavg()[0]!;
          const busyBefore = await busyShareOver(QUIET_WINDOW_MS);
          const before = readCpuTicks();
          const figure = await runOne(c, ctx, r, scale);
          const after = readCpuTicks();
          const stealDuring = before && after ? (cpuShares(before, after)?.steal ?? null) : null;
          const f = { ...figure, load1, busyBefore, stealDuring };
          figures.get(c.label)!.push(f);
          log(
            `scale ${scale} run ${r}/${opts.runs} ${c.label.padEnd(20)} ${f.wallS.toFixed(2).padStart(8)} s  ${fmtBytes(f.peakRssBytes).padStart(8)}  busy before ${pct(busyBefore)}, steal ${pct(stealDuring)}  ${f.ok ? 'ok' : 'FAILED'} ${f.note}${f.reportS ? `  (report at ${f.reportS.toFixed(2)} s, in-run ${f.inRunS?.toFixed(2)} s)` : ''}`,
          );
        }
      }
      const result: ScaleResult = {
        scale,
        file: db.file,
        rows: db.rows,
        tables: db.tables,
        bytes: db.bytes,
        generatedS: db.generatedS,
        contenders: list.map((c) => summarize(c, figures.get(c.label)!, db.rows, db.bytes)),
        skipped,
      };
      if (opts.cpuProfDir) {
        const dir = path.join(path.resolve(opts.cpuProfDir), `scale-${scaleTag(scale)}`);
        fs.mkdirSync(dir, { recursive: true });
        const c = list.find((x) => x.kind === 'cutover') ?? { label: 'cutover', kind: 'cutover' as const, validation: validation?.[0] ?? null };
        log(`scale ${scale}: one profiled cutover run → ${dir}`);
        const f = await runOne(c, { ...ctx, cpuProfDir: dir }, 0, scale);
        result.profile =
          `profiled run: ${f.wallS.toFixed(2)} s wall, ${f.ok ? 'ok' : 'FAILED ' + f.note}; phases ${JSON.stringify(f.phases)}\n` +
          profileFiles(dir)
            .map((p) => formatSummary(summarizeProfile(p)))
            .join('\n');
      }
      scales.push(result);
    }
    const starts = scales.flatMap((s) => s.contenders.flatMap((c) => c.runs.map((r) => r.load1 ?? 0)));
    const allRuns = scales.flatMap((s) => s.contenders.flatMap((c) => c.runs));
    const maxOf = (xs: (number | null | undefined)[]) => (xs.some((x) => typeof x === 'number') ? Math.max(...xs.filter((x): x is number => typeof x === 'number')) : null);
    return {
      date: new Date().toISOString(),
      machine: machine(),
      load: { start: loadStart, end: os.loadavg()[0]!, maxAtRunStart: Math.max(0, ...starts) },
      contention: { maxBusyBefore: maxOf(allRuns.map((r) => r.busyBefore)), maxSteal: maxOf(allRuns.map((r) => r.stealDuring)) },
      postgres: pgVersion,
      pgloader: pgloaderVersion,
      temporalDevServerStartS: devStartS,
      validationSupported,
      code,
      plainValues: opts.plainValues ?? false,
      noCheckpointSupported: noCkpt,
      rssSource: hasGnuTime() ? 'GNU time %M (largest single process of the tree)' : '/proc VmHWM poll (largest single process of the tree)',
      runs: opts.runs,
      scales,
      targets: checkTargets(scales),
    };
  } finally {
    await devServer?.stop().catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- targets and the table

const find = (s: ScaleResult | undefined, pred: (c: ContenderResult) => boolean) => s?.contenders.find((c) => c.ok && pred(c));
const isCountCutover = (c: ContenderResult) => c.kind === 'cutover' && (c.label === 'cutover' || c.label === 'cutover[count]');
const isChecksumCutover = (c: ContenderResult) => c.kind === 'cutover' && c.label === 'cutover[checksum]';
/** Why a contender's figure is missing: its runs failed, or it was not run (and how to run it). */
const notRun = (s: ScaleResult, pred: (c: ContenderResult) => boolean, how: string) => (s.contenders.some(pred) ? 'its runs failed' : `not run (${how})`);

export function checkTargets(scales: ScaleResult[]): TargetCheck[] {
  const s1 = scales.find((s) => s.scale === 1);
  const s3 = scales.find((s) => s.scale === 3);
  const out: TargetCheck[] = [];
  const cut = find(s1, isCountCutover);
  const sum = find(s1, isChecksumCutover);
  const pgl = find(s1, (c) => c.kind === 'pgloader');
  const pipe = find(s1, (c) => c.kind === 'pipe');
  const nock = find(s1, (c) => c.kind === 'cutover-nockpt');
  const r = (a: number, b: number) => `${a.toFixed(2)} s / ${b.toFixed(2)} s = ${(a / b).toFixed(2)}x`;
  const na = (target: string, why: string) => out.push({ target, measured: `not measured: ${why}`, pass: null });
  if (!s1) na('scale 1 targets', 'scale 1 not in --scale');
  else {
    if (cut && pgl) out.push({ target: 'cutover (count validation) ≤ 1/3 of pgloader wall', measured: r(cut.wallS, pgl.wallS), pass: cut.wallS <= pgl.wallS / 3 });
    else na('cutover (count validation) ≤ 1/3 of pgloader wall', !pgl ? 'no successful pgloader run' : 'no successful cutover run');
    if (cut && pipe) out.push({ target: 'cutover (count validation) ≤ 1.5x raw pipe without indexes', measured: r(cut.wallS, pipe.wallS), pass: cut.wallS <= 1.5 * pipe.wallS });
    else na('cutover (count validation) ≤ 1.5x raw pipe without indexes', 'missing cutover or pipe');
    if (sum && pipe) out.push({ target: 'cutover (checksum validation) ≤ 2x raw pipe', measured: r(sum.wallS, pipe.wallS), pass: sum.wallS <= 2 * pipe.wallS });
    else na('cutover (checksum validation) ≤ 2x raw pipe', sum ? 'no successful pipe run' : notRun(s1, isChecksumCutover, 'add checksum to --validation'));
    if (cut && cut.peakRssBytes !== null) {
      const all = scales.map((s) => find(s, isCountCutover)).filter((c): c is ContenderResult => !!c && c.peakRssBytes !== null);
      const max = Math.max(...all.map((c) => c.peakRssBytes!));
      const min = Math.min(...all.map((c) => c.peakRssBytes!));
      out.push({
        target: 'peak RSS of the worker (cutover process) < 300 MB',
        measured: `${fmtBytes(cut.peakRssBytes)} at scale 1` + (all.length > 1 ? `; ${fmtBytes(min)}–${fmtBytes(max)} over scales ${scales.map((s) => s.scale).join(', ')}` : ''),
        pass: max < 300e6,
      });
    } else na('peak RSS of the worker < 300 MB', 'no cutover run');
    if (nock && cut) out.push({ target: 'checkpoint + heartbeat overhead < 5%', measured: `${r(cut.wallS, nock.wallS)} → +${((cut.wallS / nock.wallS - 1) * 100).toFixed(1)}%`, pass: cut.wallS <= nock.wallS * 1.05 });
    else na('checkpoint + heartbeat overhead < 5%', !cut ? 'no successful cutover run' : notRun(s1, (c) => c.kind === 'cutover-nockpt', `cutover-nockpt was left out by --only, or the checkout has no ${NO_CHECKPOINT_ENV} switch`));
  }
  const c1 = find(s1, isCountCutover);
  const c3 = find(s3, isCountCutover);
  if (c1 && c3) out.push({ target: 'time per row at scale 3 within 15% of scale 1', measured: `${c3.usPerRow.toFixed(2)} µs vs ${c1.usPerRow.toFixed(2)} µs = ${((c3.usPerRow / c1.usPerRow - 1) * 100).toFixed(1)}%`, pass: Math.abs(c3.usPerRow / c1.usPerRow - 1) <= 0.15 });
  else na('time per row at scale 3 within 15% of scale 1', 'needs --scale 1,3');
  return out;
}

export function fmtBytes(b: number | null): string {
  if (b === null) return '?';
  return b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : `${(b / 1e6).toFixed(0)} MB`;
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** More than this share of the CPUs busy just before a run (the bench idle), or stolen during one, skews figures. */
const BUSY_BEFORE_LIMIT = 0.25;
const STEAL_LIMIT = 0.05;
/** The quiet window before each run in which other work is measured. */
const QUIET_WINDOW_MS = 500;

function pct(x: number | null | undefined): string {
  return typeof x === 'number' ? `${Math.round(x * 100)}%` : 'n/a';
}

/** Pure: the line on other work and steal, with a warning when either skewed the figures. */
export function contentionLine(r: Pick<BenchResult, 'contention'>): string {
  const { maxBusyBefore, maxSteal } = r.contention;
  const warnings = [
    maxBusyBefore !== null && maxBusyBefore > BUSY_BEFORE_LIMIT ? 'THE MACHINE WAS BUSY before a run' : null,
    maxSteal !== null && maxSteal > STEAL_LIMIT ? 'THE HOST TOOK CPU TIME (steal) during a run' : null,
  ].filter(Boolean);
  return (
    `other work: up to ${pct(maxBusyBefore)} of the CPUs busy in the ${QUIET_WINDOW_MS / 1000} s before a run; steal: up to ${pct(maxSteal)} of the CPUs' time during a run` +
    (warnings.length ? ` — ${warnings.join('; ')}: figures are skewed` : '')
  );
}

export function formatResult(r: BenchResult): string {
  const L: string[] = [];
  L.push(`cutover bench — ${r.date}`);
  L.push(`machine: ${r.machine.cpus} CPUs (${r.machine.cpuModel}), ${r.machine.memGiB} GiB, Linux ${r.machine.kernel}, Node ${r.machine.node}`);
  L.push(`PostgreSQL: ${r.postgres.replace(/ on .*/, '')}; pgloader: ${r.pgloader ?? 'not installed'}`);
  if (r.temporalDevServerStartS !== null) L.push(`Temporal dev server start (once, not in the cutover figures): ${r.temporalDevServerStartS.toFixed(2)} s`);
  L.push(contentionLine(r));
  L.push(`load average (1 min, ${r.machine.cpus} CPUs, the bench's own runs included): ${r.load.start.toFixed(1)} at start, ${r.load.end.toFixed(1)} at end, up to ${r.load.maxAtRunStart.toFixed(1)} when a run started`);
  L.push(`medians of ${r.runs} run(s); peak RSS = ${r.rssSource}; MB/s = source file size / wall`);
  L.push(`cutover code: ${r.code === 'tsx' ? 'TypeScript sources through tsx (--code tsx)' : 'compiled dist/ (npm run build, made untimed at the start when stale; the same build for every run)'}`);
  if (r.plainValues) L.push('bench database: --plain-values (no planted extreme doubles: pgloader can load candles)');
  L.push(`cutover --validation: ${r.validationSupported ? 'supported' : 'not supported yet (default validation)'}; ${NO_CHECKPOINT_ENV}: ${r.noCheckpointSupported ? 'supported' : 'not supported yet'}`);
  for (const s of r.scales) {
    L.push('');
    L.push(`scale ${s.scale}: ${fmtInt(s.rows)} rows, ${(s.bytes / 1e6).toFixed(1)} MB${s.generatedS !== null ? ` (generated in ${s.generatedS.toFixed(1)} s)` : ' (cached)'}`);
    const pipe = s.contenders.find((c) => c.kind === 'pipe' && c.ok);
    const pgl = s.contenders.find((c) => c.kind === 'pgloader' && c.ok);
    L.push(`  ${'contender'.padEnd(22)} ${'wall s'.padStart(8)} ${'rows/s'.padStart(11)} ${'MB/s'.padStart(7)} ${'peak RSS'.padStart(9)} ${'µs/row'.padStart(7)} ${'÷pipe'.padStart(6)} ${'÷pgl'.padStart(6)}  notes`);
    for (const c of s.contenders) {
      const notes: string[] = [];
      if (!c.ok) notes.push(`FAILED ${c.runs.filter((x) => !x.ok).length}/${c.runs.length}: ${c.runs.find((x) => !x.ok)?.note}`);
      else if (c.kind === 'pgloader') notes.push(c.runs[0]!.note);
      if (c.reportS !== null) notes.push(`report printed at ${c.reportS.toFixed(2)} s`);
      if (c.inRunS !== null) notes.push(`workflow ${c.inRunS.toFixed(2)} s`);
      L.push(
        `  ${c.label.padEnd(22)} ${c.wallS.toFixed(2).padStart(8)} ${fmtInt(c.rowsPerS).padStart(11)} ${c.mbPerS.toFixed(2).padStart(7)} ${fmtBytes(c.peakRssBytes).padStart(9)} ${c.usPerRow.toFixed(2).padStart(7)} ${(pipe ? (c.wallS / pipe.wallS).toFixed(2) + 'x' : '-').padStart(6)} ${(pgl ? (c.wallS / pgl.wallS).toFixed(2) + 'x' : '-').padStart(6)}  ${notes.join('; ')}`,
      );
    }
    for (const c of s.contenders.filter((x) => x.kind.startsWith('cutover') && Object.keys(x.phases).length)) {
      L.push(`  ${c.label} phases (median s): ${Object.entries(c.phases).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
    }
    for (const sk of s.skipped) L.push(`  skipped ${sk}`);
    if (s.profile) L.push('', s.profile);
  }
  if (r.scales.length > 1) {
    L.push('', 'time per row (µs/row, median wall / rows) by scale:');
    const labels = [...new Set(r.scales.flatMap((s) => s.contenders.map((c) => c.label)))];
    const base = r.scales.find((s) => s.scale === 1) ?? r.scales[0]!;
    L.push(`  ${'contender'.padEnd(22)} ${r.scales.map((s) => `s=${s.scale}`.padStart(10)).join(' ')}   (vs scale ${base.scale})`);
    for (const l of labels) {
      const b = base.contenders.find((c) => c.label === l);
      L.push(
        `  ${l.padEnd(22)} ${r.scales
          .map((s) => {
            const c = s.contenders.find((x) => x.label === l);
            if (!c) return '-'.padStart(10);
            const rel = b && s !== base ? ` ${c.usPerRow / b.usPerRow >= 1 ? '+' : ''}${((c.usPerRow / b.usPerRow - 1) * 100).toFixed(0)}%` : '';
            return `${c.usPerRow.toFixed(2)}${rel}`.padStart(10);
          })
          .join(' ')}`,
      );
    }
  }
  L.push('', 'issue 6 targets:');
  for (const t of r.targets) L.push(`  [${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'FAIL'}] ${t.target}: ${t.measured}`);
  return L.join('\n');
}

// ---------------------------------------------------------------- CLI

export function parseArgs(argv: string[]): BenchOptions & { jsonOut?: string } {
  const o: BenchOptions & { jsonOut?: string } = { scales: [1], runs: 3, code: 'dist' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const key = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new Error(`${key} needs a value`);
      return v;
    };
    const list = () => value().split(',').map((x) => x.trim()).filter(Boolean);
    switch (key) {
      case '--scale':
        o.scales = list().map(Number);
        if (o.scales.some((s) => !(s > 0))) throw new Error('--scale: positive numbers, e.g. 0.1,1,3');
        break;
      case '--runs':
        o.runs = Number(value());
        if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error('--runs must be a whole number ≥ 1');
        break;
      case '--only':
        o.only = list();
        break;
      case '--keep':
        o.keep = true;
        break;
      case '--seed':
        o.seed = Number(value());
        break;
      case '--plain-values':
        o.plainValues = true;
        break;
      case '--validation':
        o.validation = list();
        for (const v of o.validation) if (v !== 'count' && v !== 'checksum') throw new Error('--validation: count and/or checksum');
        break;
      case '--url':
        o.url = value();
        break;
      case '--cpu-prof':
        o.cpuProfDir = value();
        break;
      case '--json':
        o.jsonOut = value();
        break;
      case '--code': {
        const v = value();
        if (v !== 'dist' && v !== 'tsx') throw new Error('--code: dist (compiled, built when stale) or tsx (TypeScript sources)');
        o.code = v;
        break;
      }
      case '--help':
      case '-h':
        process.stdout.write(
          'usage: npm run bench -- [--scale 1[,3…]] [--runs 3] [--only cutover,cutover-nockpt,cutover-embedded,pgloader,pipe,pipe-noidx,pipe-idx]\n' +
            '                        [--validation count,checksum] [--keep] [--seed 42] [--plain-values] [--url postgres://…] [--cpu-prof DIR] [--json FILE]\n' +
            '                        [--code dist|tsx]   (default dist: cutover runs compiled JS, dist/ built untimed at the start when stale)\n' +
            'env: BENCH_DATABASE_URL (default ' + DEFAULT_URL + '), BENCH_CACHE_DIR (default $TMPDIR/cutover-bench-cache)\n',
        );
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        throw new Error(`unknown argument: ${a}`);
    }
  }
  return o;
}

if (require.main === module) {
  (async () => {
    const opts = parseArgs(process.argv.slice(2));
    const result = await runBench(opts);
    process.stdout.write(formatResult(result) + '\n');
    if (opts.jsonOut) fs.writeFileSync(opts.jsonOut, JSON.stringify(result, null, 2) + '\n');
  })().catch((err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
