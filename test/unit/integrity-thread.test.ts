// Issue 6: PRAGMA integrity_check runs in a worker thread for large files (preflight), with exactly
// the verdicts, failure types and messages of the in-thread check.
import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { checkIntegrity, checkIntegrityOffThread, openSource } from '../../src/sqlite/open';
import { needsFullIntegrityCheck } from '../../src/sqlite/reader';
import { makeSqlite, tempDir } from '../helpers/sqlite';

const dir = tempDir('integrity-thread');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fill(d: import('better-sqlite3').Database) {
  const ins = d.prepare('INSERT INTO t VALUES (?, ?)');
  for (let i = 1n; i <= 3000n; i++) ins.run(i, `value ${i}`);
}
const good = makeSqlite(dir, 'good.db', `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t(v);`, fill);
const corrupt = makeSqlite(dir, 'corrupt.db', `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t(v);`, fill);
{
  const size = statSync(corrupt).size;
  const fd = openSync(corrupt, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, Math.floor(size / 4096 / 2) * 4096);
  closeSync(fd);
}
const collated = makeSqlite(dir, 'collated.db', `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a');`);

async function outcome(f: () => unknown): Promise<{ ok: true } | { ok: false; type: unknown; message: string; nonRetryable: unknown }> {
  try {
    await f();
    return { ok: true };
  } catch (err) {
    const e = err as { type?: unknown; message: string; nonRetryable?: unknown };
    return { ok: false, type: e.type, message: e.message, nonRetryable: e.nonRetryable };
  }
}

describe('checkIntegrityOffThread', () => {
  it.each(['integrity_check', 'quick_check'] as const)('gives the same verdict, failure type and message as checkIntegrity (thread forced with minBytes 0): %s', async (pragma) => {
    for (const file of [good, corrupt, collated]) {
      const db = openSource(file);
      try {
        const inline = await outcome(() => checkIntegrity(db, file, pragma));
        const threaded = await outcome(() => checkIntegrityOffThread(db, file, 0, pragma));
        const small = await outcome(() => checkIntegrityOffThread(db, file, undefined, pragma));
        expect(threaded, file).toEqual(inline);
        expect(small, file).toEqual(inline);
        expect(inline.ok, file).toBe(file !== corrupt);
      } finally {
        db.close();
      }
    }
    const db = openSource(corrupt);
    try {
      const r = await outcome(() => checkIntegrityOffThread(db, corrupt, 0, pragma));
      expect(r.ok).toBe(false);
      expect(r).toMatchObject({ type: 'SourceCorrupt' });
      expect((r as { message: string }).message).toMatch(new RegExp(`corrupt.*${pragma}|${pragma}.*corrupt|failed PRAGMA ${pragma}`));
    } finally {
      db.close();
    }
  }, 30_000);
});

describe('needsFullIntegrityCheck', () => {
  const t = (columns: string[], primaryKey: string[] | null, withoutRowid = false) => ({ columns: columns.map((name) => ({ name })), primaryKey, withoutRowid });
  it('only when a rowid table must be read through its primary key index', () => {
    expect(needsFullIntegrityCheck([t(['id', 'v'], ['id']), t(['a', 'b'], null), t(['k', 'v'], ['k'], true)])).toBe(false);
    // rowid taken, _rowid_ and oid are not: still read by rowid.
    expect(needsFullIntegrityCheck([t(['rowid', 'v'], ['v'])])).toBe(false);
    expect(needsFullIntegrityCheck([t(['ROWID', '_rowid_', 'Oid', 'v'], ['v'])])).toBe(true);
    // No key at all: read in table order, compared as a multiset.
    expect(needsFullIntegrityCheck([t(['rowid', '_rowid_', 'oid'], null)])).toBe(false);
    expect(needsFullIntegrityCheck([t(['rowid', '_rowid_', 'oid'], ['oid'], true)])).toBe(false);
  });
});
