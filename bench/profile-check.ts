// Checks that the two-thread value profile (src/sqlite/profile.ts) and the off-main-thread one
// (profileTableAsync, what the plan activity uses) equal the one-thread scan on a database, table by
// table, and times them:  node -r tsx/cjs bench/profile-check.ts DB
import Database from 'better-sqlite3';
import { isDeepStrictEqual } from 'node:util';
import { profileTable, profileTableAsync, releaseProfileThreads } from '../src/sqlite/profile';
import type { SqliteColumn } from '../src/sqlite/types';

const file = process.argv[2];
if (!file) throw new Error('usage: profile-check.ts DB');
const db = new Database(file, { readonly: true });
db.defaultSafeIntegers(true);
const tables = (db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[]).map((r) => r.name);
let bad = 0;
(async () => {
  for (const t of tables) {
    // Real primary-key positions: the ranged scans read a rowid alias once, as the rowid.
    const cols = (db.prepare(`SELECT name, type, pk FROM pragma_table_info(?)`).all(t) as { name: string; type: string; pk: bigint }[]).map(
      (r): SqliteColumn => ({ name: r.name, declaredType: r.type, notNull: false, defaultSql: null, pkIndex: Number(r.pk), hidden: 0, collation: null }),
    );
    const run = (threads: string) => {
      process.env.CUTOVER_PROFILE_THREADS = threads;
      const s = performance.now();
      const p = profileTable(db, t, cols);
      return { p, s: (performance.now() - s) / 1000 };
    };
    const one = run('0');
    const two = run('1');
    delete process.env.CUTOVER_PROFILE_THREADS;
    const s0 = performance.now();
    const off = await profileTableAsync(db, t, cols);
    const offS = (performance.now() - s0) / 1000;
    const same = isDeepStrictEqual(one.p, two.p) && isDeepStrictEqual(one.p, off);
    if (!same) bad++;
    console.log(
      `${t.padEnd(20)} 1 thread ${one.s.toFixed(2)} s, 2 threads ${two.s.toFixed(2)} s, off the main thread ${offS.toFixed(2)} s  ${same ? 'identical' : 'DIFFERENT'}`,
    );
  }
  await releaseProfileThreads();
  db.close();
  process.exit(bad ? 1 : 0);
})();
