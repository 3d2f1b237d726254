// Issue 6: a copy thread with no chunk for a while exits, so its heap does not stay with the worker
// process through the key builds and checksums after the copy; the next chunk gets a new thread.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { TablePlan } from '../../src/types';
import { liveCopyThreads, openBatchSource } from '../../src/copy/batch-source';
import { openSource } from '../../src/sqlite/open';
import { makeSqlite, tempDir } from '../helpers/sqlite';

// Read when a thread goes idle, and when the pool is first made.
process.env.CUTOVER_COPY_THREAD_IDLE_MS = '1500';
process.env.CUTOVER_COPY_THREADS = '2';

const dir = tempDir('copy-thread-idle');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = makeSqlite(dir, 'idle.db', `CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT);
  WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000) INSERT INTO t SELECT x, 'row ' || x FROM c;`);

const table = {
  source: 't',
  target: 't',
  key: { kind: 'rowid', columns: ['rowid'], display: ['id'] },
  columns: [
    { source: 'id', target: 'id', pgType: 'bigint', converter: { kind: 'integer', bits: 64 } },
    { source: 's', target: 's', pgType: 'text', converter: { kind: 'text' } },
  ],
} as unknown as TablePlan;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('copy threads', () => {
  it('exit once idle, and a later chunk gets a new one that copies the same rows', async () => {
    const db = openSource(file);
    try {
      const readAll = async () => {
        const src = openBatchSource(db, table, null, null, 1000);
        const payloads: Buffer[] = [];
        try {
          for (;;) {
            const b = await src.next();
            if (b === null) break;
            payloads.push(Buffer.from(b.payload));
          }
        } finally {
          src.close();
        }
        return Buffer.concat(payloads);
      };
      const first = await readAll();
      expect(liveCopyThreads()).toBe(1);
      // Busy again before the idle time is up: the pool grows to its size (2), nothing exits.
      expect((await readAll()).equals(first)).toBe(true);
      expect(liveCopyThreads()).toBe(2);
      await sleep(4000);
      expect(liveCopyThreads()).toBe(0);
      const again = await readAll();
      expect(again.equals(first)).toBe(true);
      expect(again.length).toBeGreaterThan(5000 * 8);
    } finally {
      db.close();
    }
  });
});
