// The checksum stage's source side recorded by the copy (src/validate/chunk-digests.ts), against a
// real PostgreSQL: the copy commits each batch's record with its checkpoint; the checksum then
// reads only the target, cut at the same batches, and decides "equal" without the source. Any
// difference still goes to the ordered comparison, which names it. A chunk whose records are
// incomplete or were computed for other columns is compared from the snapshot, as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { copyChunk, type CopyHooks } from '../../src/copy/copy-chunk';
import { ChunkEncoder, PayloadPool } from '../../src/copy/encode-batch';
import { createTableSql } from '../../src/postgres/ddl';
import * as state from '../../src/postgres/state';
import { planFromFile } from '../../src/plan/plan-file';
import { openSource, type SqliteDb } from '../../src/sqlite/open';
import { targetColumns } from '../../src/validate/catalog';
import {
  compareChunk,
  compareLayout,
  compareRecordedChunk,
  compareRecordedTable,
  recordedSourceFits,
  type CompareLayout,
  type RecordedSource,
} from '../../src/validate/compare';
import { combineSegments } from '../../src/validate/fast';
import type { ChunkPlan, KeyTuple, TablePlan } from '../../src/types';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { EVERY_TYPE_MAP, EVERY_TYPE_TABLE_SQL, EVERY_TYPE_TAMPER, NO_KEY_TABLE_SQL, fillEverything, fillNoKey } from '../fixtures/every-type';

const dir = tempDir('chunk-digests');
const ROWS = 120;
// Row 33's smallint is out of range: the copy rejects it (cutover.rejects), so the records skip it.
const file = makeSqlite(dir, 'every.db', `${EVERY_TYPE_TABLE_SQL}\n${NO_KEY_TABLE_SQL}`, (db) => {
  fillEverything(db, ROWS);
  db.prepare('UPDATE everything SET i16 = 40000 WHERE id = 33').run();
  fillNoKey(db);
});
const plan = planFromFile(file, { map: EVERY_TYPE_MAP });
const table: TablePlan = plan.tables.find((t) => t.source === 'everything')!;
const key = (v: number): KeyTuple => [{ t: 'i', v: String(v) }];
const CHUNKS: ChunkPlan[] = [
  { table: 'everything', chunkNo: 0, lo: null, hi: key(60), estimatedRows: 60 },
  { table: 'everything', chunkNo: 1, lo: key(60), hi: null, estimatedRows: 60 },
];

let tdb: TestDatabase;
let pool: pg.Pool;
let db: SqliteDb;

beforeAll(async () => {
  tdb = await createTestDatabase('chunk_digests');
  pool = new pg.Pool({ connectionString: tdb.url, max: 4 });
  const c = await pool.connect();
  try {
    await state.ensureStateSchema(c);
  } finally {
    c.release();
  }
  db = openSource(file);
});

afterAll(async () => {
  db?.close();
  await pool?.end();
  await tdb?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const hooks = (stopAfter = Infinity): CopyHooks => {
  let beats = 0;
  return { heartbeat: () => void beats++, throwIfCancelled: () => undefined, shouldStop: () => beats >= stopAfter };
};

/** A fresh target table `name` holding the copy of `everything` (chunk by chunk, batches of 7 rows). */
async function copied(runId: string, name: string, opts: { stopAfter?: number; twice?: boolean; setup?: string } = {}): Promise<TablePlan> {
  const t = { ...table, target: name };
  await pool.query(`DROP TABLE IF EXISTS "${name}"; ${createTableSql('public', t)}`);
  if (opts.setup) await pool.query(opts.setup);
  for (const chunk of CHUNKS) {
    const args = { pool, db, runId, schema: 'public', table: t, chunk, batchSize: 7, sourceDigests: true };
    if (opts.stopAfter !== undefined) await copyChunk({ ...args, hooks: hooks(opts.stopAfter) });
    if (opts.twice) await Promise.all([copyChunk({ ...args, hooks: hooks() }), copyChunk({ ...args, hooks: hooks() })]);
    else await copyChunk({ ...args, hooks: hooks() });
  }
  return t;
}

async function layoutOf(t: TablePlan, client: pg.ClientBase): Promise<CompareLayout> {
  return compareLayout(t, 'public', (await targetColumns(client, 'public', t.target))!);
}

async function recordedOf(runId: string, chunkNo: number, client: pg.ClientBase): Promise<RecordedSource | null> {
  const r = await state.getChunkDigests(client, runId, 'everything', chunkNo);
  return r?.done && r.digests ? { digests: r.digests, specId: r.specId, rejectedRows: r.rowsRejected } : null;
}

/** A database handle that throws on any use: proves the comparison did not read the source. */
function closedSource(): SqliteDb {
  const h = openSource(file);
  h.close();
  return h;
}

async function withClient<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    return await fn(c);
  } finally {
    c.release();
  }
}

/** The digest records of a whole table's batches (7 rows each), rows hashed from their COPY bytes or not. */
function digestRecords(source: SqliteDb, t: TablePlan, copyBytes: boolean): { out: string[]; way: string | null } {
  const before = process.env.CUTOVER_DIGEST_COPY_BYTES;
  if (copyBytes) delete process.env.CUTOVER_DIGEST_COPY_BYTES;
  else process.env.CUTOVER_DIGEST_COPY_BYTES = '0';
  try {
    const enc = new ChunkEncoder(source, t, new PayloadPool(), { digests: true });
    const out: string[] = [];
    let after: KeyTuple | null = null;
    for (let b = enc.next(after, null, 7); b; b = enc.next(after, null, 7)) {
      out.push(b.digest ? Buffer.from(b.digest).toString('hex') : 'none');
      after = b.lastKey;
    }
    enc.close();
    return { out, way: enc.digestsWay };
  } finally {
    if (before === undefined) delete process.env.CUTOVER_DIGEST_COPY_BYTES;
    else process.env.CUTOVER_DIGEST_COPY_BYTES = before;
  }
}

describe('source digests recorded by the copy', () => {
  it('every committed batch leaves a record; the checksum reads only the target and finds it equal', () =>
    withClient(async (client) => {
      const t = await copied('run-a', 'a');
      const layout = await layoutOf(t, client);
      let rows = 0;
      for (const chunk of CHUNKS) {
        const ck = (await state.getChunkDigests(client, 'run-a', 'everything', chunk.chunkNo))!;
        expect(ck.done).toBe(true);
        expect(ck.digests!.length).toBe(36 * Math.ceil(60 / 7));
        const recorded = (await recordedOf('run-a', chunk.chunkNo, client))!;
        expect(recordedSourceFits(layout, recorded)).toBe(true);
        const r = await compareRecordedChunk({ db: closedSource(), client, layout, chunk, recorded });
        expect(r).toMatchObject({ ok: true, sourceSide: 'recorded by the copy', rows: ck.rowsCopied, targetRows: ck.rowsCopied, sourceHash: combineSegments(ck.digests!) });
        rows += r.rows;
        // The snapshot read again agrees with what was recorded.
        const again = await compareChunk({ db, client, layout, chunk, rejectedKeys: new Set(chunk.chunkNo === 0 ? ['id=33'] : []) });
        expect(again).toMatchObject({ ok: true, rows: r.rows });
      }
      expect(rows).toBe(ROWS - 1);
      expect((await recordedOf('run-a', 0, client))!.rejectedRows).toBe(1);
    }));

  it.each(EVERY_TYPE_TAMPER.map(([column, set], i) => [column, set, i] as const))('a changed value (%s: %s) is not equal; the ordered comparison names it', (column, set, i) =>
    withClient(async (client) => {
      const t = await copied(`run-b${i}`, `b${i}`);
      const layout = await layoutOf(t, client);
      await client.query(`UPDATE b${i} SET ${set} WHERE id = 40`);
      const recorded = (await recordedOf(`run-b${i}`, 0, client))!;
      const r = await compareRecordedChunk({ db, client, layout, chunk: CHUNKS[0]!, recorded, rejectedKeys: new Set(['id=33']) });
      expect(r.ok).toBe(false);
      expect(r.sourceSide).not.toBe('recorded by the copy');
      expect(r.firstDifference).toMatchObject({ kind: 'changed', key: 'id=40', column });
    }));

  it('a missing row and an extra row are caught', () =>
    withClient(async (client) => {
      const t = await copied('run-c', 'c');
      const layout = await layoutOf(t, client);
      await client.query(`DELETE FROM c WHERE id = 70`);
      const missing = await compareRecordedChunk({ db, client, layout, chunk: CHUNKS[1]!, recorded: (await recordedOf('run-c', 1, client))! });
      expect(missing).toMatchObject({ ok: false, differences: { missing: 1 }, firstDifference: { kind: 'missing', key: 'id=70' } });
      // Same row count again, one row twice.
      await client.query(`INSERT INTO c SELECT * FROM c WHERE id = 71`);
      const extra = await compareRecordedChunk({ db, client, layout, chunk: CHUNKS[1]!, recorded: (await recordedOf('run-c', 1, client))! });
      expect(extra).toMatchObject({ ok: false, rows: 60, targetRows: 60 });
    }));

  it('a chunk stopped after 2 batches and resumed, and two attempts at once: the records are those of the committed batches', () =>
    withClient(async (client) => {
      for (const [runId, name, opts] of [['run-d', 'd', { stopAfter: 2 }], ['run-e', 'e', { twice: true }]] as const) {
        const t = await copied(runId, name, opts);
        const layout = await layoutOf(t, client);
        for (const chunk of CHUNKS) {
          const ck = (await state.getChunkDigests(client, runId, 'everything', chunk.chunkNo))!;
          expect(ck.digests!.length, `${runId} chunk ${chunk.chunkNo}`).toBe(36 * Math.ceil(60 / 7));
          const r = await compareRecordedChunk({ db: closedSource(), client, layout, chunk, recorded: (await recordedOf(runId, chunk.chunkNo, client))! });
          expect(r).toMatchObject({ ok: true, sourceSide: 'recorded by the copy' });
        }
      }
    }));

  it('a batch PostgreSQL refused row by row leaves its chunk without records: compared from the snapshot', () =>
    withClient(async (client) => {
      // A CHECK our converters know nothing about: row 20's batch is re-sent line by line.
      const t = await copied('run-f', 'f', { setup: `ALTER TABLE f ADD CHECK (i32 <> 20000)` });
      expect((await state.getChunkDigests(client, 'run-f', 'everything', 0))!.digests).toBeNull();
      expect(await recordedOf('run-f', 0, client)).toBeNull();
      const layout = await layoutOf(t, client);
      const r = await compareChunk({ db, client, layout, chunk: CHUNKS[0]!, rejectedKeys: new Set(['id=20', 'id=33']) });
      expect(r).toMatchObject({ ok: true, rows: 58 });
      // The other chunk kept its records.
      expect(recordedSourceFits(layout, (await recordedOf('run-f', 1, client))!)).toBe(true);
    }));

  it('records computed for other columns than the checksum compares are not used', () =>
    withClient(async (client) => {
      const t = await copied('run-g', 'g');
      await client.query(`ALTER TABLE g DROP COLUMN txt`);
      const layout = await layoutOf(t, client);
      expect(layout.missingColumns).toEqual(['txt']);
      expect(recordedSourceFits(layout, (await recordedOf('run-g', 0, client))!)).toBe(false);
    }));

  it('a table of bigint, double, boolean and text columns: rows are hashed as their COPY bytes, with the records their values give', () =>
    withClient(async (client) => {
      const plainFile = makeSqlite(
        dir,
        'plain.db',
        `CREATE TABLE plain (id INTEGER PRIMARY KEY, name TEXT, code VARCHAR(12), price REAL, ok BOOLEAN, note TEXT NOT NULL);`,
        (d) => {
          const ins = d.prepare('INSERT INTO plain VALUES (?, ?, ?, ?, ?, ?)');
          const names = ['é', '😀 emoji', '', null, 'tab\tand\nnewline', 'x'.repeat(300), '中文'];
          const prices = [-0, 1e308, 5e-324, 0.1, null, -2.5, 9007199254740993];
          for (let i = 1; i <= 50; i++) ins.run(i, names[i % 7], i % 5 ? `c${i}` : null, prices[i % 7], i % 3 === 0 ? null : i % 2, `n${i}`);
        },
      );
      const plainDb = openSource(plainFile);
      try {
        const t = { ...planFromFile(plainFile).tables.find((x) => x.source === 'plain')!, target: 'plain_t' };
        expect(t.columns.map((c) => c.pgType)).toEqual(['bigint', 'text', expect.stringMatching(/^(text|varchar\(12\))$/), 'double precision', 'boolean', 'text']);
        // Both ways, batch by batch: the same records.
        const written = digestRecords(plainDb, t, true);
        const canonical = digestRecords(plainDb, t, false);
        expect(written.way).toBe('copy');
        expect(canonical.way).toBe('canonical');
        expect(written.out).toHaveLength(Math.ceil(50 / 7));
        expect(written.out).toEqual(canonical.out);

        // Against PostgreSQL: the checksum finds the copy equal from the records alone, and a changed text unequal.
        await client.query(`DROP TABLE IF EXISTS plain_t; ${createTableSql('public', t)}`);
        const chunk: ChunkPlan = { table: 'plain', chunkNo: 0, lo: null, hi: null, estimatedRows: 50 };
        await copyChunk({ pool, db: plainDb, runId: 'run-plain', schema: 'public', table: t, chunk, batchSize: 7, hooks: hooks(), sourceDigests: true });
        const r0 = (await state.getChunkDigests(client, 'run-plain', 'plain', 0))!;
        const recorded: RecordedSource = { digests: r0.digests!, specId: r0.specId, rejectedRows: r0.rowsRejected };
        const layout = await layoutOf(t, client);
        const h = openSource(plainFile);
        h.close();
        expect(await compareRecordedChunk({ db: h, client, layout, chunk, recorded })).toMatchObject({ ok: true, rows: 50, sourceSide: 'recorded by the copy' });
        await client.query(`UPDATE plain_t SET name = 'é ' WHERE id = 8`);
        const changed = await compareRecordedChunk({ db: plainDb, client, layout, chunk, recorded });
        expect(changed).toMatchObject({ ok: false, firstDifference: { kind: 'changed', key: 'id=8', column: 'name' } });
      } finally {
        plainDb.close();
      }
    }));

  it('a table of every type: the bigint, double, boolean and text fields are taken from the COPY bytes, the others converted; the same records', () => {
    const written = digestRecords(db, table, true);
    const canonical = digestRecords(db, table, false);
    expect(written.way).toBe('fields');
    expect(canonical.way).toBe('canonical');
    expect(written.out).toHaveLength(Math.ceil(ROWS / 7));
    // Row 33 is rejected (its batch still has a record), none is inconclusive.
    expect(written.out.filter((r) => r === 'none')).toEqual([]);
    expect(written.out).toEqual(canonical.out);
  });

  it('a key-less table: its chunks record multiset sums; the whole-table comparison reads only the target', () =>
    withClient(async (client) => {
      const nokey = { ...plan.tables.find((t) => t.source === 'nokey')!, target: 'nk' };
      expect(nokey.key).toMatchObject({ kind: 'rowid' });
      expect(nokey.key.display ?? null).toBeNull();
      await client.query(`DROP TABLE IF EXISTS nk; ${createTableSql('public', nokey)}`);
      const chunks: ChunkPlan[] = [
        { table: 'nokey', chunkNo: 0, lo: null, hi: key(20), estimatedRows: 20 },
        { table: 'nokey', chunkNo: 1, lo: key(20), hi: null, estimatedRows: 22 },
      ];
      const recordedTable = () => state.getTableDigests(client, 'run-nk', 'nokey');
      await state.insertChunks(client, 'run-nk', chunks);
      await copyChunk({ pool, db, runId: 'run-nk', schema: 'public', table: nokey, chunk: chunks[0]!, batchSize: 6, hooks: hooks(), sourceDigests: true });
      // One chunk not copied yet: no usable records for the table.
      expect(await recordedTable()).toBeNull();
      await copyChunk({ pool, db, runId: 'run-nk', schema: 'public', table: nokey, chunk: chunks[1]!, batchSize: 6, hooks: hooks(), sourceDigests: true });
      const recorded = (await recordedTable())!;
      const layout = await layoutOf(nokey, client);
      expect(layout.keyIdx).toBeNull();
      expect(recordedSourceFits(layout, recorded)).toBe(true);
      const r = await compareRecordedTable({ db: closedSource(), client, layout, recorded });
      expect(r).toMatchObject({ ok: true, mode: 'table', rows: 42, targetRows: 42, sourceSide: 'recorded by the copy' });
      // One of the two identical rows gone: caught, and named by reading both sides.
      await client.query(`DELETE FROM nk WHERE ctid = (SELECT min(ctid) FROM nk WHERE name = 'dup')`);
      const diff = await compareRecordedTable({ db, client, layout, recorded });
      expect(diff).toMatchObject({ ok: false, rows: 42, targetRows: 41, differences: { missing: 1 } });
      expect(diff.sourceSide).not.toBe('recorded by the copy');
    }));

  it('a state schema made by an earlier version gets the digest columns (twice and at once: idempotent)', () =>
    withClient(async (client) => {
      await client.query(`ALTER TABLE cutover.chunks DROP COLUMN source_digests, DROP COLUMN digest_spec`);
      const columns = async () =>
        (await client.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'cutover' AND table_name = 'chunks' AND column_name LIKE '%digest%' ORDER BY 1`)).rows.map((r) => r.column_name);
      expect(await columns()).toEqual([]);
      await Promise.all([state.upgradeStateSchema(client), withClient((c2) => state.upgradeStateSchema(c2))]);
      expect(await columns()).toEqual(['digest_spec', 'source_digests']);
      await state.upgradeStateSchema(client);
      expect(await columns()).toEqual(['digest_spec', 'source_digests']);
    }));

  it('without sourceDigests (count validation) nothing is recorded', () =>
    withClient(async (client) => {
      const t = { ...table, target: 'h' };
      await client.query(`DROP TABLE IF EXISTS h; ${createTableSql('public', t)}`);
      await copyChunk({ pool, db, runId: 'run-h', schema: 'public', table: t, chunk: CHUNKS[0]!, batchSize: 7, hooks: hooks() });
      const ck = (await state.getChunkDigests(client, 'run-h', 'everything', 0))!;
      expect(ck).toMatchObject({ done: true, digests: null, specId: null });
    }));
});
