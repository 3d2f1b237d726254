// Around the load into pre-existing tables: emptiness (or truncate, with a backup restored on
// rollback), foreign keys dropped for the load and restored after it (and by the undo, always),
// the undo that empties loaded tables, and read grants. Every step is recorded in
// cutover.objects before it takes effect, with SQL that undoes it; every undo is idempotent.
import type pg from 'pg';
import { inTransaction } from '../postgres/connect';
import { qualified, quoteIdent, quoteLiteral } from '../postgres/sql';
import * as state from '../postgres/state';
import type { DroppedForeignKey, ExistingPlan } from './plan';
import { backupTableName } from './state';

export class LoadError extends Error {}

async function hasRows(client: pg.ClientBase, schema: string, table: string): Promise<boolean> {
  const r = await client.query<{ x: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${qualified(schema, table)}) AS x`);
  return r.rows[0]?.x ?? false;
}

export async function nonEmptyTables(client: pg.ClientBase, schema: string, tables: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const t of tables) if (await hasRows(client, schema, t)) out.add(t);
  return out;
}

/** Columns that can be written back (not generated), for the backup restore. */
async function writableColumns(client: pg.ClientBase, schema: string, table: string): Promise<string[]> {
  const r = await client.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum`,
    [schema, table],
  );
  return r.rows.map((x) => x.name);
}

/** Empties loaded tables: one TRUNCATE when nothing outside references them, else DELETEs children first. */
export function emptyTablesSql(schema: string, loadOrder: string[], referencedFromOutside: boolean): string {
  if (loadOrder.length === 0) return 'SELECT 1';
  if (!referencedFromOutside) return `TRUNCATE TABLE ${loadOrder.map((t) => qualified(schema, t)).join(', ')}`;
  return [...loadOrder].reverse().map((t) => `DELETE FROM ${qualified(schema, t)}`).join(';\n');
}

export function readdForeignKeySql(schema: string, fk: DroppedForeignKey): string {
  const rel = quoteLiteral(qualified(schema, fk.table));
  const name = quoteLiteral(fk.name);
  const add = `ALTER TABLE ${qualified(schema, fk.table)} ADD CONSTRAINT ${quoteIdent(fk.name)} ${fk.definition}${fk.validated ? '' : ' NOT VALID'}`;
  const validate = fk.validated
    ? ` ELSIF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(${rel}) AND conname = ${name} AND NOT convalidated) THEN ALTER TABLE ${qualified(schema, fk.table)} VALIDATE CONSTRAINT ${quoteIdent(fk.name)};`
    : '';
  return (
    `DO $cutover$ BEGIN IF to_regclass(${rel}) IS NULL THEN RETURN; END IF; ` +
    `IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(${rel}) AND conname = ${name}) THEN ${add};${validate} END IF; END $cutover$`
  );
}

export interface PrepareResult {
  truncated: string[];
  droppedForeignKeys: string[];
  backups: string[];
}

/** Before the copy. Idempotent: a retry finds its own records and does not repeat a step. */
export async function prepareLoad(client: pg.ClientBase, runId: string, plan: ExistingPlan): Promise<PrepareResult> {
  const schema = plan.targetSchema;
  const ex = plan.existing;
  const result: PrepareResult = { truncated: [], droppedForeignKeys: [], backups: [] };
  const loadedDone = await state.objectExists(client, runId, 'loaded rows', schema);
  if (!loadedDone) {
    if (ex.truncate) {
      if (!(await state.objectExists(client, runId, 'truncated rows', schema))) {
        await inTransaction(client, async () => {
          // Locks first, so nobody writes between the backup and the TRUNCATE.
          if (ex.loaded.length) await client.query(`LOCK TABLE ${ex.loaded.map((t) => qualified(schema, t)).join(', ')} IN ACCESS EXCLUSIVE MODE`);
          const restore: string[] = [];
          const drops: string[] = [];
          for (const t of ex.loaded) {
            if (!(await hasRows(client, schema, t))) continue;
            const bk = backupTableName(runId, t);
            await client.query(`CREATE TABLE ${qualified('cutover', bk)} AS SELECT * FROM ${qualified(schema, t)}`);
            const cols = (await writableColumns(client, schema, t)).map(quoteIdent).join(', ');
            restore.push(`INSERT INTO ${qualified(schema, t)} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM ${qualified('cutover', bk)}`);
            drops.push(`DROP TABLE IF EXISTS ${qualified('cutover', bk)}`);
            result.truncated.push(t);
            result.backups.push(`cutover.${bk}`);
          }
          if (result.truncated.length) {
            await client.query(emptyTablesSql(schema, ex.loaded, ex.referencedFromOutside));
            // The undo empties the tables again (idempotent), then puts the rows back, parents first.
            const undo = [emptyTablesSql(schema, ex.loaded, ex.referencedFromOutside), ...restore, ...drops].join(';\n');
            await state.recordObject(client, runId, { kind: 'truncated rows', name: schema, undoSql: undo });
          } else {
            await state.recordObject(client, runId, { kind: 'truncated rows', name: schema, undoSql: 'SELECT 1' });
          }
        });
      }
    } else {
      const rows = await nonEmptyTables(client, schema, ex.loaded);
      if (rows.size > 0) {
        throw new LoadError(
          `target table(s) ${[...rows].join(', ')} in schema "${schema}" received rows after the plan was made (someone else is writing there). Nothing was copied. Stop that writer, then start a new run (or pass truncate).`,
        );
      }
    }
    for (const fk of ex.droppedForeignKeys) {
      const name = `${fk.table}.${fk.name}`;
      if (await state.objectExists(client, runId, 'foreign key', name)) continue;
      await inTransaction(client, async () => {
        await state.recordObject(client, runId, { kind: 'foreign key', name, undoSql: readdForeignKeySql(schema, fk) });
        await client.query(`ALTER TABLE ${qualified(schema, fk.table)} DROP CONSTRAINT IF EXISTS ${quoteIdent(fk.name)}`);
      });
      result.droppedForeignKeys.push(name);
    }
    // Recorded last, so the rollback (newest first) empties the loaded tables before re-adding
    // the foreign keys and restoring truncated rows.
    await state.recordObject(client, runId, { kind: 'loaded rows', name: schema, undoSql: emptyTablesSql(schema, ex.loaded, ex.referencedFromOutside) });
  }
  return result;
}

/** After the copy: every dropped FK back, NOT VALID, then validated (unless orphans "keep"). */
export async function restoreForeignKeys(client: pg.ClientBase, plan: ExistingPlan): Promise<{ restored: string[]; warnings: string[] }> {
  const schema = plan.targetSchema;
  const restored: string[] = [];
  const warnings: string[] = [];
  for (const fk of plan.existing.droppedForeignKeys) {
    const exists = await client.query(`SELECT convalidated FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2`, [qualified(schema, fk.table), fk.name]);
    if (exists.rowCount === 0) {
      await client.query(`ALTER TABLE ${qualified(schema, fk.table)} ADD CONSTRAINT ${quoteIdent(fk.name)} ${fk.definition} NOT VALID`);
    }
    restored.push(`${fk.table}.${fk.name}`);
    if (fk.restore !== 'validate') {
      warnings.push(`${fk.table}: foreign key ${fk.name} restored NOT VALID${fk.why === 'orphans keep' ? ' on purpose (orphans "keep")' : ' (it was NOT VALID before the run)'}`);
      continue;
    }
    try {
      await client.query(`ALTER TABLE ${qualified(schema, fk.table)} VALIDATE CONSTRAINT ${quoteIdent(fk.name)}`);
    } catch (err) {
      if ((err as { code?: string }).code !== '23503') throw err;
      warnings.push(`${fk.table}: foreign key ${fk.name} restored but left NOT VALID: ${(err as Error).message}`);
    }
  }
  return { restored, warnings };
}

/** GRANT USAGE on the schema and SELECT on the tables to `role`; the undo revokes what was granted. */
export async function grantSelect(client: pg.ClientBase, runId: string, schema: string, tables: string[], role: string): Promise<{ granted: string[] }> {
  const exists = await client.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [role]);
  if (exists.rowCount === 0) throw new LoadError(`grantSelect: role "${role}" does not exist in the target. Create it (CREATE ROLE ${quoteIdent(role)} LOGIN …) or fix the name, then start a new run.`);
  if (await state.objectExists(client, runId, 'grant', role)) return { granted: [] };
  const granted: string[] = [];
  const revoke: string[] = [];
  await inTransaction(client, async () => {
    const usage = await client.query<{ ok: boolean }>(`SELECT has_schema_privilege($1, $2, 'USAGE') AS ok`, [role, schema]);
    if (!usage.rows[0]?.ok) {
      await client.query(`GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(role)}`);
      revoke.push(`REVOKE USAGE ON SCHEMA ${quoteIdent(schema)} FROM ${quoteIdent(role)}`);
      granted.push(`USAGE on schema ${schema}`);
    }
    const need: string[] = [];
    for (const t of tables) {
      const r = await client.query<{ ok: boolean }>(`SELECT has_table_privilege($1, $2, 'SELECT') AS ok`, [role, qualified(schema, t)]);
      if (!r.rows[0]?.ok) need.push(t);
    }
    if (need.length) {
      const list = need.map((t) => qualified(schema, t)).join(', ');
      await client.query(`GRANT SELECT ON TABLE ${list} TO ${quoteIdent(role)}`);
      revoke.unshift(`REVOKE SELECT ON TABLE ${need.map((t) => `${qualified(schema, t)}`).join(', ')} FROM ${quoteIdent(role)}`);
      granted.push(...need.map((t) => `SELECT on ${schema}.${t}`));
    }
    // The undo tolerates tables that an earlier undo step dropped.
    const undo = revoke.length
      ? `DO $cutover$ BEGIN ${revoke.map((s) => `BEGIN EXECUTE ${quoteLiteral(s)}; EXCEPTION WHEN undefined_table OR undefined_object OR invalid_schema_name THEN NULL; END;`).join(' ')} END $cutover$`
      : 'SELECT 1';
    await state.recordObject(client, runId, { kind: 'grant', name: role, undoSql: undo });
  });
  return { granted };
}
