// The workflow bundle, built once per version of the workflow code and kept
// in the user's cache folder: webpack costs seconds and hundreds of MB at
// every worker start otherwise.
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...listSources(full));
    else if (/\.(ts|js)$/.test(entry)) out.push(full);
  }
  return out.sort();
}

/** A hash of everything the bundle can contain: our sources and the SDK version. */
function sourceHash(): string {
  const hash = createHash('sha256');
  for (const file of [...listSources(path.join(ROOT, 'workflows')), ...listSources(path.join(ROOT, 'src'))]) {
    hash.update(path.relative(ROOT, file)).update(readFileSync(file));
  }
  hash.update(JSON.parse(readFileSync(require.resolve('@temporalio/workflow/package.json'), 'utf8')).version);
  return hash.digest('hex').slice(0, 16);
}

function cacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'cutover', 'workflow-bundles');
}

export async function cachedWorkflowBundle(workflowsPath: string, logger: Parameters<typeof bundleWorkflowCode>[0]['logger']): Promise<WorkflowBundleWithSourceMap> {
  const file = path.join(cacheDir(), `bundle-${sourceHash()}.json`);
  if (existsSync(file)) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as WorkflowBundleWithSourceMap;
    } catch {
      // A damaged cache entry is rebuilt below.
    }
  }
  const bundle = await bundleWorkflowCode({ workflowsPath, logger });
  try {
    mkdirSync(cacheDir(), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(bundle));
    renameSync(tmp, file);
  } catch {
    // Caching is an optimisation: a read-only home still works.
  }
  return bundle;
}
