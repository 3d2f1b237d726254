// Summarises V8 .cpuprofile files (node --cpu-prof): self time by category and by function.
//
//   node -r tsx/cjs bench/cpuprofile.ts DIR_OR_FILE...
import fs from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Category of a frame, by where its code lives. Ordered: first match wins. */
const CATEGORIES: Array<[string, RegExp]> = [
  ['profile (src/sqlite/profile.ts)', /src\/sqlite\/profile\.ts/],
  ['snapshot (src/sqlite/snapshot.ts)', /src\/sqlite\/snapshot\.ts/],
  ['SQLite read (reader.ts, better-sqlite3)', /src\/sqlite\/reader\.ts|better-sqlite3/],
  ['other src/sqlite', /src\/sqlite\//],
  ['encode (copy-chunk.ts, plan/convert.ts, copy-text, decimal, timestamps)', /src\/copy\/copy-chunk\.ts|src\/plan\/(convert|copy-text|decimal|timestamps)\.ts/],
  ['plan (other src/plan)', /src\/plan\//],
  ['COPY / pg client (pg, pg-copy-streams, pg-protocol)', /node_modules\/(pg|pg-copy-streams|pg-protocol|pg-pool|pgpass|pg-types)\//],
  ['state (src/postgres)', /src\/postgres\//],
  ['Temporal SDK (worker, client, core bridge, proto)', /@temporalio|protobufjs|long\/|@grpc|proto3-json/],
  ['workflow bundle / webpack / swc', /webpack|@swc|terser|enhanced-resolve|acorn|memfs|schema-utils/],
  ['tsx / esbuild (loading TypeScript)', /tsx\/|esbuild|get-tsconfig|source-map/],
  ['activities/ workflows/', /\/activities\/|\/workflows\//],
  ['other project code', /\/work\/main\/(src|bin)\//],
  ['other node_modules', /node_modules/],
  ['node internals', /^node:|^internal\//],
];

export interface ProfileSummary {
  file: string;
  totalMs: number;
  idleMs: number;
  gcMs: number;
  /** Time between two samples far apart (the sampler did not run): neither busy nor idle. */
  gapMs: number;
  byCategory: Array<{ category: string; ms: number }>;
  topFunctions: Array<{ fn: string; where: string; ms: number }>;
}

function categoryOf(frame: CallFrame): string {
  if (frame.functionName === '(idle)') return '(idle)';
  if (frame.functionName === '(garbage collector)') return '(gc)';
  if (frame.functionName === '(program)') return '(program: native, unattributed)';
  const url = frame.url;
  if (!url) return 'native (no url: builtins, C++ bindings)';
  for (const [name, re] of CATEGORIES) if (re.test(url)) return name;
  return 'other';
}

/** A sample this long after the previous one stands for unsampled time, not for its function. */
const SAMPLE_GAP_MS = 50;

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const self = new Map<number, number>();
  let gap = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    // Samples come every ≈ 1 ms. A delta of seconds (seen on a loaded 2-core machine, and between
    // the last sample and the profile's end) is time nobody sampled: crediting it to the function
    // of the next sample once showed 8.6 s "in" an rxjs unsubscribe that ran at shutdown.
    if (dt > SAMPLE_GAP_MS) {
      gap += dt;
      continue;
    }
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
  }
  const cats = new Map<string, number>();
  const fns = new Map<string, { fn: string; where: string; ms: number }>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id)!;
    const c = categoryOf(node.callFrame);
    total += ms;
    if (c === '(idle)') idle += ms;
    if (c === '(gc)') gc += ms;
    cats.set(c, (cats.get(c) ?? 0) + ms);
    const where = node.callFrame.url ? `${node.callFrame.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'nm/').replace('/work/main/', '')}:${node.callFrame.lineNumber + 1}` : '';
    const key = `${node.callFrame.functionName}@${where}`;
    const f = fns.get(key) ?? { fn: node.callFrame.functionName || '(anonymous)', where, ms: 0 };
    f.ms += ms;
    fns.set(key, f);
  }
  return {
    file,
    totalMs: total,
    idleMs: idle,
    gcMs: gc,
    gapMs: gap,
    byCategory: [...cats].map(([category, ms]) => ({ category, ms })).sort((a, b) => b.ms - a.ms),
    topFunctions: [...fns.values()].filter((f) => f.fn !== '(idle)').sort((a, b) => b.ms - a.ms).slice(0, top),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const busy = s.totalMs - s.idleMs;
  const lines = [`${path.basename(s.file)}: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (idle ${(s.idleMs / 1000).toFixed(1)} s)${s.gapMs > 0 ? `, ${(s.gapMs / 1000).toFixed(1)} s not sampled (gaps > ${SAMPLE_GAP_MS} ms between samples)` : ''}`];
  lines.push('  self time by category (% of busy):');
  for (const c of s.byCategory) {
    if (c.category === '(idle)') continue;
    lines.push(`    ${(c.ms / 1000).toFixed(2).padStart(7)} s ${((100 * c.ms) / busy).toFixed(1).padStart(5)}%  ${c.category}`);
  }
  lines.push('  top functions (self):');
  for (const f of s.topFunctions) lines.push(`    ${(f.ms / 1000).toFixed(2).padStart(7)} s  ${f.fn}  ${f.where}`);
  return lines.join('\n');
}

export function profileFiles(target: string): string[] {
  const st = fs.statSync(target);
  if (!st.isDirectory()) return [target];
  return fs
    .readdirSync(target)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(target, f));
}

if (require.main === module) {
  for (const t of process.argv.slice(2)) {
    for (const f of profileFiles(t)) process.stdout.write(formatSummary(summarizeProfile(f)) + '\n\n');
  }
}
