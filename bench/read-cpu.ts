// CPU of the two source reads of a run, for one table: the value profile (profileTableAsync, with its
// helper threads, as the plan activity runs it) and a KeysetReader scan of every row (the copy's
// reader, without encoding). For before/after comparisons of two checkouts' compiled code, alternated:
//   node -r tsx/cjs bench/read-cpu.ts DB TABLE [ROOT]
// ROOT (default: this checkout) must hold a built dist/ (npm run build).
import path from 'node:path';

const [file, table, rootArg] = process.argv.slice(2);
if (!file || !table) throw new Error('usage: read-cpu.ts DB TABLE [ROOT]');
const root = path.resolve(rootArg ?? path.join(__dirname, '..'));
/* eslint-disable @typescript-eslint/no-require-imports */
const { openSource } = require(path.join(root, 'dist/src/sqlite/open'));
const { introspect } = require(path.join(root, 'dist/src/sqlite/introspect'));
const { profileTableAsync, releaseProfileThreads } = require(path.join(root, 'dist/src/sqlite/profile'));
const { KeysetReader, rowidName } = require(path.join(root, 'dist/src/sqlite/reader'));
/* eslint-enable @typescript-eslint/no-require-imports */

function seconds(c: NodeJS.CpuUsage): string {
  return ((c.user + c.system) / 1e6).toFixed(2);
}

(async () => {
  const db = openSource(file);
  const t = introspect(db).tables.find((x: { name: string }) => x.name === table);
  if (!t) throw new Error(`no table ${table} in ${file}`);
  const names: string[] = t.columns.map((c: { name: string }) => c.name);
  let cpu = process.cpuUsage();
  let wall = performance.now();
  await profileTableAsync(db, table, t.columns);
  const profile = `profile: CPU ${seconds(process.cpuUsage(cpu))} s, wall ${((performance.now() - wall) / 1000).toFixed(2)} s`;
  await releaseProfileThreads();
  const rid = rowidName(names);
  if (t.withoutRowid || !rid) throw new Error(`${table}: not a rowid table`);
  const reader = new KeysetReader(db, table, { kind: 'rowid', columns: [rid], ...(t.rowidAlias ? { display: [t.rowidAlias] } : {}) }, names);
  cpu = process.cpuUsage();
  wall = performance.now();
  let after: unknown = null;
  let rows = 0;
  for (;;) {
    const r: { rows: number; lastKey: unknown } = reader.scan(after, null, 10_000, () => void rows++);
    if (r.rows === 0) break;
    after = r.lastKey;
  }
  console.log(`${root} ${table}: ${profile}; reader scan of ${rows} rows: CPU ${seconds(process.cpuUsage(cpu))} s, wall ${((performance.now() - wall) / 1000).toFixed(2)} s`);
  db.close();
})();
