// The speculative plan: large tables are typed from a sample of their rows, and the copy proves it.
//
// Choosing a column's PostgreSQL type needs facts about every value (SQLite does not enforce
// declared types), and gathering them was a whole extra read of the source before the copy —
// a quarter of a migration's time. A large table is now planned from a sample (profileSample),
// and its copy gathers the facts of every row it reads (profile-parts.ts), committed with each
// checkpoint. Once the table is copied, the plan is built again from those facts
// (confirmTablePlan): the same types and converters → the copy stands, exactly as an exact plan
// would have made it (same values through the same converters); different ones → the table is
// emptied, re-created with the types of its full profile and copied again. Either way the result
// is the one an exact plan gives; a wrong guess costs one more copy of that table.
//
// Only tables whose foreign-key columns (either side) are integers in the sample plan are
// speculative: the one cross-table rule of the plan (a text column referencing a uuid becomes
// uuid) then cannot make one table's types depend on another's values.
import type { ColumnProfile } from '../sqlite/types';
import type { SqliteSchema } from '../sqlite/introspect';
import type { ColumnPlan, MigrationPlan, TablePlan } from '../types';
import type { PlanOptions } from './build-plan';
import { sortedKeysJson } from '../sorted-keys-json';

/** sample: typed from a sample, copy not yet confirmed; confirmed: the full profile agreed; redone: it did not, re-created and copied again. */
export type SpeculationStatus = 'sample' | 'confirmed' | 'redone';

export interface PlanSpeculation {
  tables: Record<string, SpeculationStatus>;
  /** The profiles the plan was built from (samples for speculative tables, then their full profiles). */
  profiles: Record<string, Record<string, ColumnProfile>>;
  options: PlanOptions;
  /** The source's schema as introspected for the plan (schemaToJson): confirming a table needs no second introspection (it counts every table's rows). */
  schema?: unknown;
  /** Per redone table: what did not hold (reported as a warning). */
  notes?: Record<string, string>;
}

/** Tables at least this large are planned from a sample (CUTOVER_SPECULATE_MIN_ROWS; CUTOVER_EXACT_PLAN=1: none). */
export const SPECULATE_MIN_ROWS = 100_000;

export function speculateMinRows(env: NodeJS.ProcessEnv = process.env): number | null {
  if (env.CUTOVER_EXACT_PLAN === '1') return null;
  const v = env.CUTOVER_SPECULATE_MIN_ROWS;
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (Number.isInteger(n) && n >= 1) return n;
  }
  return SPECULATE_MIN_ROWS;
}

/** The tables of `plan` (built from samples for `sampled`) that must not stay speculative: a foreign-key column, either side, that is not an integer. */
export function notSpeculable(plan: MigrationPlan, sampled: Set<string>): string[] {
  const bad = new Set<string>();
  const isInt = (t: TablePlan | undefined, col: string): boolean => {
    const c = t?.columns.find((x) => x.source.toLowerCase() === col.toLowerCase());
    return c !== undefined && c.converter.kind === 'integer';
  };
  const find = (name: string) => plan.tables.find((x) => x.source === name) ?? plan.tables.find((x) => x.source.toLowerCase() === name.toLowerCase());
  for (const t of plan.tables) {
    for (const fk of t.foreignKeys) {
      const ref = find(fk.refTable);
      const refCols = fk.refColumns.every((c) => c === '') ? (ref?.primaryKey ?? []) : fk.refColumns;
      const childOk = fk.columns.every((c) => isInt(t, c));
      const parentOk = ref !== undefined && refCols.length === fk.columns.length && refCols.every((c) => isInt(ref, c));
      if (!(childOk && parentOk)) {
        if (sampled.has(t.source)) bad.add(t.source);
        if (ref && sampled.has(ref.source)) bad.add(ref.source);
      }
    }
  }
  return [...bad];
}

/** What of a column decides its data: everything but the explanations. */
function columnShape(c: ColumnPlan): unknown {
  const { reason: _r, warnings: _w, suggestions: _s, ...rest } = c;
  return rest;
}

function tableShape(t: TablePlan): string {
  const { warnings: _w, columns, ...rest } = t;
  return sortedKeysJson({ ...rest, columns: columns.map(columnShape) });
}

/**
 * Null when `after` copies and constrains exactly as `before` does (only explanations differ);
 * else what differs, for the on-call: "price: numeric(10,2) → numeric; qty: integer → bigint".
 */
export function planDifference(before: TablePlan, after: TablePlan): string | null {
  if (tableShape(before) === tableShape(after)) return null;
  const parts: string[] = [];
  for (const a of after.columns) {
    const b = before.columns.find((x) => x.source === a.source);
    if (!b) parts.push(`${a.source}: new column`);
    else if (sortedKeysJson(columnShape(a)) !== sortedKeysJson(columnShape(b))) {
      parts.push(b.pgType === a.pgType ? `${a.source}: ${a.pgType} (${sortedKeysJson(columnShape(b))} → ${sortedKeysJson(columnShape(a))})` : `${a.source}: ${b.pgType} → ${a.pgType}`);
    }
  }
  return parts.length ? parts.join('; ') : 'table definition';
}

/** A table's column warnings as the plan phase reports them ("table.column: …"): of a speculative table, reported once confirmed. */
export function columnWarnings(t: TablePlan): string[] {
  const out: string[] = [];
  for (const c of t.columns) for (const w of c.warnings) out.push(`${t.source}.${c.source}: ${w}`);
  return out;
}

/** The schema as plain JSON (its 64-bit integers as {"$bigint": "…"}), to store with the plan. */
export function schemaToJson(schema: SqliteSchema): unknown {
  return JSON.parse(JSON.stringify(schema, (_k, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v)));
}

export function schemaFromJson(json: unknown): SqliteSchema {
  return JSON.parse(JSON.stringify(json), (_k, v: unknown) =>
    v && typeof v === 'object' && typeof (v as { $bigint?: unknown }).$bigint === 'string' ? BigInt((v as { $bigint: string }).$bigint) : v,
  ) as SqliteSchema;
}
