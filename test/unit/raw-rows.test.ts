// Rows written into binary COPY from the record bytes (src/copy/raw-rows.ts) must be byte for byte
// what the generic path writes from decoded values, with the same rejects and the same value facts:
// the same SQLite file is encoded both ways (CUTOVER_RAW_ROWS=0 is the generic path), over every
// serial type a column of integers or doubles can hold, and the odd values that go the generic way.
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkEncoder, PayloadPool, type EncodedBatch } from '../../src/copy/encode-batch';
import { planFromFile } from '../../src/plan/plan-file';
import { openSource } from '../../src/sqlite/open';
import type { TablePlan, KeyTuple } from '../../src/types';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { seededRandom } from '../helpers/random';

const dir = tempDir('raw-rows');
/** The types whatever the values (their facts would make mixed columns text). */
const MAP = { 't.a': 'bigint', 't.b': 'bigint', 't.c': 'double precision', 't.d': 'double precision' };

afterEach(() => {
  delete process.env.CUTOVER_RAW_ROWS;
});

/** Integers of every width (serial types 1–6, 8, 9), doubles of every kind, NULLs; sometimes a value of another class. */
function value(rnd: () => number, real: boolean, odd: boolean): string {
  let r = rnd();
  // Without odd values, an integer column holds integers and NULLs only.
  if (!odd && !real) r *= 0.5;
  else if (!odd) r *= 0.9;
  if (r < 0.05) return 'NULL';
  if (r < 0.1) return String(Math.floor(rnd() * 2)); // 0 / 1: serial types 8 and 9
  if (r < 0.5) {
    const bits = [7, 15, 23, 31, 47, 62][Math.floor(rnd() * 6)]!;
    const v = BigInt(Math.floor(rnd() * 2 ** Math.min(bits, 52))) * (bits > 52 ? 1024n : 1n) * (rnd() < 0.5 ? -1n : 1n);
    return v.toString();
  }
  if (r < 0.9) {
    const kinds = [() => (rnd() - 0.5) * 1e6, () => rnd() * 1e-300, () => -0.0, () => 1e308 * rnd(), () => Math.round(rnd() * 1e4), () => (rnd() - 0.5) * 2 ** 60];
    const v = kinds[Math.floor(rnd() * kinds.length)]!();
    return Object.is(v, -0) ? '-0.0' : v.toExponential(17);
  }
  if (r < 0.94) return real ? "'12.5'" : "'42'"; // text that converts
  if (r < 0.97) return "'not a number'"; // text that is rejected
  return "x'0102'"; // a blob
}

function buildFile(name: string, rows: number, seed: number, odd: boolean): string {
  const rnd = seededRandom(seed);
  const values: string[] = [];
  for (let i = 1; i <= rows; i++) {
    const v = (real: boolean) => value(rnd, real, odd);
    const id = i * 3 - 1000;
    values.push(`(${id}, ${v(false)}, ${v(false)}, ${v(true)}, ${v(true)})`);
  }
  const sql = `CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b NUMERIC, c REAL, d DOUBLE);
    INSERT INTO t VALUES ${values.join(',\n')};`;
  return makeSqlite(dir, name, sql);
}

function encodeAll(file: string, table: TablePlan, raw: boolean, profile: boolean, digests = false): { batches: EncodedBatch[]; rawUsed: boolean } {
  if (raw) delete process.env.CUTOVER_RAW_ROWS;
  else process.env.CUTOVER_RAW_ROWS = '0';
  const db = openSource(file);
  const pool = new PayloadPool();
  const enc = new ChunkEncoder(db, table, pool, { profile, digests });
  const batches: EncodedBatch[] = [];
  try {
    let after: KeyTuple | null = null;
    for (;;) {
      const b = enc.next(after, null, 997);
      if (!b) break;
      batches.push({ ...b, payload: Buffer.from(b.payload) });
      after = b.lastKey;
    }
    return { batches, rawUsed: enc.writesRawRows };
  } finally {
    enc.close();
    db.close();
  }
}

function comparable(b: EncodedBatch) {
  return { ...b, payload: Buffer.from(b.payload).toString('hex'), profile: b.profile?.map((a) => ({ ...a })), digest: b.digest ? Buffer.from(b.digest).toString('hex') : b.digest };
}

describe('raw rows (record bytes straight into binary COPY)', () => {
  it.each([
    ['plain integers and doubles', false],
    ['with texts, blobs and values to reject among them', true],
  ])('write what the generic path writes: %s', (_label, odd) => {
    const file = buildFile(`t-${odd}.db`, 6000, odd ? 11 : 7, odd);
    const table = planFromFile(file, { map: MAP }).tables.find((t) => t.source === 't')!;
    expect(table.columns.map((c) => c.pgType)).toEqual(['bigint', 'bigint', 'bigint', 'double precision', 'double precision']);
    for (const [profile, digests] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const generic = encodeAll(file, table, false, profile, digests);
      const direct = encodeAll(file, table, true, profile, digests);
      if (digests) expect(generic.batches.every((b) => b.digest instanceof Uint8Array)).toBe(true);
      expect(generic.rawUsed).toBe(false);
      expect(direct.rawUsed).toBe(true);
      expect(direct.batches.length).toBe(generic.batches.length);
      expect(direct.batches.map(comparable)).toEqual(generic.batches.map(comparable));
      const rejected = generic.batches.reduce((s, b) => s + b.rejectedRows, 0);
      if (odd) expect(rejected).toBeGreaterThan(0);
      else expect(rejected).toBe(0);
    }
  });

  it('leaves records shorter than the table (a column added later) to the generic path', () => {
    const file = makeSqlite(
      dir,
      'altered.db',
      `CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);
       WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300) INSERT INTO t SELECT x, x * 7 FROM c;
       ALTER TABLE t ADD COLUMN b INTEGER DEFAULT 5;
       ALTER TABLE t ADD COLUMN c REAL DEFAULT 2.5;
       WITH RECURSIVE c(x) AS (SELECT 301 UNION ALL SELECT x + 1 FROM c WHERE x < 600) INSERT INTO t SELECT x, x, x * 3, x / 4.0 FROM c;`,
    );
    const table = planFromFile(file, { map: { 't.a': 'bigint', 't.b': 'bigint', 't.c': 'double precision' } }).tables.find((t) => t.source === 't')!;
    const generic = encodeAll(file, table, false, true);
    const direct = encodeAll(file, table, true, true);
    expect(direct.rawUsed).toBe(true);
    expect(direct.batches.map(comparable)).toEqual(generic.batches.map(comparable));
    expect(generic.batches[0]!.rows).toBe(600);
  });

  it('records the same multiset digests for a table without a key column', () => {
    const file = makeSqlite(
      dir,
      'keyless.db',
      `CREATE TABLE k (a INTEGER, c REAL);
       WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2500) INSERT INTO k SELECT x % 7 - 3, CASE WHEN x % 5 = 0 THEN NULL ELSE x / 3.0 END FROM n;`,
    );
    const table = planFromFile(file, { map: { 'k.a': 'bigint', 'k.c': 'double precision' } }).tables.find((t) => t.source === 'k')!;
    expect(table.key.display).toBeUndefined(); // compared as a multiset
    const generic = encodeAll(file, table, false, false, true);
    const direct = encodeAll(file, table, true, false, true);
    expect(direct.rawUsed).toBe(true);
    expect(generic.batches.every((b) => b.digest instanceof Uint8Array)).toBe(true);
    expect(direct.batches.map(comparable)).toEqual(generic.batches.map(comparable));
  });

  it('is not used for a table with a text column', () => {
    const file = makeSqlite(dir, 'text.db', `CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, s TEXT); INSERT INTO t VALUES (1, 2, 'x'), (2, 3, 'y');`);
    const table = planFromFile(file).tables.find((t) => t.source === 't')!;
    const db = openSource(file);
    try {
      const enc = new ChunkEncoder(db, table, new PayloadPool());
      expect(enc.next(null, null, 10)!.rows).toBe(2);
      expect(enc.writesRawRows).toBe(false);
      enc.close();
    } finally {
      db.close();
    }
  });
});
