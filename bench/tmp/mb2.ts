import Database from 'better-sqlite3';
import { makeEncoder } from '../../src/plan/convert';
const db = new Database('/tmp/cutover-bench-cache/bench-s1-seed42.db', { readonly: true });
const cols = ['rowid','chart_id','time','open','high','low','close','volume'];
const encs = cols.map((_, i) => makeEncoder(i < 3 ? { kind: 'integer', bits: 64 } : { kind: 'float' }));
function cpu() { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }
for (const safe of [true, false, true, false]) {
  const st = db.prepare(`SELECT ${cols.join(',')} FROM candles WHERE rowid <= 1000000`).raw(true).safeIntegers(safe);
  const c0 = cpu(); let n = 0; let len = 0;
  let out = '';
  for (const r of st.iterate() as any) { let line = encs[1]!(r[1]); for (let i = 2; i < 8; i++) line = line + '\t' + encs[i]!(r[i]); out += line + '\n'; if (++n % 10000 === 0) { len += Buffer.byteLength(out); out = ''; } }
  console.log('safe', safe, n, len, (cpu() - c0).toFixed(2), 's cpu');
}
