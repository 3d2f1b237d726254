// The existing-schema mode's own state, next to cutover's: which SQL migrations were applied
// (so a resumed or later run does not apply them again), and backups of truncated tables.
import { createHash } from 'node:crypto';
import type pg from 'pg';

export const APPLIED_MIGRATIONS_DDL = `
CREATE TABLE IF NOT EXISTS cutover.applied_migrations (
  target_schema text NOT NULL,
  name text NOT NULL,
  sha256 text NOT NULL,
  run_id text,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target_schema, name)
)`;

export const MIGRATION_SNAPSHOTS_DDL = `
CREATE TABLE IF NOT EXISTS cutover.migration_snapshots (
  run_id text NOT NULL,
  kind text NOT NULL,
  objects jsonb NOT NULL,
  PRIMARY KEY (run_id, kind)
)`;

export async function ensureExistingState(client: pg.ClientBase): Promise<void> {
  await client.query('CREATE SCHEMA IF NOT EXISTS cutover');
  await client.query(APPLIED_MIGRATIONS_DDL);
  await client.query(MIGRATION_SNAPSHOTS_DDL);
}

/** The catalog before this run's migrations: taken once per run, so a retried step diffs against it. */
export async function loadOrSaveSnapshot<T>(client: pg.ClientBase, runId: string, kind: string, take: () => Promise<T>): Promise<T> {
  const r = await client.query<{ objects: T }>(`SELECT objects FROM cutover.migration_snapshots WHERE run_id = $1 AND kind = $2`, [runId, kind]);
  if (r.rows[0]) return r.rows[0].objects;
  const objects = await take();
  await client.query(`INSERT INTO cutover.migration_snapshots (run_id, kind, objects) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [runId, kind, JSON.stringify(objects)]);
  return objects;
}

/** Removes this run's rows from the existing-mode state tables (the undo of a rolled-back run uses it). */
export function forgetRunSql(runId: string): string {
  const id = `'${runId.replace(/'/g, "''")}'`;
  return `DELETE FROM cutover.applied_migrations WHERE run_id = ${id}; DELETE FROM cutover.migration_snapshots WHERE run_id = ${id}`;
}

export interface AppliedMigration {
  name: string;
  sha256: string;
  run_id: string | null;
}

export async function appliedMigrations(client: pg.ClientBase, targetSchema: string): Promise<Map<string, AppliedMigration>> {
  const r = await client.query<AppliedMigration>(`SELECT name, sha256, run_id FROM cutover.applied_migrations WHERE target_schema = $1`, [targetSchema]);
  return new Map(r.rows.map((x) => [x.name, x]));
}

export async function recordMigration(client: pg.ClientBase, targetSchema: string, name: string, sha256: string, runId: string): Promise<void> {
  await client.query(`INSERT INTO cutover.applied_migrations (target_schema, name, sha256, run_id) VALUES ($1, $2, $3, $4)`, [targetSchema, name, sha256, runId]);
}

/** Name of the table keeping a truncated table's rows until the run ends. */
export function backupTableName(runId: string, table: string): string {
  return `backup_${createHash('sha1').update(`${runId}\0${table}`).digest('hex').slice(0, 16)}`;
}
