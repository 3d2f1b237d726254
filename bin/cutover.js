#!/usr/bin/env node
// Runs the compiled tree (dist/, made by `npm run build`) when it was built from exactly these
// sources; otherwise the TypeScript sources directly (tsx), so a fresh clone needs no build step.
//
// "Exactly these sources": dist/.sources-hash holds a hash of every file the build compiles (and
// the tsconfigs and the TypeScript version), written after a successful build. Any edit, checkout
// or deleted file changes the hash, and the sources run through tsx until the next build.
// The compiled tree uses ≈150 MB less memory (no TypeScript compiler in the process and in every
// worker thread); start time is about the same (tsx caches what it compiled). CUTOVER_CODE=ts forces
// the sources; CUTOVER_CODE=dist forces dist/ even when it does not match them (the benchmark: every
// run the same build).

'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.sources-hash');
/** What tsconfig.build.json compiles. */
const SOURCE_DIRS = ['src', 'workflows', 'activities', 'scripts'];

function listTs(dir, out) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) listTs(full, out);
    else if (e.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** Hash of the sources the build compiles, with their paths, the tsconfigs and TypeScript's version. */
function sourcesHash() {
  const hash = createHash('sha256');
  const files = [];
  for (const d of SOURCE_DIRS) listTs(path.join(ROOT, d), files);
  files.sort();
  for (const f of [...files, path.join(ROOT, 'tsconfig.json'), path.join(ROOT, 'tsconfig.build.json')]) {
    hash.update(path.relative(ROOT, f)).update('\0');
    try {
      hash.update(fs.readFileSync(f));
    } catch {
      hash.update('(missing)');
    }
    hash.update('\0');
  }
  try {
    hash.update(JSON.parse(fs.readFileSync(require.resolve('typescript/package.json', { paths: [ROOT] }), 'utf8')).version);
  } catch {
    hash.update('(no typescript)');
  }
  return hash.digest('hex');
}

/**
 * Records that dist/ was built from the current sources: `npm run build` runs it right after a
 * successful `tsc -p tsconfig.build.json` (`node -e "require('./bin/cutover.js').writeBuildStamp()"`).
 */
function writeBuildStamp() {
  const h = sourcesHash();
  fs.writeFileSync(STAMP, h + '\n');
  return h;
}

/** The compiled CLI entry when dist/ matches the sources (or CUTOVER_CODE=dist), else null. */
function compiledEntry(env = process.env) {
  const entry = path.join(DIST, 'src', 'cli', 'main.js');
  if (env.CUTOVER_CODE === 'ts') return null;
  if (env.CUTOVER_CODE === 'dist') {
    if (!fs.existsSync(entry)) throw new Error(`CUTOVER_CODE=dist but ${entry} does not exist: run \`npm run build\` first`);
    return entry;
  }
  try {
    if (!fs.existsSync(entry)) return null;
    return fs.readFileSync(STAMP, 'utf8').trim() === sourcesHash() ? entry : null;
  } catch {
    return null;
  }
}

module.exports = { sourcesHash, writeBuildStamp, compiledEntry };

/**
 * Small young generations (V8's nursery) for every JavaScript thread of the process:
 * - the main thread's stays at its initial size instead of growing to 32 MB
 *   (--semi-space-growth-factor=1; its work is Temporal, PostgreSQL sessions and waiting, the
 *   row-heavy work runs in worker threads);
 * - threads created from here on get a fixed 8 MB (--min/--max-semi-space-size=4): the Temporal SDK's
 *   workflow thread (created without resource limits: 32 MB otherwise), the copy and profile threads
 *   (8 MB by their own limits already; the flags override any CUTOVER_*_YOUNG_MB).
 * Starting a worker thread resets V8's flags, so they are applied again once each thread is online.
 * Measured on the scale-1 bench: ≈50 MB less peak RSS, no measurable change in time.
 * CUTOVER_YOUNG_GEN=default keeps V8's defaults.
 */
const YOUNG_GEN_FLAGS = ['--semi-space-growth-factor=1', '--max-semi-space-size=4', '--min-semi-space-size=4'];

function smallYoungGenerations(env = process.env) {
  if (env.CUTOVER_YOUNG_GEN === 'default') return;
  const v8 = require('node:v8');
  const apply = () => {
    try {
      for (const f of YOUNG_GEN_FLAGS) v8.setFlagsFromString(f);
    } catch {
      // An engine without these flags: V8's defaults.
    }
  };
  apply();
  process.on('worker', (worker) => worker.once('online', apply));
}

/**
 * glibc gives each thread that contends for malloc an arena of its own (up to 8 per core) and keeps
 * what they freed: our copy, profile and checksum threads, libuv's pool and the Temporal core's
 * threads churn through buffers, and the process kept ≈ 50 MB more RSS than with two arenas
 * (scale-1 bench, checksum validation: 341 MB → 294 MB; count: ≈ 275 → 261 MB; no change in time).
 * glibc reads MALLOC_ARENA_MAX only when a process starts, so on Linux the CLI runs itself once
 * more with it set (≈ 40 ms), unless it is set already (the Docker image sets it) or
 * CUTOVER_MALLOC_ARENAS=default. The first process only relays: exit code, signals, and its death
 * (the second one notices within 100 ms and dies too, as the first did: a supervisor's or a test's
 * SIGKILL still means "stop now, nothing drains").
 */
function runWithFewMallocArenas(env = process.env) {
  if (process.platform !== 'linux' || env.MALLOC_ARENA_MAX !== undefined || env.CUTOVER_MALLOC_ARENAS === 'default') return false;
  // Only the commands that move or read data in this process; a short command is not worth a second start.
  if (!process.argv.slice(2).some((a) => HEAVY_COMMANDS.has(a))) return false;
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...env, MALLOC_ARENA_MAX: '2', CUTOVER_RELAYED: String(process.pid) },
  });
  const relay = (sig) => {
    // Ctrl-C / hangup on a terminal reach every process of the foreground group: the child has it
    // already, and a second copy would read as "press again to force". Anything else is relayed.
    if ((sig === 'SIGINT' || sig === 'SIGHUP') && inForegroundGroup()) return;
    try {
      child.kill(sig);
    } catch {
      // already gone
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2']) process.on(sig, () => relay(sig));
  child.on('error', (err) => {
    process.stderr.write(`cutover: could not start ${process.execPath}: ${err.message}\n`);
    process.exit(70);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      // Die of the same signal, so a caller sees what the child saw.
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2']) process.removeAllListeners(sig);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
  return true;
}

/** Commands that run a worker, copy or read whole tables here (`migrate` runs one unless a cluster's worker does). */
const HEAVY_COMMANDS = new Set(['migrate', 'worker', 'dev', 'demo', 'verify', 'plan']);

/** This process is in its terminal's foreground process group (Linux: /proc/self/stat's pgrp and tpgid). */
function inForegroundGroup() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return f[2] === f[5] && Number(f[5]) > 0; // pgrp === tpgid
  } catch {
    return false;
  }
}

/**
 * In the relayed process: when the first one is gone, it was killed outright (it only relays, and a
 * graceful stop arrives as a relayed signal first): share its fate, as one process would have.
 * Noticed by this process being re-parented; an unref'd timer, so it keeps nothing alive (an IPC
 * channel with a 'disconnect' listener would keep the event loop running).
 */
function followRelay() {
  const first = Number(process.env.CUTOVER_RELAYED);
  if (!first) return;
  delete process.env.CUTOVER_RELAYED;
  const check = () => {
    if (process.ppid !== first) process.kill(process.pid, 'SIGKILL');
  };
  check(); // gone already while this one started
  setInterval(check, 100).unref();
}

if (require.main === module && !runWithFewMallocArenas()) {
  followRelay();
  smallYoungGenerations();
  let compiled;
  try {
    compiled = compiledEntry();
  } catch (err) {
    process.stderr.write(`cutover: ${err.message}\n`);
    process.exit(2);
  }
  if (compiled) {
    require(compiled).main();
  } else {
    require('tsx/cjs');
    require('../src/cli/main.ts').main();
  }
}
