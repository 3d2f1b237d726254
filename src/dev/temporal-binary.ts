/**
 * Finds (or builds) the `temporal` CLI binary that runs the local dev server.
 *
 * Order:
 *   1. TEMPORAL_CLI_PATH (an error if it is set but unusable: explicit config wins)
 *   2. `temporal` on PATH
 *   3. the cached copy: <user cache>/cutover/bin/temporal-<version>/temporal
 *      (<user cache> = $XDG_CACHE_HOME or ~/.cache; outside the checkout, so
 *      fresh clones and CI reuse it)
 *   4. `go install github.com/temporalio/cli/cmd/temporal@v<version>` into that
 *      folder when Go is available (~4 minutes, once)
 *   5. @temporalio/testing's cached download (needs internet access to
 *      temporal.download)
 * Safe when several processes race: one builds under a lock file, in a temp
 * folder, and renames the result into place; the others wait for it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export type TemporalBinarySource = 'env' | 'path' | 'cache' | 'go' | 'download';

export interface ResolvedTemporalBinary {
  /** Absolute path of an executable `temporal` CLI. */
  path: string;
  source: TemporalBinarySource;
}

export interface ResolveTemporalBinaryOptions {
  /** Progress and diagnostics; defaults to stderr. */
  log?: (msg: string) => void;
  /** Allow the `go install` step (default true). */
  allowGoBuild?: boolean;
  /** Allow the @temporalio/testing download step (default true). */
  allowDownload?: boolean;
}

const NO_BINARY_MESSAGE = 'no temporal binary: install Go (then it is built automatically) or set TEMPORAL_CLI_PATH';

function defaultLog(msg: string): void {
  process.stderr.write(`[cutover] ${msg}\n`);
}

/** $XDG_CACHE_HOME, else ~/.cache. */
export function userCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return xdg;
  return path.join(os.homedir(), '.cache');
}

/** <user cache>/cutover/bin */
export function cutoverBinDir(): string {
  return path.join(userCacheDir(), 'cutover', 'bin');
}

/** Where the cached/built binary lives: <user cache>/cutover/bin/temporal-<version>/temporal */
export function cachedTemporalBinaryPath(version = TEMPORAL_CLI_VERSION): string {
  return path.join(cutoverBinDir(), `temporal-${version}`, exeName('temporal'));
}

function exeName(name: string): string {
  return process.platform === 'win32' ? `${name}.exe` : name;
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) return false;
    await fs.access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First executable `name` on PATH, or null. */
export async function findOnPath(name: string, extraDirs: string[] = []): Promise<string | null> {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).concat(extraDirs);
  for (const dir of dirs) {
    const candidate = path.join(dir, exeName(name));
    if (await isExecutableFile(candidate)) return path.resolve(candidate);
  }
  return null;
}

/** Runs `<binary> --version`; returns its first line or null when it does not run. */
export function temporalVersion(binary: string): string | null {
  const res = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (res.status !== 0 || res.error) return null;
  return (res.stdout || res.stderr).trim().split('\n')[0] ?? '';
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function resolveTemporalBinary(opts: ResolveTemporalBinaryOptions = {}): Promise<ResolvedTemporalBinary> {
  const log = opts.log ?? defaultLog;
  const tried: string[] = [];

  // 1. explicit configuration
  const envPath = process.env.TEMPORAL_CLI_PATH?.trim();
  if (envPath) {
    const abs = path.resolve(envPath);
    if (!(await isExecutableFile(abs))) {
      throw new Error(
        `TEMPORAL_CLI_PATH is set to ${abs}, but that is not an executable file. ` +
          'Point it at a temporal CLI binary (https://github.com/temporalio/cli) or unset it to let cutover find or build one.',
      );
    }
    return { path: abs, source: 'env' };
  }
  tried.push('TEMPORAL_CLI_PATH: unset');

  // 2. PATH
  const onPath = await findOnPath('temporal');
  if (onPath) return { path: onPath, source: 'path' };
  tried.push('PATH: no `temporal`');

  // 3. cache
  const cached = cachedTemporalBinaryPath();
  if (await isCachedBinaryUsable(cached, log)) return { path: cached, source: 'cache' };
  tried.push(`cache: ${cached} missing`);

  // 4. go install
  if (opts.allowGoBuild !== false) {
    const go = await findOnPath('go', ['/usr/local/go/bin', path.join(os.homedir(), 'go', 'bin'), '/usr/lib/go/bin']);
    if (go) {
      try {
        const built = await buildWithGo(go, cached, log);
        return { path: built.path, source: built.builtHere ? 'go' : 'cache' };
      } catch (err) {
        const reason = (err as Error).message;
        log(`building the temporal CLI with Go failed: ${reason}`);
        tried.push(`go install: failed (${firstLine(reason)})`);
      }
    } else {
      tried.push('go: not installed');
    }
  } else {
    tried.push('go install: disabled');
  }

  // 5. @temporalio/testing download
  if (opts.allowDownload !== false) {
    try {
      const downloaded = await downloadWithTemporalTesting(log);
      return { path: downloaded, source: 'download' };
    } catch (err) {
      const reason = (err as Error).message;
      log(`downloading the temporal CLI failed: ${firstLine(reason)}`);
      tried.push(`download: failed (${firstLine(reason)})`);
    }
  } else {
    tried.push('download: disabled');
  }

  throw new Error(`${NO_BINARY_MESSAGE}. Tried: ${tried.join('; ')}.`);
}

function firstLine(s: string): string {
  const line = s.trim().split('\n').filter(Boolean).pop() ?? s;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

async function isCachedBinaryUsable(file: string, log: (m: string) => void): Promise<boolean> {
  if (!(await isExecutableFile(file))) return false;
  if (temporalVersion(file) === null) {
    log(`cached temporal CLI at ${file} does not run; rebuilding it`);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// go install, under a lock

interface BuildResult {
  path: string;
  /** false when another process built it while we waited. */
  builtHere: boolean;
}

async function buildWithGo(go: string, target: string, log: (m: string) => void): Promise<BuildResult> {
  const finalDir = path.dirname(target);
  const binRoot = path.dirname(finalDir);
  await fs.mkdir(binRoot, { recursive: true });
  const lockFile = path.join(binRoot, `temporal-${TEMPORAL_CLI_VERSION}.lock`);

  const waitDeadline = Date.now() + 30 * 60_000;
  let announcedWait = false;
  for (;;) {
    let handle: fs.FileHandle | null = null;
    try {
      handle = await fs.open(lockFile, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (handle) {
      try {
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        // Someone may have finished between our check and taking the lock.
        if (await isCachedBinaryUsable(target, log)) return { path: target, builtHere: false };
        await goInstall(go, target, log);
        return { path: target, builtHere: true };
      } finally {
        await fs.rm(lockFile, { force: true });
      }
    }
    // Somebody else holds the lock: is it alive?
    const holder = Number.parseInt((await fs.readFile(lockFile, 'utf8').catch(() => '')).trim(), 10);
    if (!Number.isNaN(holder) && !pidAlive(holder)) {
      log(`removing stale build lock ${lockFile} (process ${holder} is gone)`);
      await fs.rm(lockFile, { force: true });
      continue;
    }
    if (!announcedWait) {
      log(`another process (pid ${Number.isNaN(holder) ? '?' : holder}) is building the temporal CLI; waiting for it`);
      announcedWait = true;
    }
    if (Date.now() > waitDeadline) throw new Error(`timed out waiting for the build lock ${lockFile}`);
    await sleep(2000);
    if (await isExecutableFile(target)) {
      // Wait for the builder to release the lock, so the file is complete (rename is atomic anyway).
      if (temporalVersion(target) !== null) return { path: target, builtHere: false };
    }
  }
}

function goEnv(tmpBin: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOBIN: tmpBin,
    // The temporal CLI is pure Go (modernc SQLite): no C compiler needed.
    CGO_ENABLED: '0',
    GOFLAGS: [process.env.GOFLAGS, '-buildvcs=false'].filter(Boolean).join(' '),
    ...extra,
  };
}

async function goInstall(go: string, target: string, log: (m: string) => void): Promise<void> {
  const finalDir = path.dirname(target);
  const binRoot = path.dirname(finalDir);
  const tmp = await fs.mkdtemp(path.join(binRoot, `.build-temporal-${TEMPORAL_CLI_VERSION}-`));
  try {
    const pkg = `${TEMPORAL_CLI_MODULE}@v${TEMPORAL_CLI_VERSION}`;
    log(
      `building the temporal CLI v${TEMPORAL_CLI_VERSION} with Go (go install ${pkg}); ` +
        `this takes about 4 minutes, once; it is cached in ${finalDir}`,
    );
    let result = await runGo(go, ['install', pkg], goEnv(tmp), log);
    if (result.code !== 0 && isSumDbUnreachable(result.output)) {
      log('the Go checksum database (sum.golang.org) is unreachable; retrying with GOSUMDB=off');
      result = await runGo(go, ['install', pkg], goEnv(tmp, { GOSUMDB: 'off' }), log);
    }
    if (result.code !== 0) {
      throw new Error(`go install ${pkg} exited with code ${result.code}:\n${tail(result.output, 20)}`);
    }
    const built = path.join(tmp, exeName('temporal'));
    if (!(await isExecutableFile(built))) throw new Error(`go install succeeded but ${built} is missing`);
    await fs.mkdir(finalDir, { recursive: true });
    await fs.rename(built, target); // atomic: a racing reader sees the old file or the whole new one
    const version = temporalVersion(target);
    if (version === null) throw new Error(`the freshly built ${target} does not run`);
    log(`built ${version} → ${target}`);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

function isSumDbUnreachable(output: string): boolean {
  if (/SECURITY ERROR/.test(output)) return false; // a real checksum mismatch: never bypass
  return /sum\.golang\.org|checksum database|GOSUMDB/i.test(output);
}

function tail(text: string, lines: number): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

function runGo(
  go: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: (m: string) => void,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(go, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let downloads = 0;
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      if (output.length > 200_000) output = output.slice(-100_000);
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        if (line.startsWith('go: downloading')) downloads++;
        else log(`go: ${line.replace(/^go: /, '')}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setInterval(() => {
      const secs = Math.round((Date.now() - started) / 1000);
      log(`still building the temporal CLI… ${secs}s${downloads ? ` (${downloads} modules downloaded)` : ''}`);
    }, 20_000);
    timer.unref();
    child.once('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearInterval(timer);
      resolve({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}

// ---------------------------------------------------------------------------
// @temporalio/testing download

async function downloadWithTemporalTesting(log: (m: string) => void): Promise<string> {
  const downloadDir = path.join(cutoverBinDir(), 'download');
  await fs.mkdir(downloadDir, { recursive: true });
  log(`downloading the Temporal dev server with @temporalio/testing into ${downloadDir}`);
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  // Starting a throw-away local environment makes the SDK download (and cache) the CLI.
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'cached-download', downloadDir }, ui: false },
  });
  await env.teardown();
  const entries = await fs.readdir(downloadDir);
  let best: { file: string; mtime: number } | null = null;
  for (const name of entries) {
    const file = path.join(downloadDir, name);
    if (!(await isExecutableFile(file))) continue;
    const st = await fs.stat(file);
    if (!best || st.mtimeMs > best.mtime) best = { file, mtime: st.mtimeMs };
  }
  if (!best) throw new Error(`@temporalio/testing reported success but no executable was found in ${downloadDir}`);
  return best.file;
}
