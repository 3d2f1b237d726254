/**
 * Starts a local Temporal dev server (`temporal server start-dev`) with its
 * state persisted in <stateDir>/temporal.db, and waits until it serves the
 * namespace. The server runs in its own process group (so a terminal's Ctrl-C
 * reaches our process first and we can shut the worker down before the server)
 * and writes its output to <stateDir>/temporal.log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { getFreePort, isPortFree, waitForPort } from './free-port';
import { resolveTemporalBinary, type ResolvedTemporalBinary } from './temporal-binary';
import { cmdline, pidAlive, sleep } from './process';

export type SearchAttributeTypeName = 'Text' | 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

/** Custom search attributes cutover sets on its runs (registered on the dev server at start). */
export const CUTOVER_SEARCH_ATTRIBUTES: Readonly<Record<string, SearchAttributeTypeName>> = Object.freeze({
  CutoverPhase: 'Keyword',
  CutoverSource: 'Keyword',
  CutoverTargetSchema: 'Keyword',
});

/**
 * Dynamic config the dev server starts with. Why: the dev server has one history shard, and its
 * transfer queue (which hands every scheduled workflow task and activity task to matching) is read
 * at most `history.transferProcessorMaxPollRPS` times a second, 20 by default — past a short burst,
 * every step of every workflow waited up to 50 ms for the next read, even on an idle machine (a
 * no-op activity's round trip went from 15–20 ms to 100 ms after the first dozen). A run is a chain
 * of such steps (phases, chunks, table workflows), so that alone cost a bench run ≈ 0.3 s.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, number | boolean | string>> = Object.freeze({
  'history.transferProcessorMaxPollRPS': 10_000,
});

export interface TemporalDevServerOptions {
  /** Folder for temporal.db (persisted state), temporal.log and temporal.pid. Created if missing. */
  stateDir: string;
  /** gRPC port; default 7233; 0 picks a free port. */
  port?: number;
  /** UI port; default port+1000 (8233 for 7233); 0 picks a free port (also the default when port is 0). */
  uiPort?: number;
  /** Serve the Web UI (default true). */
  ui?: boolean;
  /** Bind address (default 127.0.0.1). */
  ip?: string;
  /** Namespace created at start (default "default", which always exists). */
  namespace?: string;
  /** Search attributes registered at start (default CUTOVER_SEARCH_ATTRIBUTES). */
  searchAttributes?: Readonly<Record<string, SearchAttributeTypeName>>;
  /** Persist state in <stateDir>/temporal.db (default true). */
  persist?: boolean;
  /** Use this binary instead of resolving one. */
  binaryPath?: string;
  /** Dynamic config values (default DEV_SERVER_DYNAMIC_CONFIG). */
  dynamicConfig?: Readonly<Record<string, number | boolean | string>>;
  /** Server log level (default warn). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
  /** Give up waiting for the server after this long (default 90 s). */
  startTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface TemporalDevServer {
  /** host:port for Connection.connect / NativeConnection.connect / TEMPORAL_ADDRESS. */
  address: string;
  /** http://127.0.0.1:<uiPort>, or null when the UI is off. */
  uiUrl: string | null;
  namespace: string;
  pid: number;
  logFile: string;
  binary: ResolvedTemporalBinary;
  /** Stops the server and its children (SIGTERM to the process group, SIGKILL after 10 s). Idempotent. */
  stop(): Promise<void>;
}

interface PidFile {
  serverPid: number;
  ownerPid: number;
  address: string;
  uiUrl: string | null;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the owner exits without calling stop(): never leave a dev server behind.
  process.once('exit', () => {
    for (const child of live) killGroup(child.pid, 'SIGTERM');
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}




async function readTail(file: string, maxLines = 25): Promise<string> {
  try {
    const text = await fs.readFile(file, 'utf8');
    return text.trim().split('\n').slice(-maxLines).join('\n');
  } catch {
    return '';
  }
}

/**
 * A previous owner that died without stopping its server leaves it running on
 * our state file; stop that orphan. A server whose owner is still alive is in
 * use: refuse, and say how to share it.
 */
async function handleLeftover(pidFile: string, dbFile: string, log: (m: string) => void): Promise<void> {
  let info: PidFile;
  try {
    info = JSON.parse(await fs.readFile(pidFile, 'utf8')) as PidFile;
  } catch {
    return;
  }
  const serverAlive = pidAlive(info.serverPid) && cmdline(info.serverPid).includes(dbFile);
  if (!serverAlive) {
    await fs.rm(pidFile, { force: true });
    return;
  }
  if (info.ownerPid !== process.pid && pidAlive(info.ownerPid)) {
    throw new Error(
      `a Temporal dev server for ${dbFile} is already running at ${info.address} (pid ${info.serverPid}, ` +
        `started by process ${info.ownerPid}). Use it with TEMPORAL_ADDRESS=${info.address}, stop that process, ` +
        'or use another state folder.',
    );
  }
  log(`stopping a Temporal dev server left over by a previous run (pid ${info.serverPid}, ${info.address})`);
  killGroup(info.serverPid, 'SIGTERM');
  for (let i = 0; i < 100 && pidAlive(info.serverPid); i++) await sleep(100);
  if (pidAlive(info.serverPid)) killGroup(info.serverPid, 'SIGKILL');
  for (let i = 0; i < 50 && pidAlive(info.serverPid); i++) await sleep(100);
  await fs.rm(pidFile, { force: true });
}

export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`[cutover] ${m}\n`));
  const stateDir = path.resolve(opts.stateDir);
  await fs.mkdir(stateDir, { recursive: true });
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const ui = opts.ui ?? true;
  const persist = opts.persist ?? true;
  const dbFile = path.join(stateDir, 'temporal.db');
  const logFile = path.join(stateDir, 'temporal.log');
  const pidFile = path.join(stateDir, 'temporal.pid');

  const binary: ResolvedTemporalBinary = opts.binaryPath
    ? { path: path.resolve(opts.binaryPath), source: 'env' }
    : await resolveTemporalBinary({ log });

  if (persist) await handleLeftover(pidFile, dbFile, log);

  const requestedPort = opts.port ?? 7233;
  const autoUiPort = opts.uiPort === 0 || (opts.uiPort === undefined && requestedPort === 0);
  const autoPorts = requestedPort === 0 || autoUiPort;
  const attempts = autoPorts ? 3 : 1;
  let lastError: Error | null = null;
  attempt: for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = requestedPort === 0 ? await getFreePort(ip) : requestedPort;
    let uiPort: number | null = null;
    if (ui) {
      if (autoUiPort) {
        do uiPort = await getFreePort(ip);
        while (uiPort === port);
      } else {
        uiPort = opts.uiPort ?? port + 1000;
      }
    }
    for (const [what, p, auto] of [
      ['gRPC', port, requestedPort === 0],
      ['UI', uiPort, autoUiPort],
    ] as const) {
      if (p !== null && !(await isPortFree(p, ip))) {
        if (auto && attempt < attempts) continue attempt;
        throw new Error(
          `cannot start the Temporal dev server: ${what} port ${ip}:${p} is already in use` +
            (what === 'gRPC'
              ? ` (another Temporal server? To use it, set TEMPORAL_ADDRESS=${ip}:${p}; or choose another port)`
              : ' (choose another UI port)') +
            '.',
        );
      }
    }
    try {
      return await startOnce({ opts, binary, stateDir, ip, port, uiPort, namespace, persist, dbFile, logFile, pidFile, log });
    } catch (err) {
      lastError = err as Error;
      if (!autoPorts || !/address already in use/i.test(lastError.message)) throw lastError;
      log(`port race while starting the Temporal dev server; retrying with other ports (${attempt}/${attempts})`);
    }
  }
  throw lastError ?? new Error('could not start the Temporal dev server');
}

interface StartOnceArgs {
  opts: TemporalDevServerOptions;
  binary: ResolvedTemporalBinary;
  stateDir: string;
  ip: string;
  port: number;
  uiPort: number | null;
  namespace: string;
  persist: boolean;
  dbFile: string;
  logFile: string;
  pidFile: string;
  log: (m: string) => void;
}

/** The `temporal` CLI's arguments for a dev server (pure: unit-tested). */
export function devServerArgs(o: {
  ip: string;
  port: number;
  /** null: headless. */
  uiPort: number | null;
  namespace: string;
  /** null: in memory. */
  dbFile: string | null;
  logLevel?: TemporalDevServerOptions['logLevel'];
  searchAttributes?: TemporalDevServerOptions['searchAttributes'];
  dynamicConfig?: TemporalDevServerOptions['dynamicConfig'];
}): string[] {
  const args = ['server', 'start-dev', '--ip', o.ip, '--port', String(o.port), '--log-level', o.logLevel ?? 'warn'];
  if (o.dbFile !== null) args.push('--db-filename', o.dbFile);
  if (o.uiPort !== null) args.push('--ui-port', String(o.uiPort));
  else args.push('--headless');
  if (o.namespace !== 'default') args.push('--namespace', o.namespace);
  for (const [name, type] of Object.entries(o.searchAttributes ?? CUTOVER_SEARCH_ATTRIBUTES)) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  for (const [key, value] of Object.entries(o.dynamicConfig ?? DEV_SERVER_DYNAMIC_CONFIG)) {
    // The CLI parses the value as JSON.
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  return args;
}

async function startOnce(a: StartOnceArgs): Promise<TemporalDevServer> {
  const { opts, binary, ip, port, uiPort, namespace, logFile, pidFile } = a;
  const args = devServerArgs({ ...opts, ip, port, uiPort, namespace, dbFile: a.persist ? a.dbFile : null });

  const address = `${ip}:${port}`;
  const uiUrl = uiPort !== null ? `http://${ip}:${uiPort}` : null;
  const logFd = fsSync.openSync(logFile, 'a');
  fsSync.writeSync(logFd, `\n--- ${new Date().toISOString()} ${binary.path} ${args.join(' ')}\n`);
  let child: ChildProcess;
  try {
    child = spawn(binary.path, args, {
      detached: true, // own process group: stop() kills the whole tree; Ctrl-C in a terminal does not reach it
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, TEMPORAL_ADDRESS: undefined, TEMPORAL_NAMESPACE: undefined },
    });
  } finally {
    fsSync.closeSync(logFd);
  }
  const pid = child.pid;
  if (!pid) {
    const err = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new Error(`could not run ${binary.path}: ${err.message}`);
  }
  child.unref();
  live.add(child);
  installExitHook();

  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(child);
      resolve();
    });
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return exitPromise;
    stopped = true;
    if (exited === null) {
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(timer);
    }
    killGroup(pid, 'SIGKILL'); // anything the server spawned and left in its group
    await fs.rm(pidFile, { force: true }).catch(() => undefined);
  };

  const pidInfo: PidFile = { serverPid: pid, ownerPid: process.pid, address, uiUrl };
  await fs.writeFile(pidFile, JSON.stringify(pidInfo) + '\n');

  try {
    await waitUntilServing(address, namespace, opts.startTimeoutMs ?? 90_000, () => exited !== null);
    if (uiPort !== null) await waitForPort(uiPort, ip, 30_000);
  } catch (err) {
    const wasExited = exited as { code: number | null; signal: NodeJS.Signals | null } | null;
    await stop();
    const logTail = await readTail(logFile);
    const why = wasExited
      ? `it exited (code ${wasExited.code ?? 'none'}, signal ${wasExited.signal ?? 'none'})`
      : (err as Error).message;
    throw new Error(
      `the Temporal dev server (${binary.path}) did not start on ${address}: ${why}.` +
        (logTail ? `\nLast lines of ${logFile}:\n${logTail}` : ''),
    );
  }
  a.log(`Temporal dev server ready at ${address}${uiUrl ? `, UI ${uiUrl}` : ''} (state in ${a.stateDir})`);
  return { address, uiUrl, namespace, pid, logFile, binary, stop };
}

async function waitUntilServing(
  address: string,
  namespace: string,
  timeoutMs: number,
  hasExited: () => boolean,
): Promise<void> {
  const { Connection } = await import('@temporalio/client');
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error('the server process exited');
    let connection: Awaited<ReturnType<typeof Connection.connect>> | null = null;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (err) {
      lastErr = err;
    } finally {
      await connection?.close().catch(() => undefined);
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms (${(lastErr as Error | null)?.message ?? 'no answer'})`);
}
