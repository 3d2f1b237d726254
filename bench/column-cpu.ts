// CPU of each column's binary COPY writer and of its value facts (the speculative plan's), over every row of one
// table: the rows are read once from the file's pages (not timed), then each column is written (and profiled) alone,
// twice, the second time reported (the first warms the JIT). Finds the column a copy thread spends its time on:
//   node -r tsx/cjs bench/column-cpu.ts DB TABLE
import { planFromFile } from '../src/plan/plan-file';
import { openSource } from '../src/sqlite/open';
import { PageKeysetReader } from '../src/sqlite/page-reader';
import { makeEncoder } from '../src/plan/convert';
import { binaryFieldWriter } from '../src/copy/binary-fields';
import { BinaryRows } from '../src/copy/binary-rows';
import { PayloadPool } from '../src/copy/encode-batch';
import { Acc, add } from '../src/sqlite/profile';
import type { SqliteValue } from '../src/sqlite/types';

const [file, tableName] = process.argv.slice(2);
if (!file || !tableName) throw new Error('usage: column-cpu.ts DB TABLE');
const table = planFromFile(file).tables.find((x) => x.source === tableName);
if (!table) throw new Error(`no table ${tableName} in the plan of ${file}`);
const db = openSource(file);
const reader = PageKeysetReader.open(db, table.source, table.key, table.columns.map((c) => c.source));
if (typeof reader === 'string') throw new Error(`${tableName} is not read from the pages: ${reader}`);
const rows: SqliteValue[][] = [];
reader.scan(null, null, Number.MAX_SAFE_INTEGER, (row) => void rows.push(row), true);
reader.close();
const ms = (c: NodeJS.CpuUsage) => ((c.user + c.system) / 1000).toFixed(0).padStart(5);
console.log(`${tableName}: ${rows.length} rows`);
const pool = new PayloadPool();
const width = table.key.columns.length;
for (let rep = 0; rep < 2; rep++) {
  table.columns.forEach((col, i) => {
    const write = binaryFieldWriter(col, makeEncoder(col.converter));
    if (!write) {
      if (rep === 1) console.log(`  ${col.source}: no binary writer (the table is copied as COPY text)`);
      return;
    }
    let out = new BinaryRows(pool, 1 << 20);
    let t0 = process.cpuUsage();
    for (let k = 0; k < rows.length; k++) {
      // A fresh buffer now and then, as batches do.
      if ((k & 4095) === 0) {
        out.release();
        out = new BinaryRows(pool, 1 << 20);
      }
      out.beginRow(1);
      write(rows[k]![width + i]!, out);
      out.endRow();
    }
    const writing = ms(process.cpuUsage(t0));
    out.release();
    const facts = new Acc();
    t0 = process.cpuUsage();
    for (let k = 0; k < rows.length; k++) add(facts, rows[k]![width + i]!);
    const profiling = ms(process.cpuUsage(t0));
    if (rep === 1) console.log(`  ${col.source.padEnd(16)} ${col.converter.kind.padEnd(10)} ${col.pgType.padEnd(18)} write ${writing} ms   facts ${profiling} ms`);
  });
}
db.close();
