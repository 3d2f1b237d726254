// Phases 6 and 7: keys, indexes and FKs after the data; identities past every used id.
import { Context } from '@temporalio/activity';
import { derivedName } from '../src/plan/identifiers';
import { withClient } from '../src/postgres/connect';
import * as ddl from '../src/postgres/ddl';
import { describePgError } from '../src/postgres/errors';
import { constraintExists, relationExists } from './catalog';
import type { ActivityDeps } from './deps';
import { loadRunPlan, type RunRef } from './run-context';

export function constraintActivities(deps: ActivityDeps) {
  return {
    async buildConstraints(run: RunRef): Promise<{ created: string[]; warnings: string[] }> {
      const { pool, plan } = await loadRunPlan(deps, run);
      const schema = plan.targetSchema;
      const created: string[] = [];
      const warnings: string[] = [];
      await withClient(pool, async (client) => {
        for (const t of plan.tables) {
          Context.current().heartbeat({ table: t.source });
          const pkName = derivedName(t.target, 'pkey');
          const pkSql = ddl.primaryKeySql(schema, t, pkName);
          if (pkSql && !(await constraintExists(client, schema, t.target, pkName))) {
            await client.query(pkSql);
            created.push(pkName);
          }
          for (const [i, cols] of t.uniques.entries()) {
            const name = derivedName(t.target, `${cols.join('_')}_key${i ? i + 1 : ''}`);
            if (await constraintExists(client, schema, t.target, name)) continue;
            await client.query(ddl.uniqueSql(schema, t, cols, name));
            created.push(name);
          }
          for (const ix of t.indexes) {
            if (await relationExists(client, schema, ix.targetName)) continue;
            await client.query(ddl.createIndexSql(schema, t, ix));
            created.push(ix.targetName);
          }
        }
        for (const t of plan.tables) {
          for (const fk of t.foreignKeys) {
            const ref = plan.tables.find((x) => x.source === fk.refTable) ?? plan.tables.find((x) => x.source.toLowerCase() === fk.refTable.toLowerCase());
            if (!ref) continue;
            const refCols = fk.refColumns.every((c) => c === '') ? ref.primaryKey ?? [] : fk.refColumns;
            const refTargets = refCols.map((c) => ref.columns.find((x) => x.source.toLowerCase() === c.toLowerCase())?.target ?? c);
            const unique =
              (ref.primaryKey && sameCols(ref.primaryKey, refCols)) || ref.uniques.some((u) => sameCols(u, refCols)) || ref.indexes.some((ix) => ix.unique && !ix.whereSql && sameCols(ix.columns, refCols));
            if (!unique || refTargets.length !== fk.columns.length) {
              warnings.push(`${t.source}: foreign key ${fk.name} → ${fk.refTable}(${refCols.join(', ')}) skipped: the referenced columns are not a primary key or unique in the source, which PostgreSQL requires`);
              continue;
            }
            if (!(await constraintExists(client, schema, t.target, fk.name))) {
              await client.query(ddl.addForeignKeySql(schema, t, fk, ref.target, refTargets));
              created.push(fk.name);
            }
            try {
              await client.query(ddl.validateConstraintSql(schema, t.target, fk.name));
            } catch (err) {
              if ((err as { code?: string }).code !== '23503') throw err;
              warnings.push(`${t.source}: foreign key ${fk.name} left NOT VALID: ${describePgError(err)}`);
            }
          }
        }
      });
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

function quote(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

function sameCols(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x.toLowerCase() === b[i]!.toLowerCase());
}
