// The copy's value facts (ChunkEncoder option `profile`, stored per chunk as profile-parts) must
// add up to exactly what one scan of the table reports (profileTable): a speculative plan is
// confirmed from them. Also the pure parts of plan/speculation.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { ChunkEncoder } from '../../src/copy/encode-batch';
import { buildPlan, type PlanOptions } from '../../src/plan/build-plan';
import { notSpeculable, planDifference, schemaFromJson, schemaToJson, speculateMinRows, SPECULATE_MIN_ROWS } from '../../src/plan/speculation';
import { introspect } from '../../src/sqlite/introspect';
import { openSource } from '../../src/sqlite/open';
import { profileSample, profileTable } from '../../src/sqlite/profile';
import { addToPart, profileFromParts, type ProfilePart } from '../../src/sqlite/profile-parts';
import type { ColumnProfile } from '../../src/sqlite/types';
import type { KeyTuple, MigrationPlan, TablePlan } from '../../src/types';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { digestColumns, digestSpecId } from '../../src/validate/chunk-digests';

const dir = tempDir('profile-parts');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = 6000;

// Every storage class and shape the profile distinguishes, spread over the key range.
const file = makeSqlite(
  dir,
  'mixed.db',
  `CREATE TABLE mixed (id INTEGER PRIMARY KEY, n INTEGER, r REAL, t TEXT, j JSON, d DATETIME, b BLOB, code VARCHAR(6), amount NUMERIC(8,2), flag BOOLEAN);
   CREATE TABLE keyed (a TEXT NOT NULL, k INTEGER NOT NULL, v, PRIMARY KEY (a, k)) WITHOUT ROWID;`,
  (db) => {
    const ins = db.prepare('INSERT INTO mixed VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (let i = 1; i <= ROWS; i++) {
      const m = i % 13;
      ins.run(
        BigInt(i * 3),
        m === 0 ? null : m === 1 ? 'seven' : m === 2 ? 2.5 : BigInt(i) * (i % 2 ? 1n : -9_000_000_000n),
        m === 3 ? null : m === 4 ? BigInt(i) : m === 5 ? 5e-324 : i / 7,
        m === 6 ? `${'é'.repeat(i % 50)}🚀` : m === 7 ? '12.500' : m === 8 ? 'true' : m === 9 ? '550e8400-e29b-41d4-a716-446655440000' : `t${i}`,
        m === 10 ? '[1,2' : m === 11 ? 42n : `{"i":${i}}`,
        m === 12 ? '2024-02-30 10:00:00Z' : m === 1 ? BigInt(20240101120000) : `2024-01-${String((i % 28) + 1).padStart(2, '0')} 12:00:00.123456`,
        m === 2 ? Buffer.alloc(16, i % 256) : m === 3 ? Buffer.alloc(300, 1) : null,
        i === 4321 ? 'far too long for six' : `c${i % 1000}`,
        m === 4 ? '123456.789' : (i % 1000) / 8,
        m === 5 ? 'yes' : BigInt(i % 2),
      );
    }
    const k = db.prepare('INSERT INTO keyed VALUES (?, ?, ?)');
    for (let i = 0; i < 2500; i++) k.run(`k${i % 9}`, BigInt(i), i % 4 === 0 ? null : i % 4 === 1 ? `v${i}` : i % 4 === 2 ? BigInt(-i) : i / 3);
  },
);

const OPTIONS: PlanOptions = { targetSchema: 'public', map: {}, infer: false, identifiers: 'keep', orphans: 'fail', orphanFindings: [] };

function planWith(profiles: Record<string, Record<string, ColumnProfile>>): MigrationPlan {
  const db = openSource(file);
  try {
    return buildPlan(file, introspect(db), profiles, OPTIONS);
  } finally {
    db.close();
  }
}

function fullProfiles(): Record<string, Record<string, ColumnProfile>> {
  const db = openSource(file);
  try {
    const schema = introspect(db);
    return Object.fromEntries(schema.tables.map((t) => [t.name, profileTable(db, t.name, t.columns)]));
  } finally {
    db.close();
  }
}

/**
 * The table read by the copy's encoder in batches of `batch` rows, one stored part per `perChunk`
 * batches (through JSON, as cutover.chunks keeps them), and the count of rows it rejected.
 */
function copyParts(table: TablePlan, batch: number, perChunk: number): { parts: ProfilePart[]; rejected: number; rows: number } {
  const db = openSource(file);
  try {
    const enc = new ChunkEncoder(db, table, undefined, { profile: true });
    const parts: ProfilePart[] = [];
    let part: ProfilePart | null = null;
    let after: KeyTuple | null = null;
    let n = 0;
    let rejected = 0;
    let rows = 0;
    for (;;) {
      const b = enc.next(after, null, batch);
      if (b === null) break;
      expect(b.profile, 'a batch of a profiled copy carries its facts').toBeDefined();
      part = JSON.parse(JSON.stringify(addToPart(part, b.rows, b.profile!))) as ProfilePart;
      rejected += b.rejectedRows;
      rows += b.rows;
      after = b.lastKey;
      if (++n % perChunk === 0) {
        parts.push(part);
        part = null;
      }
    }
    if (part) parts.push(part);
    return { parts, rejected, rows };
  } finally {
    db.close();
  }
}

describe('value facts gathered by the copy', () => {
  const full = fullProfiles();

  for (const table of ['mixed', 'keyed']) {
    it(`add up to one scan's profile of ${table}, whatever the batch and chunk sizes`, () => {
      const t = planWith(full).tables.find((x) => x.source === table)!;
      for (const [batch, perChunk] of [
        [97, 3],
        [1000, 1],
        [100_000, 1],
      ] as const) {
        const { parts } = copyParts(t, batch, perChunk);
        expect(profileFromParts(t.columns.map((c) => c.source), parts), `batches of ${batch}, ${perChunk} per chunk`).toEqual(full[table]);
      }
    });
  }

  it('count the rows the plan’s converters reject as well (the facts are of the source, not of what was accepted)', () => {
    // A plan that believes n holds only integers, code fits varchar(6) and r only reals: the
    // texts, reals and the long code are rejected by the copy, and still profiled.
    const wrong = structuredClone(full);
    const n = wrong.mixed!.n!;
    wrong.mixed!.n = { ...n, texts: 0, reals: 0, integers: n.integers + n.texts + n.reals };
    wrong.mixed!.code = { ...wrong.mixed!.code!, maxTextLength: 6 };
    const t = planWith(wrong).tables.find((x) => x.source === 'mixed')!;
    expect(t.columns.find((c) => c.source === 'n')!.pgType).toBe('bigint');
    expect(t.columns.find((c) => c.source === 'code')!.pgType).toBe('varchar(6)');
    const { parts, rejected, rows } = copyParts(t, 250, 4);
    expect(rows).toBe(ROWS);
    expect(rejected).toBeGreaterThan(800);
    expect(profileFromParts(t.columns.map((c) => c.source), parts)).toEqual(full.mixed);
    // ... and the plan built from them is the exact one, not the wrong one.
    const rebuilt = planWith({ ...wrong, mixed: profileFromParts(t.columns.map((c) => c.source), parts) });
    const exact = planWith(full);
    expect(planDifference(exact.tables[0]!, rebuilt.tables[0]!)).toBeNull();
    expect(planDifference(t, rebuilt.tables.find((x) => x.source === 'mixed')!)).toMatch(/n: bigint → text.*code: varchar\(6\) → text/);
  });

  it('a sample sees a part of the rows, with the rowid alias from the whole span', () => {
    const db = openSource(file);
    try {
      const cols = introspect(db).tables.find((t) => t.name === 'mixed')!.columns;
      const s = profileSample(db, 'mixed', cols)!;
      expect(s.id!.rows).toBeGreaterThan(1000);
      expect(s.id!.rows).toBeLessThanOrEqual(ROWS);
      expect([s.id!.minInteger, s.id!.maxInteger]).toEqual(['3', String(ROWS * 3)]);
      expect(s.n!.rows).toBe(s.id!.rows);
      expect(profileSample(db, 'keyed', introspect(db).tables.find((t) => t.name === 'keyed')!.columns)).toBeNull();
    } finally {
      db.close();
    }
  });
});

describe('plan/speculation', () => {
  const plan = planWith(fullProfiles());
  const mixed = plan.tables.find((t) => t.source === 'mixed')!;

  it('sees no difference in explanations or in key order (a plan read back from jsonb)', () => {
    const reordered = JSON.parse(JSON.stringify(mixed), (_k, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
    ) as TablePlan;
    reordered.columns[1]!.reason = 'another explanation';
    reordered.columns[1]!.warnings = ['another warning'];
    reordered.warnings = ['x'];
    expect(planDifference(mixed, reordered)).toBeNull();
  });

  it('digest specs do not depend on key order: a copy with the plan as built, a checksum with it read back from jsonb', () => {
    const reversed = JSON.parse(JSON.stringify(mixed), (_k, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
    ) as TablePlan;
    expect(JSON.stringify(reversed.columns[0]!.converter)).not.toBe(JSON.stringify(mixed.columns[0]!.converter));
    expect(digestSpecId(reversed.key, digestColumns(reversed))).toBe(digestSpecId(mixed.key, digestColumns(mixed)));
    const other = structuredClone(mixed);
    other.columns[0]!.converter = { kind: 'integer', bits: 32 };
    expect(digestSpecId(other.key, digestColumns(other))).not.toBe(digestSpecId(mixed.key, digestColumns(mixed)));
  });

  it('names the columns whose type or converter differ', () => {
    const other = structuredClone(mixed);
    other.columns.find((c) => c.source === 'flag')!.pgType = 'bigint';
    const code = other.columns.find((c) => c.source === 'code')!;
    code.converter = { kind: 'text', maxLength: 7 };
    const d = planDifference(mixed, other);
    expect(d).toContain('flag: ');
    expect(d).toContain('→ bigint');
    expect(d).toContain('code: ');
    expect(d).not.toContain('amount');
  });

  it('keeps tables out of speculation when a foreign key, either side, is not integer', () => {
    const db = openSource(
      makeSqlite(
        dir,
        'fk.db',
        `CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT UNIQUE);
         CREATE TABLE c1 (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p(id));
         CREATE TABLE c2 (id INTEGER PRIMARY KEY, p_code TEXT REFERENCES p(code));
         CREATE TABLE lone (id INTEGER PRIMARY KEY, v TEXT);
         INSERT INTO p VALUES (1, 'a'); INSERT INTO c1 VALUES (1, 1); INSERT INTO c2 VALUES (1, 'a'); INSERT INTO lone VALUES (1, 'x');`,
      ),
    );
    try {
      const schema = introspect(db);
      const profiles = Object.fromEntries(schema.tables.map((t) => [t.name, profileTable(db, t.name, t.columns)]));
      const p = buildPlan(db.name, schema, profiles, OPTIONS);
      expect(notSpeculable(p, new Set(['p', 'c1', 'c2', 'lone'])).sort()).toEqual(['c2', 'p']);
      expect(notSpeculable(p, new Set(['c1', 'lone']))).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('stores the source schema with the plan and reads it back as introspected (64-bit sequence included)', () => {
    const db = openSource(makeSqlite(dir, 'seq.db', `CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT); INSERT INTO a VALUES (9223372036854775806, 'x');`));
    try {
      const schema = introspect(db);
      expect(schema.tables[0]!.sqliteSequence).toBe(9223372036854775806n);
      const stored = JSON.parse(JSON.stringify(schemaToJson(schema)));
      expect(schemaFromJson(stored)).toEqual(schema);
    } finally {
      db.close();
    }
  });

  it('reads its threshold from the environment', () => {
    expect(speculateMinRows({})).toBe(SPECULATE_MIN_ROWS);
    expect(speculateMinRows({ CUTOVER_SPECULATE_MIN_ROWS: '10' })).toBe(10);
    expect(speculateMinRows({ CUTOVER_SPECULATE_MIN_ROWS: 'x' })).toBe(SPECULATE_MIN_ROWS);
    expect(speculateMinRows({ CUTOVER_EXACT_PLAN: '1', CUTOVER_SPECULATE_MIN_ROWS: '10' })).toBeNull();
  });
});
