#!/usr/bin/env node
// Runs the compiled tree (dist/, made by `npm run build`) when it was built from exactly these
// sources; otherwise the TypeScript sources directly (tsx), so a fresh clone needs no build step.
//
// "Exactly these sources": dist/.sources-hash holds a hash of every file the build compiles (and
// the tsconfigs and the TypeScript version), written after a successful build. Any edit, checkout
// or deleted file changes the hash, and the sources run through tsx until the next build.
// The compiled tree starts ≈2 s faster and uses ≈150 MB less memory (no TypeScript compiler in
// the process and in every worker thread). CUTOVER_TS=1 forces the sources.
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

/** The compiled CLI entry when dist/ matches the sources, else null. */
function compiledEntry(env = process.env) {
  if (env.CUTOVER_TS === '1') return null;
  const entry = path.join(DIST, 'src', 'cli', 'main.js');
  try {
    if (!fs.existsSync(entry)) return null;
    return fs.readFileSync(STAMP, 'utf8').trim() === sourcesHash() ? entry : null;
  } catch {
    return null;
  }
}

module.exports = { sourcesHash, writeBuildStamp, compiledEntry };

/**
 * The main thread's young generation stays at its initial size (≈2 MB) instead of growing to 32 MB:
 * its work is Temporal, PostgreSQL sessions and waiting; the row-heavy work runs in worker threads,
 * which are created with their own young-generation limits (the flag does not shrink those).
 * Measured: ≈30 MB less RSS, no measurable change in migrate time. CUTOVER_MAIN_YOUNG_GEN=grow keeps V8's default.
 */
function fixMainYoungGeneration(env = process.env) {
  if (env.CUTOVER_MAIN_YOUNG_GEN === 'grow') return;
  try {
    require('node:v8').setFlagsFromString('--semi-space-growth-factor=1');
  } catch {
    // An engine without the flag: V8's default.
  }
}

if (require.main === module) {
  fixMainYoungGeneration();
  const compiled = compiledEntry();
  if (compiled) {
    require(compiled).main();
  } else {
    require('tsx/cjs');
    require('../src/cli/main.ts').main();
  }
}
