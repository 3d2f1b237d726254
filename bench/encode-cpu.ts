// CPU of the copy's read + encode of whole tables in one thread (ChunkEncoder, batches of 20,000 rows, payload
// buffers recycled), per variant: through better-sqlite3, from the file's pages (page-reader.ts), and from the
// pages with the value profile of a speculative plan or the checksum digests. The plan is built once with
// planFromFile. Alternate runs of two checkouts for before/after comparisons (the machine is noisy):
//   node -r tsx/cjs bench/encode-cpu.ts DB [TABLE …]
import { ChunkEncoder, PayloadPool } from '../src/copy/encode-batch';
import { planFromFile } from '../src/plan/plan-file';
import { openSource } from '../src/sqlite/open';
import type { KeyTuple } from '../src/types';

const [file, ...only] = process.argv.slice(2);
if (!file) throw new Error('usage: encode-cpu.ts DB [TABLE …]');
const plan = planFromFile(file);
const db = openSource(file);
const variants: Array<[string, ConstructorParameters<typeof ChunkEncoder>[3]]> = [
  ['sqlite', { pageReader: false }],
  ['pages', {}],
  ['pages+profile', { profile: true }],
  ['pages+digests', { digests: true }],
];
for (const t of plan.tables) {
  if (only.length > 0 && !only.includes(t.source)) continue;
  const cells: string[] = [];
  for (const [name, options] of variants) {
    const pool = new PayloadPool();
    const enc = new ChunkEncoder(db, t, pool, options);
    const before = process.cpuUsage();
    let after: KeyTuple | null = null;
    for (;;) {
      const b = enc.next(after, null, 20_000);
      if (!b) break;
      after = b.lastKey;
      pool.put(b.payload.buffer as ArrayBuffer);
    }
    const used = process.cpuUsage(before);
    const off = enc.pageReaderOff;
    enc.close();
    cells.push(`${name} ${((used.user + used.system) / 1e6).toFixed(2)} s${off && name !== 'sqlite' ? ` (read through SQLite: ${off})` : ''}`);
  }
  console.log(`${t.source} (${t.rowCount} rows): ${cells.join(' | ')}`);
}
db.close();
