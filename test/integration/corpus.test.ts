// The corpus: real databases other people wrote (../shared/corpus, copied to a
// temp dir first) and hostile files built here, each migrated by the real
// workflow on a real worker into a fresh database, then compared value by value
// through an independent reader (test/helpers/compare.ts).
//
// Every database must end either identical, with its keys, indexes and
// constraints in place, or with each problem row in cutover.rejects with a
// reason and a failed run (and, re-run with allowRejects, identical apart from
// exactly those rows).
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateSqliteToPostgres } from '../../workflows';
import type { MigrationInput, MigrationPlan, MigrationReport } from '../../src/types';
import { compareDatabases, pgClient } from '../helpers/compare';
import { buildCollationDb, buildOrphansDb, buildQuirksDb, buildWalDb, copySharedCorpus, SQLITE3_CLI } from '../helpers/corpus';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { tempDir } from '../helpers/sqlite';
import { startTestWorker, type TestWorker } from '../helpers/worker';

const dir = tempDir('corpus');
const dbs: TestDatabase[] = [];
let w: TestWorker;
const targets: Record<string, string> = {};
let seq = 0;

interface Outcome {
  ok: boolean;
  report: MigrationReport | null;
  message: string;
  runId: string;
}

async function migrate(name: string, input: Omit<MigrationInput, 'target'>): Promise<Outcome> {
  const runId = `corpus-${name.replace(/[^a-z0-9]+/gi, '-')}-${Math.random().toString(36).slice(2, 8)}`;
  const handle = await w.client.workflow.start(migrateSqliteToPostgres, { taskQueue: w.taskQueue, workflowId: runId, args: [{ parallelism: 8, ...input, target: name }] });
  try {
    const report = await handle.result();
    return { ok: true, report, message: '', runId };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    let m = '';
    for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) m += ` ${(e as Error).message}`;
    return { ok: false, report: null, message: m, runId };
  }
}

async function loadPlan(url: string, runId: string): Promise<MigrationPlan> {
  const c = await pgClient(url);
  try {
    const r = await c.query<{ plan: string }>(`SELECT plan::text AS plan FROM cutover.runs WHERE run_id = $1`, [runId]);
    return JSON.parse(r.rows[0]!.plan) as MigrationPlan;
  } finally {
    await c.end();
  }
}

/** Keys, uniques, indexes, CHECKs, FKs and views of the plan are in the target (or a warning says why not). */
async function checkObjects(url: string, plan: MigrationPlan, report: MigrationReport): Promise<string[]> {
  const c = await pgClient(url);
  const problems: string[] = [];
  const warned = (name: string) => report.warnings.some((w) => w.includes(name));
  try {
    const cons = await c.query<{ rel: string; conname: string; contype: string; convalidated: string }>(
      `SELECT cl.relname AS rel, k.conname, k.contype::text, k.convalidated::text FROM pg_constraint k JOIN pg_class cl ON cl.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE n.nspname = $1`,
      [plan.targetSchema],
    );
    const rels = new Set(
      (await c.query<{ relname: string }>(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1`, [plan.targetSchema])).rows.map(
        (r) => r.relname,
      ),
    );
    const has = (t: string, name: string, type: string) => cons.rows.find((r) => r.rel === t && r.conname === name && r.contype === type);
    for (const t of plan.tables) {
      if (t.primaryKey && t.pkName && !has(t.target, t.pkName, 'p') && !warned(`${t.source}: primary key`)) problems.push(`${t.source}: primary key ${t.pkName} missing`);
      t.uniques.forEach((u, i) => {
        const n = t.uniqueNames?.[i];
        if (n && !has(t.target, n, 'u') && !warned(`UNIQUE (${u.join(', ')})`)) problems.push(`${t.source}: unique ${n} missing`);
      });
      for (const ix of t.indexes) if (!rels.has(ix.targetName) && !warned(ix.name)) problems.push(`${t.source}: index ${ix.targetName} missing`);
      for (const ck of t.checks) {
        if (ck.pgSql === null) continue;
        const k = has(t.target, ck.name, 'c');
        if (!k && !warned(ck.sourceSql)) problems.push(`${t.source}: CHECK ${ck.name} missing`);
        if (k && k.convalidated !== 'true' && !warned(ck.name)) problems.push(`${t.source}: CHECK ${ck.name} NOT VALID without a warning`);
      }
      for (const fk of t.foreignKeys) {
        const k = has(t.target, fk.name, 'f');
        if (!k && !warned(fk.name)) problems.push(`${t.source}: FK ${fk.name} missing`);
        if (k && k.convalidated !== 'true' && fk.orphans?.policy !== 'keep') problems.push(`${t.source}: FK ${fk.name} NOT VALID`);
      }
    }
    for (const v of plan.views ?? []) if (!rels.has(v.target) && !warned(`view ${v.name}`)) problems.push(`view ${v.target} missing`);
  } finally {
    await c.end();
  }
  return problems;
}

interface Summary {
  file: string;
  outcome: string;
  tables: number;
  rows: number;
  rejects: number;
  seconds: number;
}
const summaries: Summary[] = [];

/**
 * Migrates one file. Either it succeeds, identical and complete; or it fails naming rejects
 * (then a re-run with allowRejects must be identical apart from the rejected rows, each with a reason).
 */
async function migrateAndCompare(file: string, opts: { expectRejects?: boolean } = {}): Promise<{ report: MigrationReport; plan: MigrationPlan; url: string; runId: string }> {
  const started = Date.now();
  const name = `c${seq++}`;
  const db = await createTestDatabase(`corpus_${name}`);
  dbs.push(db);
  // Connection names are resolved by the worker from its targets map.
  targets[name] = db.url;
  const first = await migrate(name, { source: file });
  let outcome: Outcome = first;
  if (!first.ok) {
    expect(first.message, `${file} failed for another reason than rejects`).toMatch(/rejected/);
    const again = `${name}r`;
    const db2 = await createTestDatabase(`corpus_${again}`);
    dbs.push(db2);
    targets[again] = db2.url;
    outcome = await migrate(again, { source: file, allowRejects: true });
    expect(outcome.ok, `${file} with allowRejects: ${outcome.message}`).toBe(true);
    outcome = { ...outcome, runId: outcome.runId };
  }
  if (opts.expectRejects !== undefined) expect(!first.ok, `${file}: rejects expected ${opts.expectRejects}`).toBe(opts.expectRejects);
  const url = targets[first.ok ? name : `${name}r`]!;
  const report = outcome.report!;
  const plan = await loadPlan(url, outcome.runId);
  const diffs = await compareDatabases(file, url, plan.targetSchema, plan, outcome.runId);
  for (const d of diffs) {
    expect(d.mismatches, `${file} table ${d.table}`).toEqual([]);
    expect(d.targetRows + d.rejectedRows, `${file} table ${d.table} rows`).toBe(d.sourceRows);
  }
  const rejects = diffs.reduce((s, d) => s + d.rejectedRows, 0);
  expect(rejects > 0, `${file}: a run that failed must have rejects`).toBe(!first.ok);
  expect(await checkObjects(url, plan, report), file).toEqual([]);
  summaries.push({
    file: file.split('/').pop()!,
    outcome: first.ok ? 'identical' : 'rejects (run failed; identical apart from rejects with allowRejects)',
    tables: plan.tables.length,
    rows: diffs.reduce((s, d) => s + d.sourceRows, 0),
    rejects,
    seconds: (Date.now() - started) / 1000,
  });
  return { report, plan, url, runId: outcome.runId };
}

describe.concurrent('corpus: every database identical, or its problem rows rejected with reasons', () => {
  const shared = copySharedCorpus(dir);

  beforeAll(async () => {
    // The worker resolves connection names through this (mutable) map.
    w = await startTestWorker('corpus', targets);
  });

  afterAll(async () => {
    await w?.stop();
    for (const d of dbs) await d.drop().catch(() => undefined);
    if (summaries.length) process.stderr.write(`\n[corpus]\n${summaries.map((s) => `  ${s.file}: ${s.outcome}; ${s.tables} tables, ${s.rows} rows, ${s.rejects} rejects, ${s.seconds.toFixed(1)} s`).join('\n')}\n`);
  });

  for (const file of shared) {
    it(`shared corpus: ${file.split('/').pop()}`, async () => {
      await migrateAndCompare(file);
    });
  }

  it('hostile corpus: quirks.db', async () => {
    const file = buildQuirksDb(dir);
    const { report, plan, url } = await migrateAndCompare(file, { expectRejects: true });
    const t = (n: string) => plan.tables.find((x) => x.source === n)!;
    // Invalid JSON in a JSON column: the column stays text (exact), with a warning.
    expect(t('bad_json').columns[1]!.pgType).toBe('text');
    // CHECKs: portable ones translated, typeof() reported.
    const items = t('items');
    expect(items.checks.find((c) => c.sourceSql.includes('typeof'))?.pgSql).toBeNull();
    expect(items.checks.filter((c) => c.pgSql !== null).length).toBeGreaterThanOrEqual(6);
    expect(items.warnings.join('\n')).toMatch(/typeof/);
    // Indexes: expression index on json_extract skipped with its SQL; the others created.
    expect(plan.skipped.find((s) => s.name === 'items_json')?.sql).toMatch(/json_extract/);
    expect(plan.skipped.find((s) => s.kind === 'trigger' && s.name === 'items_touch')?.sql).toMatch(/CREATE TRIGGER/);
    expect(plan.skipped.find((s) => s.kind === 'view' && s.name === 'items_by_month')?.reason).toMatch(/strftime/);
    expect(plan.views?.map((v) => v.name)).toContain('active_items');
    const c = await pgClient(url);
    try {
      // The CHECKs hold in PostgreSQL: a bad row is refused.
      await expect(c.query(`INSERT INTO public.items (id, price, status, is_active) VALUES (100, -1, 'new', true)`)).rejects.toThrow(/check constraint/);
      await expect(c.query(`INSERT INTO public.items (id, price, status, is_active) VALUES (100, 1, 'lost', true)`)).rejects.toThrow(/check constraint/);
      // NOCASE unique: 'abc' collides with 'ABC'.
      await expect(c.query(`INSERT INTO public.parent (id, code) VALUES (100, 'abc')`)).rejects.toThrow(/duplicate key/);
      // Defaults, end to end.
      await c.query(`INSERT INTO public.defaults_t DEFAULT VALUES`);
      const d = (await c.query(`SELECT n, r, s, q, b, neg, hexd, quoted_num, created IS NOT NULL AS has_created, d IS NOT NULL AS has_d FROM public.defaults_t ORDER BY id DESC LIMIT 1`)).rows[0];
      expect(d).toMatchObject({ n: '42', r: '-1.5', s: "it's", q: 'dq', neg: '-7', hexd: '16', quoted_num: '5', has_created: 't', has_d: 't' });
      expect(['t', '1']).toContain(d.b);
      // The view answers like SQLite's.
      const v = (await c.query(`SELECT * FROM public.active_items ORDER BY id`)).rows;
      expect(v).toEqual([{ id: '1', item_name: 'Widget', code: 'ABC' }]);
      // AUTOINCREMENT: next id past sqlite_sequence.
      const next = (await c.query(`INSERT INTO public.autoinc (v) VALUES ('new') RETURNING id`)).rows[0];
      expect(next.id).toBe('101');
      // Generated columns arrive as their values.
      const g = (await c.query(`SELECT b FROM public.gen WHERE id = 1`)).rows[0];
      expect(g.b).toBe('4');
    } finally {
      await c.end();
    }
    // Exactly the bad values were rejected, each with its reason.
    const c2 = await pgClient(url);
    try {
      const rej = (await c2.query(`SELECT table_name, row_key, column_name, reason FROM cutover.rejects ORDER BY 1, 2`)).rows;
      expect(rej.map((r) => `${r.table_name} ${r.row_key} ${r.column_name}`)).toEqual([
        'bad_dates id=2 d',
        'bad_dates id=3 ts',
        'bad_utf8 id=2 t',
        'bad_utf8 id=3 t',
        // A no-type column of blobs, texts and numbers is text; a blob that is not UTF-8 cannot be text.
        'blobs id=1 notype',
        'nul_text id=2 t',
      ]);
      for (const r of rej) expect(r.reason).toMatch(/\w{6}/);
    } finally {
      await c2.end();
    }
    expect(report.totals.rejects).toBe(6);
  });

  it('WAL-mode source', async () => {
    await migrateAndCompare(buildWalDb(dir), { expectRejects: false });
  });

  it.skipIf(!SQLITE3_CLI)('application-defined collation: read anyway, with warnings', async () => {
    const { report, plan } = await migrateAndCompare(buildCollationDb(dir), { expectRejects: false });
    const all = [...report.warnings, ...plan.tables.flatMap((t) => t.columns.flatMap((c) => c.warnings))].join('\n');
    expect(all).toMatch(/app_specific/);
    const tag = plan.tables[0]!.indexes.find((i) => i.name === 'people_tag');
    expect(tag?.keys).toEqual(['lower("tag")']);
  });

  it('FK orphans: the default policy stops before creating or copying anything, naming table, FK, count and keys', async () => {
    const file = buildOrphansDb(dir);
    const name = `c${seq++}`;
    const db = await createTestDatabase(`corpus_${name}`);
    dbs.push(db);
    targets[name] = db.url;
    const r = await migrate(name, { source: file });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/failed in phase plan/);
    expect(r.message).toMatch(/orders: 2 row\(s\) violate foreign key orders\(customer_id\) → customers\(id\)/);
    expect(r.message).toMatch(/id=11 \(customer_id=99\)/);
    const c = await pgClient(db.url);
    try {
      // Nothing was created (the run's state was rolled back too).
      const tables = await c.query(`SELECT 1 FROM pg_tables WHERE schemaname IN ('public', 'cutover')`);
      expect(tables.rowCount).toBe(0);
    } finally {
      await c.end();
    }
  });
});
