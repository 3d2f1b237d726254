// Shared pieces of the fault-injection tests (test/faults): a several-table
// SQLite source with varied values, progress read from the target's
// checkpoints, an independent value-by-value comparison, and what the
// Temporal histories say about activity attempts.
import type { Client } from '@temporalio/client';
import Database from 'better-sqlite3';
import pg from 'pg';
import { compareDatabases, type PlanNames } from './compare';
import { makeSqlite } from './sqlite';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `ok` until it returns true; an error counts as "not yet" (the server may be restarting). */
export async function waitFor(what: string, ok: () => Promise<boolean>, ms = 60_000, every = 25): Promise<void> {
  const end = Date.now() + ms;
  let lastError: unknown = null;
  while (Date.now() < end) {
    try {
      if (await ok()) return;
    } catch (err) {
      lastError = err;
    }
    await sleep(every);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
}

/** One query on a short-lived connection, every value as PostgreSQL's text. */
export async function query(url: string, sql: string, params: unknown[] = []): Promise<Record<string, string | null>[]> {
  const c = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v }, connectionTimeoutMillis: 20_000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as Record<string, string | null>[];
  } finally {
    await c.end().catch(() => undefined);
  }
}

export interface SourceTable {
  name: string;
  rows: number;
}

/**
 * A source of several tables with varied values: integer keys, text (quotes,
 * tabs, newlines, backslashes, non-ASCII), reals, blobs, NULLs, big integers.
 * Deterministic (seeded), so two builds are byte-identical in content.
 */
export function buildFaultSource(dir: string, name: string, tables: SourceTable[]): string {
  const ddl = tables
    .map((t) => `CREATE TABLE ${t.name} (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, big INTEGER, price REAL, label TEXT, data BLOB);`)
    .join('\n');
  return makeSqlite(dir, name, ddl, (db: Database.Database) => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const texts = ['plain', "it's", 'tab\there', 'line\nbreak', 'back\\slash', 'Ünïcødé 名前 🚀', '', '  padded  '];
    for (const t of tables) {
      const ins = db.prepare(`INSERT INTO ${t.name} VALUES (?, ?, ?, ?, ?, ?)`);
      db.transaction(() => {
        for (let i = 1; i <= t.rows; i++) {
          const r = rnd();
          ins.run(
            BigInt(i),
            BigInt(r % 100_000),
            r % 7 === 0 ? null : BigInt(r) * 4_294_967_311n - 9_000_000_000_000_000_000n / BigInt((r % 5) + 1),
            r % 11 === 0 ? null : (r % 1_000_003) / 97,
            r % 13 === 0 ? null : `${texts[r % texts.length]} #${i} ${'x'.repeat(r % 40)}`,
            r % 3 === 0 ? null : Buffer.from([r & 255, (r >> 8) & 255, 0, (r >> 16) & 255]),
          );
        }
      })();
    }
  });
}

// One polling connection per URL (tests poll every few ms: a connection per poll costs a backend fork each).
const pollers = new Map<string, Promise<pg.Client>>();

function poller(url: string): Promise<pg.Client> {
  let p = pollers.get(url);
  if (!p) {
    const c = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v }, connectionTimeoutMillis: 20_000 });
    const drop = () => {
      if (pollers.get(url) === p) pollers.delete(url);
    };
    c.on('error', drop);
    c.on('end', drop);
    p = c.connect().then(() => c);
    p.catch(drop);
    pollers.set(url, p);
  }
  return p;
}

/** Closes the polling connections (afterAll). */
export async function closePollers(): Promise<void> {
  const all = [...pollers.values()];
  pollers.clear();
  await Promise.all(all.map((p) => p.then((c) => c.end()).catch(() => undefined)));
}

/** Rows committed so far for a run (sum of its checkpoints); 0 before the state schema exists. */
export async function committedRows(url: string, runId: string): Promise<number> {
  const c = await poller(url);
  try {
    const r = await c.query<{ n: string }>(`SELECT coalesce(sum(rows_copied), 0) AS n FROM cutover.chunks WHERE run_id = $1`, [runId]);
    return Number(r.rows[0]!.n);
  } catch (err) {
    if ((err as { code?: string }).code === '42P01' || (err as { code?: string }).code === '3F000') return 0;
    // Replace the connection at the next poll (it may be broken: a restart, a timeout).
    if (pollers.get(url) !== undefined) {
      pollers.delete(url);
      c.end().catch(() => undefined);
    }
    throw err;
  }
}

export async function loadPlan(url: string, runId: string): Promise<PlanNames & { targetSchema: string }> {
  const r = await query(url, `SELECT plan::text AS plan FROM cutover.runs WHERE run_id = $1`, [runId]);
  return JSON.parse(r[0]!.plan!) as PlanNames & { targetSchema: string };
}

/**
 * Target = source, value by value (test/helpers/compare: better-sqlite3 with safe
 * integers against PostgreSQL's raw text), and no key twice. Returns problems (empty = equal).
 */
export async function checkTargetEqualsSource(sqliteFile: string, url: string, runId: string, tables: SourceTable[]): Promise<string[]> {
  const plan = await loadPlan(url, runId);
  const problems: string[] = [];
  const diffs = await compareDatabases(sqliteFile, url, plan.targetSchema, plan, runId);
  for (const d of diffs) {
    if (d.sourceRows !== d.targetRows) problems.push(`${d.table}: ${d.sourceRows} source rows, ${d.targetRows} target rows`);
    if (d.rejectedRows !== 0) problems.push(`${d.table}: ${d.rejectedRows} rows rejected`);
    for (const m of d.mismatches) problems.push(`${d.table}: ${m}`);
  }
  for (const t of tables) {
    const r = await query(url, `SELECT count(*) AS n, count(DISTINCT id) AS d FROM "${plan.targetSchema}"."${t.name}"`);
    if (r[0]!.n !== String(t.rows) || r[0]!.d !== String(t.rows)) problems.push(`${t.name}: count ${r[0]!.n}, distinct keys ${r[0]!.d}, expected ${t.rows}`);
  }
  if (diffs.length !== tables.length) problems.push(`compared ${diffs.length} tables, expected ${tables.length}`);
  return problems;
}

export interface AttemptInfo {
  workflowId: string;
  activity: string;
  summary: string;
  attempt: number;
  lastFailure: string | null;
}

/** ActivityTaskStarted events with attempt > 1 in the given workflows' histories (all runs of each id). */
export async function retriedActivities(client: Client, workflowIds: string[]): Promise<AttemptInfo[]> {
  const out: AttemptInfo[] = [];
  for (const id of workflowIds) {
    const runIds: string[] = [];
    for await (const wf of client.workflow.list({ query: `WorkflowId = '${id}'` })) runIds.push(wf.runId);
    for (const runId of runIds) {
      const history = await client.workflow.getHandle(id, runId).fetchHistory();
      const scheduled = new Map<string, { type: string; summary: string }>();
      for (const e of history.events ?? []) {
        if (e.activityTaskScheduledEventAttributes) {
          const a = e.activityTaskScheduledEventAttributes;
          let summary = '';
          const raw = e.userMetadata?.summary?.data;
          if (raw) summary = Buffer.from(raw).toString('utf8');
          scheduled.set(String(e.eventId), { type: a.activityType?.name ?? '?', summary });
        }
        const s = e.activityTaskStartedEventAttributes;
        if (s && (s.attempt ?? 1) > 1) {
          const sch = scheduled.get(String(s.scheduledEventId));
          out.push({
            workflowId: id,
            activity: sch?.type ?? '?',
            summary: sch?.summary ?? '',
            attempt: s.attempt ?? 1,
            lastFailure: s.lastFailure?.message ?? null,
          });
        }
      }
    }
  }
  return out;
}

/** Events per run of a workflow id (all its continued-as-new runs). */
export async function historyLengths(client: Client, workflowId: string): Promise<number[]> {
  const lengths: number[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) lengths.push(wf.historyLength);
  return lengths;
}
