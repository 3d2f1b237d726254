// Runs one contender as a separate process (tree) and measures its wall time and peak RSS.
//
// Peak RSS: GNU time (/usr/bin/time) when present — its %M is the largest resident set of any
// single process of the tree it waited for. Otherwise /proc/<pid>/status VmHWM of every process
// in the tree, polled every 50 ms (the largest single process, to report the same thing).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Measured {
  exitCode: number;
  /** Whole-process wall time, seconds. */
  wallS: number;
  /** Seconds from start to the last stdout output (cutover prints its report before it shuts down). */
  lastStdoutS: number | null;
  /** Largest resident set of any single process of the tree, bytes (null if unknown). */
  peakRssBytes: number | null;
  rssSource: 'gnu-time' | 'proc-poll' | 'none';
  stdout: string;
  stderr: string;
}

export interface MeasureOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the tree after this long (default 1 h). */
  timeoutMs?: number;
}

const GNU_TIME = '/usr/bin/time';

export function hasGnuTime(): boolean {
  try {
    fs.accessSync(GNU_TIME, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

let gnuTimeOk: boolean | null = null;

/** Runs `cmd args` to its end. Never throws for a non-zero exit: the caller judges. */
export async function measure(cmd: string, args: string[], opts: MeasureOptions = {}): Promise<Measured> {
  if (gnuTimeOk === null) gnuTimeOk = hasGnuTime();
  const timeFile = gnuTimeOk ? path.join(os.tmpdir(), `cutover-bench-time-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`) : null;
  const [exe, argv] = timeFile ? [GNU_TIME, ['-f', '%e %M %x', '-o', timeFile, cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const secs = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const child = spawn(exe, argv, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let lastStdoutS: number | null = null;
  child.stdout!.on('data', (b: Buffer) => {
    out.push(b);
    lastStdoutS = secs();
  });
  child.stderr!.on('data', (b: Buffer) => err.push(b));

  let polledPeak = 0;
  const poller = timeFile === null && child.pid ? setInterval(() => (polledPeak = Math.max(polledPeak, treePeakRss(child.pid!))), 50) : null;
  // BENCH_RSS_TRACE=FILE: append "seconds VmRSS-MB" of the largest process of the tree every 250 ms (where memory goes).
  const traceFile = process.env.BENCH_RSS_TRACE;
  const tracer = traceFile && child.pid ? setInterval(() => fs.appendFileSync(traceFile, `${secs().toFixed(2)} ${(treeRss(child.pid!) / 1048576).toFixed(0)}\n`), 250) : null;
  const timer = setTimeout(() => killTree(child.pid), opts.timeoutMs ?? 3_600_000);
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, signal) => resolve(c ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
  });
  const wallS = secs();
  clearTimeout(timer);
  if (poller) clearInterval(poller);
  if (tracer) clearInterval(tracer);
  // Anything the tree left behind in its process group.
  killTree(child.pid);

  let peakRssBytes: number | null = null;
  let rssSource: Measured['rssSource'] = 'none';
  let exitCode = code;
  if (timeFile) {
    try {
      const lines = fs.readFileSync(timeFile, 'utf8').trim().split('\n');
      const last = lines[lines.length - 1]!.trim().split(/\s+/);
      const kb = Number(last[1]);
      if (Number.isFinite(kb)) {
        peakRssBytes = kb * 1024;
        rssSource = 'gnu-time';
      }
      const x = Number(last[2]);
      if (Number.isInteger(x)) exitCode = x;
    } catch {
      /* time could not write: keep the child's code */
    }
    fs.rmSync(timeFile, { force: true });
  } else if (polledPeak > 0) {
    peakRssBytes = polledPeak;
    rssSource = 'proc-poll';
  }
  return {
    exitCode,
    wallS,
    lastStdoutS,
    peakRssBytes,
    rssSource,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

function killTree(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** Largest VmHWM (bytes) of `root` and its descendants right now. */
export function treePeakRss(root: number): number {
  return treeMax(root, /VmHWM:\s+(\d+)\s+kB/);
}

/** Largest current VmRSS (bytes) of `root` and its descendants. */
export function treeRss(root: number): number {
  return treeMax(root, /VmRSS:\s+(\d+)\s+kB/);
}

function treeMax(root: number, field: RegExp): number {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch {
      /* exited */
    }
  }
  let peak = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    try {
      const m = field.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch {
      /* exited */
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return peak;
}
