// Issue 6: preflight copies the run's snapshot while SQLite's quick_check reads the source (one
// core each); the snapshot step reuses it. What must hold: the snapshot stands for the source as it
// was when it was copied — a write after it is seen by the cutover gate even though the snapshot
// step ran later —, a failed preflight leaves no snapshot, and what the file copy cannot do (a WAL
// source) is left to the snapshot step.
//
// The real activities (through the SDK's activity test environment), real SQLite files, a real
// PostgreSQL.
import { MockActivityEnvironment } from '@temporalio/testing';
import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { defaultDeps, type ActivityDeps } from '../../activities/deps';
import { snapshotDir, type SnapshotResult } from '../../activities/snapshot';
import { fingerprint, sameFingerprint, sha256File } from '../../src/sqlite/snapshot';
import { resolveInput } from '../../workflows/input';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { makeSqlite, tempDir } from '../helpers/sqlite';

const dir = tempDir('early-snapshot');
let db: TestDatabase;
let deps: ActivityDeps;
let acts: ReturnType<typeof createActivities>;
const env = new MockActivityEnvironment();

const SCHEMA = 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL); CREATE INDEX items_name ON items (name);';
const fill = (d: Database.Database) => {
  const ins = d.prepare('INSERT INTO items (name) VALUES (?)');
  d.transaction(() => {
    for (let i = 0; i < 20_000; i++) ins.run(`item ${i} ${'x'.repeat(60)}`);
  })();
};

beforeAll(async () => {
  db = await createTestDatabase('early_snapshot');
  deps = defaultDeps({ default: db.url }, path.join(dir, 'work'));
  acts = createActivities(deps);
});

afterAll(async () => {
  await deps?.pools.closeAll();
  await db?.drop();
});

let n = 0;
function runFor(source: string, schema: string) {
  const runId = `early-${Date.now()}-${n++}`;
  return { runId, temporalRunId: `t-${runId}`, input: resolveInput({ source, target: 'default', targetSchema: schema }) };
}

describe('the snapshot taken during preflight', () => {
  it('is reused by the snapshot step, which reports the source as it was when it was copied: a write after it is seen at the gate', async () => {
    const source = makeSqlite(dir, 'reused.db', SCHEMA, fill);
    const before = fingerprint(source);
    const shaBefore = await sha256File(source);
    const args = runFor(source, 'early_reused');
    await env.run(acts.preflight, args);
    const snapDir = snapshotDir(deps, args.runId);
    // Preflight left a finished snapshot: the source's bytes, its SHA-256 marker.
    expect(readFileSync(path.join(snapDir, 'source.db.sha256'), 'utf8').trim()).toBe(shaBefore);
    expect(await sha256File(path.join(snapDir, 'source.db'))).toBe(shaBefore);

    // The application writes between preflight and the snapshot step.
    const w = new Database(source);
    w.prepare(`INSERT INTO items (name) VALUES ('written after preflight')`).run();
    w.close();
    expect(sameFingerprint(fingerprint(source), before)).toBe(false);

    const snap = (await env.run(acts.snapshot, { runId: args.runId, source, enabled: true })) as SnapshotResult;
    expect(snap.readPath).toBe(path.join(snapDir, 'source.db'));
    expect(snap.snapshot?.sha256).toBe(shaBefore); // reused, not copied again
    expect(snap.snapshot?.method).toBe('file copy');
    // The fingerprint is the one from before the copy, not from when the step ran: the gate
    // compares the source with it and sees the write (else it would cut over without that row).
    expect(snap.sourceFingerprint).toEqual(before);
    const gate = (await env.run(acts.sourceUnchanged, { source, fingerprint: snap.sourceFingerprint })) as { unchanged: boolean };
    expect(gate.unchanged).toBe(false);
  });

  it('is removed when preflight fails after starting it (here: quick_check finds the source corrupt)', async () => {
    const source = makeSqlite(dir, 'corrupt.db', SCHEMA, fill);
    // One page more than any B-tree or the freelist accounts for: reading the schema and every row
    // works (so preflight gets as far as the copy), quick_check reports the page never used.
    const fd = openSync(source, 'r+');
    const header = Buffer.alloc(100);
    readSync(fd, header, 0, 100, 0);
    const pageSize = header.readUInt16BE(16);
    const pages = header.readUInt32BE(28);
    writeSync(fd, Buffer.alloc(pageSize), 0, pageSize, pages * pageSize);
    header.writeUInt32BE(pages + 1, 28);
    header.copy(header, 92, 24, 28); // "version-valid-for" = change counter: SQLite trusts the page count
    writeSync(fd, header, 0, 100, 0);
    closeSync(fd);
    expect(statSync(source).size).toBe((pages + 1) * pageSize);
    const args = runFor(source, 'early_corrupt');
    await expect(env.run(acts.preflight, args)).rejects.toMatchObject({ type: 'SourceCorrupt' });
    const snapDir = snapshotDir(deps, args.runId);
    // The copy was started (the directory exists) and removed with everything in it.
    expect(existsSync(snapDir)).toBe(true);
    expect(readdirSync(snapDir)).toEqual([]);
  });

  it('is not started when the target refuses the run (here: the target schema already has the table)', async () => {
    const source = makeSqlite(dir, 'refused.db', SCHEMA, fill);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      await admin.query('CREATE SCHEMA IF NOT EXISTS early_refused; CREATE TABLE IF NOT EXISTS early_refused.items (id int)');
    } finally {
      await admin.end();
    }
    const args = runFor(source, 'early_refused');
    await expect(env.run(acts.preflight, args)).rejects.toThrow(/already has 1 of the source's tables: items/);
    expect(existsSync(snapshotDir(deps, args.runId))).toBe(false);
  });

  it('is left to the snapshot step for a WAL-mode source (the backup API), with no file behind', async () => {
    const source = makeSqlite(dir, 'wal.db', SCHEMA, (d) => {
      d.pragma('journal_mode = WAL');
      fill(d);
    });
    const args = runFor(source, 'early_wal');
    await env.run(acts.preflight, args);
    const snapDir = snapshotDir(deps, args.runId);
    expect(existsSync(snapDir) ? readdirSync(snapDir) : []).toEqual([]);
    const snap = (await env.run(acts.snapshot, { runId: args.runId, source, enabled: true })) as SnapshotResult;
    expect(snap.snapshot?.method).toBe('backup API');
    expect(snap.sourceFingerprint).toEqual(fingerprint(source));
  });

  it('is not taken with snapshot off', async () => {
    const source = makeSqlite(dir, 'live.db', SCHEMA, fill);
    const args = runFor(source, 'early_live');
    args.input = resolveInput({ source, target: 'default', targetSchema: 'early_live', snapshot: false });
    await env.run(acts.preflight, args);
    expect(existsSync(snapshotDir(deps, args.runId))).toBe(false);
  });
});
