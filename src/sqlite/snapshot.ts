// A consistent copy of the source, made while the application may still be
// writing: a slice-by-slice file copy under read locks for rollback-journal
// files (page-copy.ts), SQLite's online backup API otherwise. Every later read
// uses it; it is kept as the rollback backup.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, promises, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkSourceFile } from './open';
import { copyDatabaseFile } from './page-copy';
import type { SnapshotFile } from '../types';

export type SnapshotInfo = SnapshotFile;

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  // One reused buffer: a read stream's chunks pile up faster than they are hashed and grow the RSS.
  const fh = await promises.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafeSlow(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (!bytesRead) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

export interface SnapshotOptions {
  /**
   * The source's fingerprint taken before the copy starts: kept beside the snapshot, so whoever
   * reuses the snapshot compares the source with the state it was copied in (takenFrom).
   */
  before?: SourceFingerprint;
  /** Only the file copy: a WAL source, one that keeps changing, or a stop returns null. */
  fileCopyOnly?: boolean;
  /** Asked between slices of the file copy. */
  shouldStop?: () => boolean;
}

/**
 * Idempotent: a finished snapshot (its .sha256 file written last) is reused,
 * a half-written one is redone. `progress` is called between backup steps.
 * A rerun after the source changed takes its own file (`fileName`), so the
 * snapshot the target was first copied from stays comparable.
 */
export async function takeSnapshot(source: string, dir: string, progress: (pct: number) => void, fileName?: string, opts?: SnapshotOptions & { fileCopyOnly?: false }): Promise<SnapshotInfo>;
export async function takeSnapshot(source: string, dir: string, progress: (pct: number) => void, fileName: string, opts: SnapshotOptions): Promise<SnapshotInfo | null>;
export async function takeSnapshot(source: string, dir: string, progress: (pct: number) => void, fileName = 'source.db', opts: SnapshotOptions = {}): Promise<SnapshotInfo | null> {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, fileName);
  const marker = `${file}.sha256`;
  if (existsSync(file) && existsSync(marker)) {
    const method = readTaken(file)?.method;
    return { path: file, sha256: readFileSync(marker, 'utf8').trim(), bytes: statSync(file).size, ...(method ? { method } : {}) };
  }
  checkSourceFile(source);
  const tmp = `${file}.partial`;
  rmSync(tmp, { force: true });
  rmSync(takenFile(file), { force: true });
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    const fast = process.env.CUTOVER_SNAPSHOT_METHOD === 'backup' ? { copied: false as const } : await copyDatabaseFile(db, source, tmp, { progress, shouldStop: opts.shouldStop });
    if (fast.copied) {
      renameSync(tmp, file);
      writeTaken(file, { method: 'file copy', source: opts.before ?? null });
      writeFileSync(marker, `${fast.sha256}\n`);
      return { path: file, sha256: fast.sha256, bytes: fast.bytes, method: 'file copy' };
    }
    rmSync(tmp, { force: true });
    if (opts.fileCopyOnly) return null;
    await db.backup(tmp, {
      progress: ({ totalPages, remainingPages }) => {
        progress(totalPages ? Math.round(((totalPages - remainingPages) / totalPages) * 100) : 100);
        // Pages per step: big enough to be fast, small enough to keep the source's writers unblocked.
        return 4096;
      },
    });
  } finally {
    db.close();
  }
  // The copy is a rollback-journal file of its own: no -wal to carry around.
  const copy = new Database(tmp);
  copy.pragma('journal_mode = DELETE');
  copy.close();
  renameSync(tmp, file);
  const sha256 = await sha256File(file);
  writeTaken(file, { method: 'backup API', source: opts.before ?? null });
  writeFileSync(marker, `${sha256}\n`);
  return { path: file, sha256, bytes: statSync(file).size, method: 'backup API' };
}

/** How a snapshot was taken, kept beside it (written before its marker). */
interface Taken {
  method: NonNullable<SnapshotInfo['method']>;
  /** The source's fingerprint from just before the copy (null: not given). */
  source: SourceFingerprint | null;
}

function takenFile(snapshot: string): string {
  return `${snapshot}.taken.json`;
}

function writeTaken(snapshot: string, taken: Taken): void {
  writeFileSync(takenFile(snapshot), JSON.stringify(taken));
}

function readTaken(snapshot: string): Taken | null {
  try {
    return JSON.parse(readFileSync(takenFile(snapshot), 'utf8')) as Taken;
  } catch {
    return null; // snapshots of earlier versions have none
  }
}

/**
 * The source's fingerprint from just before `snapshot` was copied, when it was kept: a snapshot
 * reused later (a retried activity, or one taken during preflight) stands for the source as it
 * was then, not as it is when reused.
 */
export function takenFrom(snapshot: string): SourceFingerprint | null {
  const f = readTaken(snapshot)?.source;
  return f && typeof f.changeCounter === 'number' && typeof f.size === 'number' ? f : null;
}

/** Removes a snapshot and what goes with it (a preflight that failed after taking one). */
export function removeSnapshot(dir: string, fileName = 'source.db'): void {
  const file = path.join(dir, fileName);
  // The marker first: a snapshot without it is never reused.
  for (const f of [`${file}.sha256`, takenFile(file), `${file}.partial`, file]) rmSync(f, { force: true });
}

/** What tells us a file changed: SQLite's header change counter, size and mtime, and the WAL's. */
export interface SourceFingerprint {
  changeCounter: number;
  size: number;
  mtimeMs: number;
  walSize: number;
  walMtimeMs: number;
}

export function fingerprint(file: string): SourceFingerprint {
  const st = statSync(file);
  const header = Buffer.alloc(100);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  const wal = `${file}-wal`;
  const walSt = existsSync(wal) ? statSync(wal) : null;
  return {
    changeCounter: header.readUInt32BE(24),
    size: st.size,
    mtimeMs: st.mtimeMs,
    walSize: walSt?.size ?? 0,
    walMtimeMs: walSt?.mtimeMs ?? 0,
  };
}

export function sameFingerprint(a: SourceFingerprint, b: SourceFingerprint): boolean {
  return a.changeCounter === b.changeCounter && a.size === b.size && a.mtimeMs === b.mtimeMs && a.walSize === b.walSize && a.walMtimeMs === b.walMtimeMs;
}
