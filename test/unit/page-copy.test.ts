// Issue 6: the snapshot of a rollback-journal source is a file copy in slices under read locks
// (src/sqlite/page-copy.ts). It must be byte-identical to one state of the source even when the
// application writes meanwhile, never copy uncommitted pages, and leave WAL files to the backup API.
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { copyDatabaseFile } from '../../src/sqlite/page-copy';
import { takeSnapshot } from '../../src/sqlite/snapshot';
import { makeSqlite, tempDir } from '../helpers/sqlite';

const dir = tempDir('page-copy');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** ≈ 2 MB of rows, so a 64 KiB slice makes ≈ 30 slices. */
function fill(d: Database.Database) {
  const ins = d.prepare('INSERT INTO t (v) VALUES (?)');
  d.transaction(() => {
    for (let i = 0; i < 20_000; i++) ins.run(`value ${i} ${'x'.repeat(80)}`);
  })();
}
const SCHEMA = 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t(v);';
const SLICE = 64 * 1024;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
function rows(file: string): number {
  const d = new Database(file, { readonly: true });
  try {
    expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
    return Number(d.prepare('SELECT count(*) AS n FROM t').pluck().get());
  } finally {
    d.close();
  }
}

describe('copyDatabaseFile', () => {
  it('copies a rollback-journal file byte for byte in slices, with the SHA-256 of what it wrote', async () => {
    const src = makeSqlite(dir, 'plain.db', SCHEMA, fill);
    const dest = path.join(dir, 'plain.copy');
    const db = new Database(src, { readonly: true });
    const slices: number[] = [];
    const r = await copyDatabaseFile(db, src, dest, { sliceBytes: SLICE, afterSlice: (n) => slices.push(n) });
    db.close();
    const source = readFileSync(src);
    expect(r).toEqual({ copied: true, sha256: sha(source), bytes: source.length, restarts: 0 });
    expect(readFileSync(dest).equals(source)).toBe(true);
    expect(slices.length).toBe(Math.ceil(source.length / SLICE));
  });

  it('starts over when a write commits between two slices, and copies the state after it', async () => {
    const src = makeSqlite(dir, 'written.db', SCHEMA, fill);
    const dest = path.join(dir, 'written.copy');
    const db = new Database(src, { readonly: true });
    const writer = new Database(src);
    let wrote = false;
    const r = await copyDatabaseFile(db, src, dest, {
      sliceBytes: SLICE,
      afterSlice: (n) => {
        // Halfway through the first pass: 500 rows, committed while no read lock is held.
        if (!wrote && n === 10) {
          wrote = true;
          const ins = writer.prepare('INSERT INTO t (v) VALUES (?)');
          writer.transaction(() => {
            for (let i = 0; i < 500; i++) ins.run(`late ${i}`);
          })();
        }
      },
    });
    db.close();
    writer.close();
    expect(wrote).toBe(true);
    expect(r).toMatchObject({ copied: true, restarts: 1 });
    expect(readFileSync(dest).equals(readFileSync(src))).toBe(true);
    expect(rows(dest)).toBe(20_500);
  });

  it('gives up after the allowed restarts when every pass sees a new write (the caller then uses the backup API)', async () => {
    const src = makeSqlite(dir, 'busy.db', SCHEMA, fill);
    const dest = path.join(dir, 'busy.copy');
    const db = new Database(src, { readonly: true });
    const writer = new Database(src);
    let writes = 0;
    const r = await copyDatabaseFile(db, src, dest, {
      sliceBytes: SLICE,
      maxRestarts: 2,
      afterSlice: (n) => {
        if (n === 1) {
          writer.prepare('INSERT INTO t (v) VALUES (?)').run(`busy ${writes++}`);
        }
      },
    });
    db.close();
    writer.close();
    expect(r).toEqual({ copied: false, reason: 'the source was written to during 3 copies in a row', restarts: 2 });
    expect(writes).toBe(3);
  });

  it('never copies a writer’s uncommitted transaction, and does not make the writer fail', async () => {
    const src = makeSqlite(dir, 'open-tx.db', SCHEMA, fill);
    const dest = path.join(dir, 'open-tx.copy');
    const before = readFileSync(src);
    const writer = new Database(src);
    writer.exec('BEGIN IMMEDIATE');
    const ins = writer.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < 200; i++) ins.run(`uncommitted ${i}`);
    const db = new Database(src, { readonly: true });
    const r = await copyDatabaseFile(db, src, dest, { sliceBytes: SLICE });
    db.close();
    writer.exec('COMMIT');
    writer.close();
    expect(r).toMatchObject({ copied: true, restarts: 0 });
    expect(readFileSync(dest).equals(before)).toBe(true);
    expect(rows(dest)).toBe(20_000);
    expect(rows(src)).toBe(20_200);
  });

  it('leaves a WAL-mode file to the backup API', async () => {
    const src = makeSqlite(dir, 'wal.db', SCHEMA, (d) => {
      d.pragma('journal_mode = WAL');
      fill(d);
    });
    const keepOpen = new Database(src); // keeps the -wal file with its committed pages
    keepOpen.prepare('INSERT INTO t (v) VALUES (?)').run('in the wal');
    const db = new Database(src, { readonly: true });
    const r = await copyDatabaseFile(db, src, path.join(dir, 'wal.copy'), { sliceBytes: SLICE });
    db.close();
    expect(r).toEqual({ copied: false, reason: 'the source is in WAL mode', restarts: 0 });

    const snap = await takeSnapshot(src, path.join(dir, 'wal-snap'), () => undefined);
    keepOpen.close();
    expect(snap.method).toBe('backup API');
    expect(rows(snap.path)).toBe(20_001);
    expect(snap.sha256).toBe(sha(readFileSync(snap.path)));
  });
});

describe('takeSnapshot', () => {
  it('snapshots a rollback-journal source by file copy: identical bytes, its SHA-256, reused when taken again', async () => {
    const src = makeSqlite(dir, 'snap.db', SCHEMA, fill);
    const progress: number[] = [];
    const snap = await takeSnapshot(src, path.join(dir, 'snap'), (p) => progress.push(p));
    const source = readFileSync(src);
    expect(snap).toMatchObject({ sha256: sha(source), bytes: source.length, method: 'file copy' });
    expect(readFileSync(snap.path).equals(source)).toBe(true);
    expect(progress.at(-1)).toBe(100);
    const again = await takeSnapshot(src, path.join(dir, 'snap'), () => undefined);
    expect(again).toMatchObject({ path: snap.path, sha256: snap.sha256, bytes: snap.bytes });
  });

  it('uses the backup API when CUTOVER_SNAPSHOT_METHOD=backup: the same rows, its own SHA-256', async () => {
    const src = makeSqlite(dir, 'forced.db', SCHEMA, fill);
    process.env.CUTOVER_SNAPSHOT_METHOD = 'backup';
    try {
      const snap = await takeSnapshot(src, path.join(dir, 'forced'), () => undefined);
      expect(snap.method).toBe('backup API');
      expect(snap.sha256).toBe(sha(readFileSync(snap.path)));
      expect(rows(snap.path)).toBe(20_000);
    } finally {
      delete process.env.CUTOVER_SNAPSHOT_METHOD;
    }
  });
});
