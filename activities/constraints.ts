// Phases 6 and 7: keys, indexes and FKs after the data; identities past every used id.
import { Context } from '@temporalio/activity';
import { derivedName } from '../src/plan/identifiers';
import type pg from 'pg';
import { inTransaction, withClient } from '../src/postgres/connect';
import * as ddl from '../src/postgres/ddl';
import { describePgError } from '../src/postgres/errors';
import * as state from '../src/postgres/state';
import { constraintExists, relationExists } from './catalog';
import type { ActivityDeps } from './deps';
import { heartbeatWhile } from './heartbeat';
import { loadRunPlan, type RunRef } from './run-context';
import type { TablePlan } from '../src/types';
import { inParallel } from '../src/concurrency';

export function constraintActivities(deps: ActivityDeps) {
  return {
    /**
     * One table's keys and indexes, right after its copy: the index builds of one
     * table overlap the copies of others, and checksums read by key range.
     */
    async buildTableKeys(run: RunRef & { table: string }): Promise<{ created: string[]; warnings: string[] }> {
      const { pool, plan } = await loadRunPlan(deps, run);
      const created: string[] = [];
      const warnings: string[] = [];
      // An application's own schema already has its keys.
      if (plan.mode === 'existing') return { created, warnings };
      const t = plan.tables.find((x) => x.source === run.table);
      if (!t) return { created, warnings };
      const attempt = ddlAttempt(warnings);
      await heartbeatWhile({ table: t.source }, () => withClient(pool, (client) => buildKeys(client, plan.targetSchema, t, attempt, created, warnings)));
      return { created, warnings };
    },

    async buildConstraints(run: RunRef): Promise<{ created: string[]; warnings: string[] }> {
      const { pool, plan } = await loadRunPlan(deps, run);
      const schema = plan.targetSchema;
      const created: string[] = [];
      const warnings: string[] = [];
      const attempt = ddlAttempt(warnings);
      // Validations to run once everything exists, per table (a table's run one after the other: each
      // takes the table's SHARE UPDATE EXCLUSIVE lock).
      const validations: { table: TablePlan; steps: Validation[] }[] = plan.tables.map((table) => ({ table, steps: [] }));
      await heartbeatWhile({ phase: 'constraints' }, () => withClient(pool, async (client) => {
        // Keys, then every CHECK and foreign key added NOT VALID, in one session: adding a foreign key
        // locks both of its tables, so two sessions adding them crosswise could deadlock.
        for (const [i, t] of plan.tables.entries()) {
          Context.current().heartbeat({ table: t.source });
          await buildKeys(client, schema, t, attempt, created, warnings);
          for (const ck of t.checks) {
            if (ck.pgSql === null) continue;
            if (!(await constraintExists(client, schema, t.target, ck.name))) {
              if (!(await attempt(client, ddl.addCheckSql(schema, t.target, ck.name, ck.pgSql), `${t.source}: CHECK (${ck.sourceSql})`))) continue;
              created.push(ck.name);
            }
            validations[i]!.steps.push({ kind: 'check', name: ck.name, pgSql: ck.pgSql });
          }
        }
        for (const [i, t] of plan.tables.entries()) {
          for (const fk of t.foreignKeys) {
            const ref = plan.tables.find((x) => x.source === fk.refTable) ?? plan.tables.find((x) => x.source.toLowerCase() === fk.refTable.toLowerCase());
            if (!ref) continue;
            const refCols = fk.refColumns.every((c) => c === '') ? ref.primaryKey ?? [] : fk.refColumns;
            const refTargets = refCols.map((c) => ref.columns.find((x) => x.source.toLowerCase() === c.toLowerCase())?.target ?? c);
            const unique =
              (ref.primaryKey && sameCols(ref.primaryKey, refCols)) || ref.uniques.some((u) => sameCols(u, refCols)) || ref.indexes.some((ix) => ix.unique && !ix.whereSql && !ix.keys && sameCols(ix.columns, refCols));
            if (!unique || refTargets.length !== fk.columns.length) {
              warnings.push(`${t.source}: foreign key ${fk.name} → ${fk.refTable}(${refCols.join(', ')}) skipped: the referenced columns are not a primary key or unique in the source, which PostgreSQL requires`);
              continue;
            }
            if (!(await constraintExists(client, schema, t.target, fk.name))) {
              if (!(await attempt(client, ddl.addForeignKeySql(schema, t, fk, ref.target, refTargets), `${t.source}: foreign key ${fk.name}`))) continue;
              created.push(fk.name);
            }
            if (fk.orphans?.policy === 'keep') {
              warnings.push(`${t.source}: foreign key ${fk.name} left NOT VALID on purpose (orphans "keep"): ${fk.orphans.count} row(s) reference no parent, e.g. ${fk.orphans.examples.join('; ')}`);
              continue;
            }
            validations[i]!.steps.push({ kind: 'fk', name: fk.name });
          }
        }
      }));
      // The validations scan whole tables (≈ 0.2 s for the bench's 2M candles): tables in parallel
      // sessions. Validating takes SHARE UPDATE EXCLUSIVE on the table and ROW SHARE on a referenced
      // one, which do not conflict: no session waits for another. Warnings in plan order.
      const validated = await inParallel(
        validations.filter((v) => v.steps.length > 0),
        VALIDATION_SESSIONS,
        (v) => heartbeatWhile({ phase: 'constraints', validating: v.table.source }, () => withClient(pool, (client) => validateTable(client, schema, v.table, v.steps))),
      );
      for (const w of validated) warnings.push(...w);
      await heartbeatWhile({ phase: 'constraints' }, () => withClient(pool, async (client) => {
        // Views last: they need the tables (and possibly each other: retry until no progress).
        let pending = (plan.views ?? []).filter((v) => v.pgSql !== null);
        const errors = new Map<string, string>();
        for (let progress = true; pending.length > 0 && progress; ) {
          progress = false;
          const next: typeof pending = [];
          for (const v of pending) {
            if (await state.objectExists(client, run.runId, 'view', v.target)) {
              progress = true;
              continue;
            }
            try {
              await inTransaction(client, async () => {
                await client.query(`SET LOCAL search_path TO ${quote(schema)}`);
                await client.query(v.pgSql!);
                await state.recordObject(client, run.runId, { kind: 'view', name: v.target, undoSql: ddl.dropViewSql(schema, v.target) });
              });
              created.push(`view ${v.target}`);
              progress = true;
            } catch (err) {
              if (!isDdlRefusal(err)) throw err;
              errors.set(v.name, describePgError(err));
              next.push(v);
            }
          }
          pending = next;
        }
        for (const v of pending) warnings.push(`view ${v.name} not migrated: PostgreSQL refused the translation (${errors.get(v.name)}). SQLite SQL: ${v.sourceSql} — translated: ${v.pgSql}`);
      }));
      return { created, warnings };
    },

    async setSequences(run: RunRef): Promise<{ sequences: { table: string; column: string; next: string }[] }> {
      const { pool, plan } = await loadRunPlan(deps, run);
      const out: { table: string; column: string; next: string }[] = [];
      await withClient(pool, async (client) => {
        for (const t of plan.tables) {
          for (const c of t.columns) {
            if (!c.identity) continue;
            await client.query(ddl.setIdentitySql(plan.targetSchema, t.target, c.target, t.sqliteSequence));
            const seqName = (
              await client.query<{ seq: string | null }>(`SELECT pg_get_serial_sequence($1, $2) AS seq`, [
                `${quote(plan.targetSchema)}.${quote(t.target)}`,
                c.target,
              ])
            ).rows[0]?.seq;
            // seqName comes back from PostgreSQL already quoted and qualified.
            const seq = seqName
              ? await client.query<{ next: string }>(`SELECT (CASE WHEN is_called THEN last_value + 1 ELSE last_value END)::text AS next FROM ${seqName}`)
              : { rows: [] as { next: string }[] };
            out.push({ table: t.source, column: c.source, next: seq.rows[0]?.next ?? '?' });
          }
        }
      });
      return { sequences: out };
    },
  };
}

/** Sessions validating CHECKs and foreign keys at once (one table each). */
const VALIDATION_SESSIONS = 3;

type Validation = { kind: 'check'; name: string; pgSql: string } | { kind: 'fk'; name: string };

/** Validates one table's CHECKs and foreign keys (added NOT VALID); rows that violate one leave it NOT VALID, with a warning. */
async function validateTable(client: pg.PoolClient, schema: string, t: TablePlan, steps: Validation[]): Promise<string[]> {
  const warnings: string[] = [];
  for (const step of steps) {
    try {
      await client.query(ddl.validateConstraintSql(schema, t.target, step.name));
    } catch (err) {
      if (step.kind === 'check') {
        if (!isDdlRefusal(err)) throw err;
        // The data is the source's, exactly; SQLite accepted it under its own semantics. Keep the
        // CHECK for new rows (NOT VALID) and say which rows PostgreSQL reads differently.
        warnings.push(`${t.source}: CHECK ${step.name} (${step.pgSql}) left NOT VALID: existing rows violate it in PostgreSQL (${describePgError(err)}); SQLite's semantics differ for them. Find them with SELECT * FROM ${quote(schema)}.${quote(t.target)} WHERE NOT (${step.pgSql})`);
      } else {
        if ((err as { code?: string }).code !== '23503') throw err;
        warnings.push(`${t.source}: foreign key ${step.name} left NOT VALID: ${describePgError(err)}`);
      }
    }
  }
  return warnings;
}

function quote(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

function sameCols(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x.toLowerCase() === b[i]!.toLowerCase());
}

/**
 * Errors where PostgreSQL refuses a constraint, index or view because of the data or the
 * translation (class 22 data, 23 integrity, 42 syntax/undefined/datatype), not the connection.
 */
/** Runs one DDL statement; a refusal PostgreSQL bases on the data or the types becomes a warning. */
function ddlAttempt(warnings: string[]) {
  return async (client: pg.PoolClient, sql: string, what: string): Promise<boolean> => {
    try {
      await client.query(sql);
      return true;
    } catch (err) {
      if (!isDdlRefusal(err)) throw err;
      warnings.push(`${what} not created: ${describePgError(err)} (SQL: ${sql})`);
      return false;
    }
  };
}

function isDdlRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^(22|23|42|0A)/.test(code);
}

/** PK, UNIQUEs and indexes of one table: idempotent (what exists is skipped). */
async function buildKeys(
  client: pg.PoolClient,
  schema: string,
  t: TablePlan,
  attempt: (client: pg.PoolClient, sql: string, what: string) => Promise<boolean>,
  created: string[],
  warnings: string[],
): Promise<void> {
  const pkName = t.pkName ?? derivedName(t.target, 'pkey');
  const pkSql = ddl.primaryKeySql(schema, t, pkName);
  if (pkSql && !(await constraintExists(client, schema, t.target, pkName))) {
    if (await attempt(client, pkSql, `${t.source}: primary key (${(t.primaryKey ?? []).join(', ')})`)) created.push(pkName);
  }
  for (const [i, cols] of t.uniques.entries()) {
    const name = t.uniqueNames?.[i] ?? derivedName(t.target, `${cols.join('_')}_key${i ? i + 1 : ''}`);
    if (await constraintExists(client, schema, t.target, name)) continue;
    if (await attempt(client, ddl.uniqueSql(schema, t, cols, name), `${t.source}: UNIQUE (${cols.join(', ')})`)) created.push(name);
  }
  for (const ix of t.indexes) {
    if (await relationExists(client, schema, ix.targetName)) continue;
    try {
      await client.query(ddl.createIndexSql(schema, t, ix));
      created.push(ix.targetName);
    } catch (err) {
      if (!isDdlRefusal(err)) throw err;
      if (ix.fallbackKeys && (err as { code?: string }).code === '23505') {
        const sql = ddl.createIndexSql(schema, t, ix, ix.fallbackKeys);
        if (await attempt(client, sql, `${t.source}: index ${ix.name}`)) {
          created.push(ix.targetName);
          warnings.push(`${t.source}: unique index ${ix.name} created on the exact values, not case-folded: ${describePgError(err)}`);
        }
      } else warnings.push(`${t.source}: index ${ix.name} not created: ${describePgError(err)} (SQLite: ${ix.sql ?? 'autoindex'})`);
    }
  }
}
