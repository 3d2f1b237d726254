import { openSource } from '../../src/sqlite/open';
import { openBatchSource } from '../../src/copy/batch-source';
import type { TablePlan } from '../../src/types';
const db = openSource('/tmp/cutover-bench-cache/bench-s1-seed42.db');
const cols = ['chart_id','time','open','high','low','close','volume'];
const t: TablePlan = { source: 'candles', target: 'candles', withoutRowid: false, strict: false, key: { kind: 'rowid', columns: ['rowid'] },
  columns: cols.map((c, i) => ({ source: c, target: c, declaredType: '', pgType: '', converter: i < 2 ? { kind: 'integer', bits: 64 } : { kind: 'float' }, notNull: false, defaultSql: null, identity: false, generated: false, reason: '', warnings: [], suggestions: [] })) as any,
  primaryKey: null, uniques: [], indexes: [], foreignKeys: [], checks: [], rowCount: 0, sqliteSequence: null, warnings: [] };
let peak = 0;
const tick = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
async function one(lo: number, hi: number) {
  const src = openBatchSource(db, t, lo ? [{ t: 'i', v: String(lo) }] : null, [{ t: 'i', v: String(hi) }], Number(process.env.BS ?? 10000));
  let n = 0; let bytes = 0;
  for (;;) { const b = await src.next(); if (!b) break; n += b.copied; bytes += b.payload.length; }
  src.close(); return [n, bytes];
}
(async () => {
  const s = performance.now();
  const r = await Promise.all([one(0, 1000000), one(1000000, 2000000)]);
  console.log(require('fs').readFileSync('/proc/self/status','utf8').match(/VmHWM.*/)[0], process.env.CUTOVER_COPY_THREADS ?? 'default', 'rows', r, ((performance.now() - s) / 1000).toFixed(2), 's', 'peak rss', (peak / 1048576).toFixed(0), 'MB', 'cpu', ((process.cpuUsage().user + process.cpuUsage().system) / 1e6).toFixed(2));
  clearInterval(tick); process.exit(0);
})();
