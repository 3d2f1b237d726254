// Applying the application's own migrations before the copy: a Drizzle migrations folder with
// drizzle-orm's migrator, or a folder of ordered .sql files (one transaction each, recorded in
// cutover.applied_migrations so neither a retry nor a later run applies one twice).
//
// Rollback: what a migration changes is unknowable in general. We take a catalog snapshot
// (schemas, relations, types, functions, extensions) before the first migration of the run
// and diff it afterwards; the undo drops exactly the objects that appeared. Changes to objects
// that already existed (ALTER TABLE … ADD COLUMN on a pre-existing table) are NOT undone: the
// result says so.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate as drizzleMigrate } from 'drizzle-orm/node-postgres/migrator';
import { qualified, quoteIdent } from '../postgres/sql';
import { appliedMigrations, forgetRunSql, loadOrSaveSnapshot, recordMigration } from './state';

export interface CatalogObject {
  kind: 'schema' | 'table' | 'view' | 'matview' | 'sequence' | 'foreign table' | 'type' | 'function' | 'extension';
  schema: string | null;
  name: string;
  /** Function identity arguments, for DROP FUNCTION. */
  args?: string;
}

const SYSTEM = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'cutover') AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'`;

export async function catalogSnapshot(client: pg.ClientBase): Promise<CatalogObject[]> {
  const out: CatalogObject[] = [];
  const schemas = await client.query<{ name: string }>(`SELECT n.nspname AS name FROM pg_namespace n WHERE ${SYSTEM}`);
  for (const r of schemas.rows) out.push({ kind: 'schema', schema: null, name: r.name });
  const rels = await client.query<{ schema: string; name: string; relkind: string }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${SYSTEM} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')`,
  );
  const kinds: Record<string, CatalogObject['kind']> = { r: 'table', p: 'table', v: 'view', m: 'matview', S: 'sequence', f: 'foreign table' };
  for (const r of rels.rows) out.push({ kind: kinds[r.relkind]!, schema: r.schema, name: r.name });
  const types = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, t.typname AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE ${SYSTEM} AND (t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))`,
  );
  for (const r of types.rows) out.push({ kind: 'type', schema: r.schema, name: r.name });
  const fns = await client.query<{ schema: string; name: string; args: string }>(
    `SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args FROM pg_proc p
       JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE ${SYSTEM} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`,
  );
  for (const r of fns.rows) out.push({ kind: 'function', schema: r.schema, name: r.name, args: r.args });
  const exts = await client.query<{ name: string }>(`SELECT extname AS name FROM pg_extension`);
  for (const r of exts.rows) out.push({ kind: 'extension', schema: null, name: r.name });
  return out;
}

const keyOf = (o: CatalogObject) => `${o.kind}\0${o.schema ?? ''}\0${o.name}\0${o.args ?? ''}`;

export function newObjects(before: CatalogObject[], after: CatalogObject[]): CatalogObject[] {
  const seen = new Set(before.map(keyOf));
  return after.filter((o) => !seen.has(keyOf(o)));
}

/** SQL dropping the objects a run's migrations created, dependents first. */
export function dropObjectsSql(objects: CatalogObject[]): string {
  const order: CatalogObject['kind'][] = ['view', 'matview', 'foreign table', 'table', 'sequence', 'function', 'type', 'extension', 'schema'];
  const newSchemas = new Set(objects.filter((o) => o.kind === 'schema').map((o) => o.name));
  const stmts: string[] = [];
  for (const kind of order) {
    for (const o of objects.filter((x) => x.kind === kind)) {
      // Objects inside a schema the migrations created go with the schema.
      if (o.schema !== null && newSchemas.has(o.schema)) continue;
      const q = o.schema === null ? quoteIdent(o.name) : qualified(o.schema, o.name);
      switch (kind) {
        case 'view':
          stmts.push(`DROP VIEW IF EXISTS ${q} CASCADE`);
          break;
        case 'matview':
          stmts.push(`DROP MATERIALIZED VIEW IF EXISTS ${q} CASCADE`);
          break;
        case 'foreign table':
          stmts.push(`DROP FOREIGN TABLE IF EXISTS ${q} CASCADE`);
          break;
        case 'table':
          stmts.push(`DROP TABLE IF EXISTS ${q} CASCADE`);
          break;
        case 'sequence':
          stmts.push(`DROP SEQUENCE IF EXISTS ${q} CASCADE`);
          break;
        case 'function':
          stmts.push(`DROP FUNCTION IF EXISTS ${q}(${o.args ?? ''}) CASCADE`);
          break;
        case 'type':
          stmts.push(`DROP TYPE IF EXISTS ${q} CASCADE`);
          break;
        case 'extension':
          stmts.push(`DROP EXTENSION IF EXISTS ${q}`);
          break;
        case 'schema':
          stmts.push(`DROP SCHEMA IF EXISTS ${q} CASCADE`);
          break;
      }
    }
  }
  return stmts.join(';\n');
}

export interface SqlMigrationFile {
  name: string;
  sql: string;
  sha256: string;
}

/** The .sql files of a folder in order (names compared with numbers as numbers: 2_x before 10_x). */
export function readSqlMigrations(dir: string): SqlMigrationFile[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new MigrationsError(`sqlMigrations: "${dir}" is not a directory on the worker`);
  const names = readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.sql'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (names.length === 0) throw new MigrationsError(`sqlMigrations: no .sql files in "${dir}"`);
  return names.map((name) => {
    const sql = readFileSync(path.join(dir, name), 'utf8');
    return { name, sql, sha256: createHash('sha256').update(sql).digest('hex') };
  });
}

export class MigrationsError extends Error {}

export interface ApplyResult {
  applied: string[];
  skipped: string[];
  /** Objects the migrations created (dropped again on rollback). */
  created: string[];
  warnings: string[];
  /** The undo for cutover.objects, or null when nothing was created. */
  undoSql: string | null;
}

function describeObject(o: CatalogObject): string {
  return `${o.kind} ${o.schema ? `${o.schema}.` : ''}${o.name}`;
}

async function withSearchPath<T>(client: pg.ClientBase, schema: string, fn: () => Promise<T>): Promise<T> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  await client.query(`SET search_path TO ${quoteIdent(schema)}, public`);
  try {
    return await fn();
  } finally {
    await client.query('RESET search_path').catch(() => undefined);
  }
}

/**
 * Applies the migrations (Drizzle folder and/or SQL folder) into `targetSchema` (the first
 * schema on the search_path while they run). Idempotent: a retry applies nothing twice.
 */
export async function applyMigrations(
  client: pg.ClientBase,
  args: { runId: string; targetSchema: string; drizzleMigrations?: string | null; sqlMigrations?: string | null },
): Promise<ApplyResult> {
  const before = await loadOrSaveSnapshot(client, args.runId, 'catalog', () => catalogSnapshot(client));
  const applied: string[] = [];
  const skipped: string[] = [];
  const warnings: string[] = [];
  let drizzleRowsBefore: number | null = null;
  if (args.drizzleMigrations) {
    const dir = args.drizzleMigrations;
    if (!existsSync(path.join(dir, 'meta', '_journal.json'))) {
      throw new MigrationsError(`drizzleMigrations: "${dir}" has no meta/_journal.json (a drizzle-kit generate output folder is expected)`);
    }
    drizzleRowsBefore = await loadOrSaveSnapshot(client, args.runId, 'drizzle', async () => {
      if (!(await drizzleTableExists(client))) return -1;
      const r = await client.query<{ id: number }>(`SELECT coalesce(max(id), 0)::int AS id FROM drizzle.__drizzle_migrations`);
      return r.rows[0]?.id ?? 0;
    });
    const journal = JSON.parse(readFileSync(path.join(dir, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
    await withSearchPath(client, args.targetSchema, async () => {
      const countBefore = await drizzleCount(client);
      await drizzleMigrate(drizzle(client as pg.PoolClient), { migrationsFolder: dir });
      const countAfter = await drizzleCount(client);
      const n = countAfter - countBefore;
      const tags = journal.entries.map((e) => e.tag);
      applied.push(...tags.slice(tags.length - n).map((t) => `drizzle ${t}`));
      skipped.push(...tags.slice(0, tags.length - n).map((t) => `drizzle ${t}`));
    });
  }
  if (args.sqlMigrations) {
    const files = readSqlMigrations(args.sqlMigrations);
    const done = await appliedMigrations(client, args.targetSchema);
    for (const f of files) {
      const prev = done.get(f.name);
      if (prev) {
        if (prev.sha256 !== f.sha256) {
          throw new MigrationsError(
            `sqlMigrations: ${f.name} was applied to schema "${args.targetSchema}"${prev.run_id ? ` by run ${prev.run_id}` : ''} and has changed since (sha256 ${prev.sha256.slice(0, 12)}… → ${f.sha256.slice(0, 12)}…). Applied migrations must not be edited: add a new file instead.`,
          );
        }
        skipped.push(f.name);
        continue;
      }
      await withSearchPath(client, args.targetSchema, async () => {
        await client.query('BEGIN');
        try {
          await client.query(f.sql);
          await recordMigration(client, args.targetSchema, f.name, f.sha256, args.runId);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          const e = err as { message?: string; position?: string };
          throw new MigrationsError(`sqlMigrations: ${f.name} failed and was rolled back (earlier files stay applied): ${e.message ?? String(err)}${e.position ? ` at character ${e.position}` : ''}`);
        }
      });
      applied.push(f.name);
    }
  }
  const after = await catalogSnapshot(client);
  const created = newObjects(before, after);
  const undo: string[] = [];
  const drop = dropObjectsSql(created);
  if (drop) undo.push(drop);
  if (drizzleRowsBefore !== null && drizzleRowsBefore >= 0 && !created.some((o) => o.kind === 'schema' && o.name === 'drizzle')) {
    undo.push(`DELETE FROM drizzle.__drizzle_migrations WHERE id > ${Number(drizzleRowsBefore)}`);
  }
  undo.push(forgetRunSql(args.runId));
  if (applied.length > 0 && created.length === 0) warnings.push('the migrations created no new objects: whatever they changed in existing objects is not undone by a rollback');
  else if (applied.length > 0) warnings.push('a rollback drops the objects these migrations created; changes they made to objects that already existed are not undone');
  return { applied, skipped, created: created.map(describeObject), warnings, undoSql: undo.join(';\n') };
}

async function drizzleTableExists(client: pg.ClientBase): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>(`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS ok`);
  return r.rows[0]?.ok ?? false;
}

async function drizzleCount(client: pg.ClientBase): Promise<number> {
  if (!(await drizzleTableExists(client))) return 0;
  const r = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`);
  return r.rows[0]?.n ?? 0;
}
