// Content validation end to end: a real migration (workflow on the dev server) of a table with
// one column of every type we map, then `cutover verify` and the checksum activities on the
// untouched target (ok), and after tampering with every column type, deleting a row, adding a
// row, a float4 column (pgloader-like), a sequence reset, an FK left NOT VALID, a dropped index.
import { MockActivityEnvironment } from '@temporalio/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateSqliteToPostgres } from '../../workflows';
import { createChecksumActivities, type ChecksumResult } from '../../activities/checksum';
import { verify, type VerifyReport } from '../../src/validate/verify';
import { verifyCommand } from '../../src/cli/commands/verify';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { EVERY_TYPE_MAP as MAP, EVERY_TYPE_TABLE_SQL, EVERY_TYPE_TAMPER, NO_KEY_TABLE_SQL, fillEverything, fillNoKey } from '../fixtures/every-type';
import { startTestWorker, type TestWorker } from '../helpers/worker';

const dir = tempDir('verify');
const ROWS = 300;
const CHUNK = 100;

const SQL = `${EVERY_TYPE_TABLE_SQL}
CREATE INDEX everything_by_vc ON everything(vc);
CREATE TABLE child (id INTEGER PRIMARY KEY, everything_id INTEGER REFERENCES everything(id), note TEXT);
CREATE TABLE pairs (a TEXT NOT NULL, b INTEGER NOT NULL, v TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
${NO_KEY_TABLE_SQL}
`;

function fill(db: import('better-sqlite3').Database): void {
  fillEverything(db, ROWS);
  const c = db.prepare('INSERT INTO child VALUES (?, ?, ?)');
  for (let i = 1; i <= 50; i++) c.run(BigInt(i), BigInt(i * 3), `c${i}`);
  const p = db.prepare('INSERT INTO pairs VALUES (?, ?, ?)');
  for (let i = 0; i < 120; i++) p.run(`k${i % 7}`, BigInt(i), i % 5 ? `v${i}` : null);
  fillNoKey(db);
}

let db: TestDatabase;
let w: TestWorker;
let source: string;
let admin: pg.Client;
const runId = `verify-${Date.now()}`;

async function check(): Promise<VerifyReport> {
  return verify({ source, targetUrl: db.url, map: MAP, chunkSize: CHUNK });
}

async function expectOk(): Promise<void> {
  const r = await check();
  expect([...r.problems, ...r.tables.flatMap((t) => t.problems.map((p) => `${t.table}: ${p}`))]).toEqual([]);
}

function table(r: VerifyReport, name: string) {
  return r.tables.find((t) => t.table === name)!;
}

beforeAll(async () => {
  db = await createTestDatabase('verify');
  source = makeSqlite(dir, 'everything.db', SQL, fill);
  w = await startTestWorker('verify', { default: db.url });
  await w.client.workflow.execute(migrateSqliteToPostgres, {
    taskQueue: w.taskQueue,
    workflowId: runId,
    args: [{ source, target: 'default', map: MAP, chunkSize: CHUNK }],
  });
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
}, 240_000);

afterAll(async () => {
  await admin?.end().catch(() => undefined);
  await w?.stop();
  await db?.drop();
});

describe('cutover verify on an untouched migration', () => {
  it('finds everything equal, every type compared by the target type', async () => {
    const types = await admin.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'everything' ORDER BY ordinal_position`,
    );
    expect(types.rows.map((r) => r.data_type)).toEqual([
      'bigint', 'bigint', 'integer', 'smallint', 'double precision', 'numeric', 'numeric', 'text', 'character varying', 'bytea', 'boolean',
      'timestamp without time zone', 'timestamp with time zone', 'date', 'jsonb', 'uuid', 'timestamp with time zone',
    ]);
    const r = await check();
    expect(r.problems).toEqual([]);
    for (const t of r.tables) expect(t.problems, t.table).toEqual([]);
    expect(r.ok).toBe(true);
    expect(table(r, 'everything').checksum).toMatchObject({ mode: 'chunk', ranges: 3, mismatched: 0 });
    expect(table(r, 'nokey').checksum).toMatchObject({ mode: 'table', ranges: 1, mismatched: 0 });
    expect(table(r, 'nokey').notes.join()).toMatch(/whole table/);
  });

  it('checksum activities agree and store their results in cutover.checksums', async () => {
    const acts = createChecksumActivities(w.deps);
    const env = new MockActivityEnvironment();
    for (let chunkNo = 0; chunkNo < 3; chunkNo++) {
      const r = (await env.run(acts.checksumChunk, { runId, target: 'default', table: 'everything', chunkNo, source })) as ChecksumResult;
      expect(r).toMatchObject({ table: 'everything', chunkNo, rows: CHUNK, targetRows: CHUNK, ok: true });
      expect(r.sourceHash).toBe(r.targetHash);
    }
    const t = await env.run(acts.checksumTable, { runId, target: 'default', table: 'nokey', source });
    expect(t).toMatchObject({ chunkNo: -1, rows: 42, ok: true });
    const stored = await admin.query(`SELECT table_name, chunk_no, ok FROM cutover.checksums WHERE run_id = $1 ORDER BY 1, 2`, [runId]);
    // The workflow (checksum validation is the default) stored one result per chunk of every
    // table, the no-key table as a whole (-1); the activities above re-checked and kept them ok.
    const chunks = await admin.query(
      `SELECT table_name, CASE WHEN table_name = 'nokey' THEN -1 ELSE chunk_no END AS chunk_no, true AS ok
         FROM cutover.chunks WHERE run_id = $1 ORDER BY 1, 2`,
      [runId],
    );
    expect(chunks.rows.length).toBeGreaterThanOrEqual(4);
    expect(stored.rows).toEqual(chunks.rows);
  });

  it('exits 0 from the command, with a JSON report', async () => {
    let out = '';
    const code = await verifyCommand({ source, target: db.url, map: Object.entries(MAP).map(([k, v]) => `${k}=${v}`), chunkSize: CHUNK, json: true }, { out: (s) => (out += s) });
    expect(code).toBe(0);
    const json = JSON.parse(out) as VerifyReport;
    expect(json.ok).toBe(true);
    const password = new URL(db.url).password;
    if (password) expect(out).not.toContain(`:${password}@`); // the URL is redacted in the report
  });
});

// One change per mapped type, on row id=150 (chunk 1: ids 101..200).
const TAMPER = EVERY_TYPE_TAMPER;

describe('cutover verify catches a single changed value of every type', () => {
  it.each(TAMPER)('%s: %s', async (column, set) => {
    const before = await admin.query(`SELECT ${column}::text AS v FROM everything WHERE id = 150`);
    await admin.query(`UPDATE everything SET ${set} WHERE id = 150`);
    try {
      const r = await check();
      expect(r.ok).toBe(false);
      const t = table(r, 'everything');
      expect(t.ok).toBe(false);
      expect(t.problems).toHaveLength(1);
      expect(t.problems[0]).toMatch(new RegExp(`chunk 1 .*everything chunk 1, id=150: column ${column} differs`));
      expect(t.differences[0]).toMatchObject({ kind: 'changed', table: 'everything', chunkNo: 1, key: 'id=150', column, columns: [column] });
      expect(t.differences[0]!.source).not.toBe(t.differences[0]!.target);
      // Only that table fails.
      for (const other of r.tables.filter((x) => x.table !== 'everything')) expect(other.ok, other.table).toBe(true);
    } finally {
      await admin.query(`UPDATE everything SET ${column} = $1 WHERE id = 150`, [before.rows[0].v]);
    }
    await expectOk();
  });
});

describe('cutover verify catches missing and extra rows', () => {
  it('a deleted row: named as missing, with its key', async () => {
    await admin.query(`CREATE TEMP TABLE saved AS SELECT * FROM everything WHERE id = 42`);
    await admin.query(`DELETE FROM child WHERE everything_id = 42`);
    await admin.query(`DELETE FROM everything WHERE id = 42`);
    try {
      const r = await check();
      const t = table(r, 'everything');
      expect(t.ok).toBe(false);
      expect(t.problems.join('\n')).toMatch(/row count mismatch: source 300, target 299/);
      expect(t.problems.join('\n')).toMatch(/everything chunk 0, id=42: row missing in the target/);
      expect(t.differences[0]).toMatchObject({ kind: 'missing', key: 'id=42', chunkNo: 0 });
      expect(table(r, 'child').ok).toBe(false); // its row 14 (everything_id 42) is gone too
      expect(table(r, 'child').problems.join()).toMatch(/id=14: row missing/);
    } finally {
      await admin.query(`INSERT INTO everything SELECT * FROM saved`);
      await admin.query(`INSERT INTO child VALUES (14, 42, 'c14')`);
      await admin.query(`DROP TABLE saved`);
    }
    await expectOk();
  });

  it.each([
    [-5, 0],
    [250, 2],
    [100000, 2],
  ])('an extra row id=%i: named as extra in chunk %i', async (id, chunkNo) => {
    if (id === 250) await admin.query(`CREATE TEMP TABLE saved AS SELECT * FROM everything WHERE id = 250; DELETE FROM everything WHERE id = 250`);
    // For 250: delete it and insert a different row with the same key → changed, not extra.
    await admin.query(`INSERT INTO everything (id, i64, txt) VALUES ($1, 1, 'intruder')`, [id]);
    try {
      const r = await check();
      const t = table(r, 'everything');
      expect(t.ok).toBe(false);
      if (id === 250) {
        expect(t.differences[0]).toMatchObject({ kind: 'changed', key: 'id=250', chunkNo, column: 'i64' });
      } else {
        expect(t.problems.join('\n')).toMatch(new RegExp(`everything chunk ${chunkNo}, id=${id}: extra row in the target`));
        expect(t.differences[0]).toMatchObject({ kind: 'extra', key: `id=${id}`, chunkNo });
      }
    } finally {
      await admin.query(`DELETE FROM everything WHERE id = $1`, [id]);
      if (id === 250) await admin.query(`INSERT INTO everything SELECT * FROM saved; DROP TABLE saved`);
    }
    await expectOk();
  });

  it('a composite text key (WITHOUT ROWID): names (a, b)', async () => {
    await admin.query(`UPDATE pairs SET v = 'X' WHERE a = 'k3' AND b = 10`);
    try {
      const t = table(await check(), 'pairs');
      expect(t.differences[0]).toMatchObject({ kind: 'changed', key: `(a, b)=('k3', 10)`, column: 'v', source: 'NULL', target: '"X"' });
    } finally {
      await admin.query(`UPDATE pairs SET v = NULL WHERE a = 'k3' AND b = 10`);
    }
  });

  it('a table without a key in the target: compared by content, the changed row and column named', async () => {
    await admin.query(`UPDATE nokey SET qty = 99 WHERE name = 'n7'`);
    try {
      const t = table(await check(), 'nokey');
      expect(t.ok).toBe(false);
      expect(t.differences[0]).toMatchObject({ kind: 'changed', column: 'qty', chunkNo: -1 });
      expect(t.differences[0]!.key).toMatch(/^rowid=8 \(target row ctid/);
      expect(t.differences[0]!.source).toBe('"8.75"');
      expect(t.differences[0]!.target).toBe('"99"');
    } finally {
      await admin.query(`UPDATE nokey SET qty = 8.75 WHERE name = 'n7'`);
    }
    // A duplicate row removed: the multiset notices (a set would not).
    await admin.query(`DELETE FROM nokey WHERE ctid = (SELECT min(ctid) FROM nokey WHERE name = 'dup')`);
    try {
      const t = table(await check(), 'nokey');
      expect(t.ok).toBe(false);
      expect(t.differences[0]).toMatchObject({ kind: 'missing' });
      expect(t.differences[0]!.key).toMatch(/^rowid=4[12] /);
    } finally {
      await admin.query(`INSERT INTO nokey VALUES ('dup', 1.5)`);
    }
    await expectOk();
  });
});

describe('cutover verify checks sequences, constraints and indexes', () => {
  it('a sequence behind max(id) (without consuming a value)', async () => {
    const seq = (await admin.query(`SELECT pg_get_serial_sequence('everything', 'id') AS s`)).rows[0].s as string;
    const before = (await admin.query(`SELECT last_value, is_called FROM ${seq}`)).rows[0];
    await admin.query(`SELECT setval($1, 5)`, [seq]);
    try {
      const t = table(await check(), 'everything');
      expect(t.problems.join()).toMatch(/would hand out 6, but max\(id\) is 300/);
      // verify read it without calling nextval
      expect((await admin.query(`SELECT last_value FROM ${seq}`)).rows[0].last_value).toBe('5');
    } finally {
      await admin.query(`SELECT setval($1, $2, $3)`, [seq, before.last_value, before.is_called]);
    }
  });

  it('an FK left NOT VALID and a missing index', async () => {
    const fk = (await admin.query(`SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid = 'child'::regclass`)).rows[0].conname as string;
    const def = (await admin.query(`SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conname = $1`, [fk])).rows[0].d as string;
    await admin.query(`ALTER TABLE child DROP CONSTRAINT "${fk}"`);
    await admin.query(`ALTER TABLE child ADD CONSTRAINT "${fk}" ${def} NOT VALID`);
    const ix = (await admin.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'everything_by_vc'`)).rows[0].indexdef as string;
    await admin.query(`DROP INDEX everything_by_vc`);
    try {
      const r = await check();
      expect(table(r, 'child').problems).toEqual([`foreign key ${fk} is NOT VALID`]);
      expect(table(r, 'everything').problems).toEqual([`index everything_by_vc (vc) is missing`]);
    } finally {
      await admin.query(`ALTER TABLE child VALIDATE CONSTRAINT "${fk}"`);
      await admin.query(ix);
    }
    await expectOk();
  });
});

describe('a pgloader-like target', () => {
  it('a REAL column loaded as float4 is caught, naming row, column and both values; exit code 3', async () => {
    await admin.query(`CREATE TEMP TABLE saved_dbl AS SELECT id, dbl FROM everything`);
    // float4 cannot hold 1e-320 or 1.8e308 at all; the others it rounds (0.1 → 0.100000001490116…).
    await admin.query(`ALTER TABLE everything ALTER COLUMN dbl TYPE real USING (CASE WHEN abs(dbl) BETWEEN 1e-30 AND 1e30 THEN dbl END)::real`);
    try {
      const r = await check();
      const t = table(r, 'everything');
      expect(t.ok).toBe(false);
      expect(t.differences[0]).toMatchObject({ kind: 'changed', key: 'id=1', column: 'dbl', source: '"0.1"', target: '"0.10000000149011612"' });
      expect(t.problems[0]).toMatch(/everything chunk 0, id=1: column dbl differs \(source "0.1", target "0.10000000149011612"\)/);
      expect(t.notes.join()).not.toMatch(/dbl/); // compared as what it is: real, widened exactly
      let out = '';
      const code = await verifyCommand({ source, target: db.url, map: Object.entries(MAP).map(([k, v]) => `${k}=${v}`), chunkSize: CHUNK }, { out: (s) => (out += s) });
      expect(code).toBe(3);
      expect(out).toMatch(/everything .*MISMATCH/);
      expect(out).toMatch(/column dbl differs/);
    } finally {
      await admin.query(`ALTER TABLE everything ALTER COLUMN dbl TYPE double precision`);
      await admin.query(`UPDATE everything e SET dbl = s.dbl FROM saved_dbl s WHERE s.id = e.id`);
      await admin.query(`DROP TABLE saved_dbl`);
    }
    await expectOk();
  });

  it('a target loaded by another tool with other spellings of the same values is equal', async () => {
    // numeric(12,4) (1.5 → 1.5000), integer widened to bigint, varchar → text, jsonb → json (normalised text).
    await admin.query(`ALTER TABLE everything ALTER COLUMN num TYPE numeric(12,4), ALTER COLUMN i32 TYPE bigint, ALTER COLUMN vc TYPE text, ALTER COLUMN js TYPE json USING js::text::json`);
    try {
      expect(table(await check(), 'everything').problems).toEqual([]);
    } finally {
      await admin.query(`ALTER TABLE everything ALTER COLUMN num TYPE numeric, ALTER COLUMN i32 TYPE integer, ALTER COLUMN vc TYPE varchar(20), ALTER COLUMN js TYPE jsonb USING js::text::jsonb`);
    }
  });

  it('JSON rewritten into a text column is a different text: caught', async () => {
    await admin.query(`ALTER TABLE everything ALTER COLUMN js TYPE text USING js::text`);
    try {
      const t = table(await check(), 'everything');
      expect(t.differences[0]).toMatchObject({ kind: 'changed', key: 'id=1', column: 'js' });
    } finally {
      await admin.query(`ALTER TABLE everything ALTER COLUMN js TYPE jsonb USING js::jsonb`);
    }
  });
});
