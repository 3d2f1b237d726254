// Turns what introspection found (and the value profiles) into a migration
// plan: target names, types, converters, keys, constraints. Pure.
import { BUILTIN_COLLATIONS, type SqliteIndex, type SqliteSchema, type SqliteTable } from '../sqlite/introspect';
import type { ColumnProfile } from '../sqlite/types';
import type { CheckPlan, ColumnPlan, ForeignKeyPlan, IdentifierMode, IndexPlan, KeyPlan, MigrationPlan, OrphanPolicy, SkippedObject, TablePlan, ViewPlan } from '../types';
import { rowidName } from '../sqlite/reader';
import { parseIndexKeys } from '../sqlite/sql-text';
import { assignIdentifiers, derivedName, transformName } from './identifiers';
import { mapColumn, translateDefault } from './typemap';
import { pgTypeKind, quotePgIdent, translateExpr, translateIndexKey, type ExprColumn, type ExprContext } from './expr';
import type { OrphanFinding } from './orphans';
import { translateView } from './view';

export interface PlanOptions {
  targetSchema: string;
  map: Record<string, string>;
  infer: boolean;
  /** --identifiers (default keep). */
  identifiers?: IdentifierMode;
  /** --orphans (default fail) and what PRAGMA foreign_key_check found (see findOrphans). */
  orphans?: OrphanPolicy;
  orphanFindings?: OrphanFinding[];
  /** --on-nul / --on-invalid-utf8 (default reject). */
  onNul?: 'reject' | 'strip';
  onInvalidUtf8?: 'reject' | 'replace';
}

export class PlanError extends Error {}

/** Validates --map keys against the source before anything else: a typo must not be ignored. */
function checkOverrides(schema: SqliteSchema, map: Record<string, string>): void {
  const problems: string[] = [];
  for (const key of Object.keys(map)) {
    const dot = key.lastIndexOf('.');
    const table = key.slice(0, dot);
    const column = key.slice(dot + 1);
    const t = schema.tables.find((x) => x.name === table);
    if (dot <= 0 || !t) problems.push(`--map ${key}: no table "${table}" in the source`);
    else if (!t.columns.some((c) => c.name === column)) problems.push(`--map ${key}: table "${table}" has no column "${column}"`);
  }
  if (problems.length) throw new PlanError(`${problems.join('; ')}. Use table.column with names exactly as in the source.`);
}

export function buildPlan(
  source: string,
  schema: SqliteSchema,
  profiles: Record<string, Record<string, ColumnProfile>>,
  opts: PlanOptions,
): MigrationPlan {
  checkOverrides(schema, opts.map);
  const mode = opts.identifiers ?? 'keep';
  const warnings: string[] = [];
  // Tables, views, indexes and index-backed constraints share one namespace in PostgreSQL.
  const relations = new Set<string>();
  const tableNames = assignIdentifiers(
    schema.tables.map((t) => t.name),
    'table',
    mode,
    relations,
  );
  warnings.push(...tableNames.notes);

  const skipped: SkippedObject[] = [...schema.skipped];
  for (const tr of schema.triggers)
    skipped.push({
      kind: 'trigger',
      name: tr.name,
      reason: `trigger on "${tr.table}" not migrated: SQLite trigger bodies are not PostgreSQL; rewrite it as a PL/pgSQL trigger`,
      sql: tr.sql,
    });

  const tables = schema.tables.map((t) => planTable(t, tableNames.names.get(t.name)!, profiles[t.name] ?? {}, opts, skipped, mode));
  // FK targets by target table name (resolved now, so the constraint phase needs only the plan).
  for (const t of tables) {
    t.foreignKeys = t.foreignKeys.filter((fk) => {
      const ref = tables.find((x) => x.source === fk.refTable) ?? tables.find((x) => x.source.toLowerCase() === fk.refTable.toLowerCase());
      if (!ref) {
        t.warnings.push(`foreign key ${fk.name} references missing table "${fk.refTable}": skipped`);
        return false;
      }
      return true;
    });
  }
  alignForeignKeyTypes(tables, profiles);
  applyTextPolicies(tables, opts);
  nameRelations(tables, relations, mode, warnings);
  applyOrphans(tables, opts, warnings);
  const views = planViews(schema, tables, relations, mode, skipped, warnings);
  return { source, targetSchema: opts.targetSchema, tables, skipped, warnings, views, identifiers: mode, orphans: opts.orphans ?? 'fail' };
}

/** PK, UNIQUE and index names: unique among every relation of the target schema. */
function nameRelations(tables: TablePlan[], relations: Set<string>, mode: IdentifierMode, warnings: string[]): void {
  for (const t of tables) {
    const pk = t.primaryKey ? assignIdentifiers([derivedName(t.target, 'pkey')], `primary key of "${t.source}"`, mode, relations) : null;
    if (pk) t.pkName = [...pk.names.values()][0]!;
    t.uniqueNames = t.uniques.map((cols, i) => {
      const base = derivedName(t.target, `${cols.map((c) => t.columns.find((x) => x.source === c)?.target ?? c).join('_')}_key${i ? i + 1 : ''}`);
      const m = assignIdentifiers([base], `unique constraint of "${t.source}"`, mode, relations);
      warnings.push(...m.notes);
      return m.names.get(base)!;
    });
    for (const ix of t.indexes) {
      const m = assignIdentifiers([ix.name], 'index', mode, relations);
      if (m.names.get(ix.name) !== transformName(ix.name, mode)) warnings.push(...m.notes);
      ix.targetName = m.names.get(ix.name)!;
    }
  }
}

function applyOrphans(tables: TablePlan[], opts: PlanOptions, warnings: string[]): void {
  const policy = opts.orphans ?? 'fail';
  for (const f of opts.orphanFindings ?? []) {
    const t = tables.find((x) => x.source === f.table);
    const fk = t?.foreignKeys.find((x) => x.sqliteId === f.fkId);
    if (!t || !fk) continue;
    if (policy === 'fail') {
      warnings.push(`${f.table}: ${f.count} orphan row(s) for foreign key ${f.fk} (policy "fail": the run stops before copying)`);
      continue;
    }
    fk.orphans = { count: f.count, examples: f.examples, policy, sqliteWhere: f.sqliteWhere };
    if (policy === 'reject') {
      (t.rejectWhere ??= []).push({ sqliteWhere: f.sqliteWhere, reason: `orphan: foreign key ${f.fk} has no parent row` });
      t.warnings.push(`${f.count} orphan row(s) for foreign key ${fk.name} go to cutover.rejects (orphans "reject"), e.g. ${f.examples.join('; ')}`);
    } else {
      t.warnings.push(`${f.count} orphan row(s) for foreign key ${fk.name} are loaded; the foreign key stays NOT VALID (orphans "keep"), e.g. ${f.examples.join('; ')}`);
    }
  }
}

function planViews(schema: SqliteSchema, tables: TablePlan[], relations: Set<string>, mode: IdentifierMode, skipped: SkippedObject[], warnings: string[]): ViewPlan[] {
  const viewNames = assignIdentifiers(
    schema.views.map((v) => v.name),
    'view',
    mode,
    relations,
  );
  warnings.push(...viewNames.notes);
  const rels = new Map<string, string>();
  for (const t of tables) rels.set(t.source.toLowerCase(), t.target);
  for (const v of schema.views) rels.set(v.name.toLowerCase(), viewNames.names.get(v.name)!);
  const columns = new Map<string, Set<string>>();
  for (const t of tables) for (const c of t.columns) {
    const k = c.source.toLowerCase();
    if (!columns.has(k)) columns.set(k, new Set());
    columns.get(k)!.add(c.target);
  }
  const booleans = new Set<string>();
  const nonBoolean = new Set<string>();
  for (const t of tables) for (const c of t.columns) (c.pgType === 'boolean' ? booleans : nonBoolean).add(c.source.toLowerCase());
  for (const n of nonBoolean) booleans.delete(n);
  const out: ViewPlan[] = [];
  for (const v of schema.views) {
    const target = viewNames.names.get(v.name)!;
    const r = translateView(v.sql, { relations: rels, columns, booleans });
    if (!r.ok) {
      skipped.push({ kind: 'view', name: v.name, reason: `view not migrated: ${r.reason}; recreate it in PostgreSQL`, sql: v.sql });
      continue;
    }
    const cols = r.columns ? ` (${r.columns.map((c) => quotePgIdent(transformName(c, mode))).join(', ')})` : '';
    out.push({
      name: v.name,
      target,
      sourceSql: v.sql,
      pgSql: `CREATE VIEW ${quotePgIdent(target)}${cols} AS ${r.select}`,
      reason: 'identifiers and functions translated; created after the data (skipped with a warning if PostgreSQL refuses it)',
    });
  }
  return out;
}

function planTable(
  t: SqliteTable,
  target: string,
  profiles: Record<string, ColumnProfile>,
  opts: PlanOptions,
  skipped: SkippedObject[],
  mode: IdentifierMode,
): TablePlan {
  const warnings: string[] = [];
  const copied = t.columns.filter((c) => c.hidden !== 1);
  const colNames = assignIdentifiers(
    copied.map((c) => c.name),
    `column of "${t.name}"`,
    mode,
  );
  warnings.push(...colNames.notes);

  const columns: ColumnPlan[] = copied.map((c) => {
    const isRowidAlias = t.rowidAlias === c.name;
    const override = opts.map[`${t.name}.${c.name}`] ?? null;
    const profile = profiles[c.name] ?? emptyProfile(t.rowCount);
    const mapped = mapColumn({ table: t.name, column: c, profile, isRowidAlias, override, infer: opts.infer, strict: t.strict });
    let defaultSql: string | null = null;
    const colWarnings = [...mapped.warnings];
    if (c.defaultSql !== null && !isRowidAlias) {
      const d = translateDefault(c.defaultSql, mapped.pgType);
      defaultSql = d.sql;
      if (d.warning) colWarnings.push(d.warning);
    }
    const generated = c.hidden === 2 || c.hidden === 3;
    if (generated)
      colWarnings.push('generated column: its values are copied and it becomes a plain column (the expression is not translated)');
    const coll = c.collation?.toUpperCase() ?? null;
    if (coll === 'NOCASE')
      colWarnings.push('COLLATE NOCASE: PostgreSQL compares this column case-sensitively; CHECKs and indexes on it use lower(), queries must too (or use citext)');
    else if (coll === 'RTRIM') colWarnings.push('COLLATE RTRIM: PostgreSQL does not ignore trailing spaces in comparisons; CHECKs and indexes on it use rtrim()');
    else if (coll !== null && !BUILTIN_COLLATIONS.has(coll))
      colWarnings.push(`COLLATE ${c.collation} is application-defined: values are copied exactly, PostgreSQL orders them with the database's default collation`);
    return {
      source: c.name,
      target: colNames.names.get(c.name)!,
      declaredType: c.declaredType,
      pgType: mapped.pgType,
      converter: mapped.converter,
      notNull: c.notNull || (t.withoutRowid && c.pkIndex > 0),
      defaultSql,
      identity: isRowidAlias && /^(bigint|integer|smallint)$/.test(mapped.pgType),
      generated,
      reason: mapped.reason,
      warnings: colWarnings,
      suggestions: mapped.suggestions,
    };
  });

  let key: KeyPlan;
  if (t.withoutRowid) key = { kind: 'pk', columns: t.primaryKey };
  else {
    const rid = rowidName(t.columns.map((c) => c.name));
    if (rid) key = { kind: 'rowid', columns: [rid], ...(t.rowidAlias ? { display: [t.rowidAlias] } : {}) };
    else if (t.primaryKey.length) key = { kind: 'pk', columns: t.primaryKey };
    else throw new PlanError(`table "${t.name}" has columns named rowid, _rowid_ and oid and no primary key: cutover cannot page through it. Rename a column in a copy of the database.`);
  }

  const exprCtx: ExprContext = {
    columns: new Map<string, ExprColumn>(
      columns.map((c) => [c.source.toLowerCase(), { target: c.target, pgType: c.pgType, collation: t.columns.find((x) => x.name === c.source)?.collation ?? null }]),
    ),
    tableNames: [t.name],
  };
  const uniques: string[][] = [];
  const indexes: IndexPlan[] = [];
  for (const ix of t.indexes) {
    if (ix.origin === 'pk') continue;
    const planned = planIndex(t, ix, columns, exprCtx);
    if ('skip' in planned) {
      skipped.push({ kind: 'index', name: ix.name, reason: `index on "${t.name}" not created: ${planned.skip}; recreate it in PostgreSQL`, sql: ix.sql });
      warnings.push(`index ${ix.name} not created: ${planned.skip}`);
      continue;
    }
    if (planned.constraint) {
      uniques.push(ix.columns as string[]);
      continue;
    }
    indexes.push(planned.index);
  }

  const constraintNames = new Set<string>();
  const foreignKeys: ForeignKeyPlan[] = t.foreignKeys.map((fk) => {
    const base = fk.name ?? derivedName(`${target}_${fk.columns.join('_')}`, 'fkey');
    const m = assignIdentifiers([base], `foreign key of "${t.name}"`, mode, constraintNames);
    warnings.push(...m.notes);
    return {
      name: m.names.get(base)!,
      columns: fk.columns,
      refTable: fk.refTable,
      refColumns: fk.refColumns.map((c) => c ?? ''),
      onDelete: fk.onDelete,
      onUpdate: fk.onUpdate,
      deferrable: fk.deferrable,
      sqliteId: fk.id,
    };
  });

  const checks: CheckPlan[] = t.checks.map((c, i) => {
    const base = c.name ?? derivedName(target, `check${i + 1}`);
    const m = assignIdentifiers([base], `CHECK of "${t.name}"`, mode, constraintNames);
    warnings.push(...m.notes);
    const r = translateExpr(c.expr, exprCtx, { condition: true });
    if (!r.ok) {
      warnings.push(`CHECK (${c.expr}) not created in PostgreSQL: ${r.reason}`);
      return { name: m.names.get(base)!, sourceSql: c.expr, pgSql: null, reason: r.reason };
    }
    return { name: m.names.get(base)!, sourceSql: c.expr, pgSql: r.sql, ...(r.notes.length ? { reason: r.notes.join('; ') } : {}) };
  });

  return {
    source: t.name,
    target,
    withoutRowid: t.withoutRowid,
    strict: t.strict,
    key,
    columns,
    primaryKey: t.primaryKey.length ? t.primaryKey : null,
    uniques,
    indexes,
    foreignKeys,
    checks,
    rowCount: t.rowCount,
    sqliteSequence: t.sqliteSequence === null ? null : t.sqliteSequence.toString(),
    warnings,
  };
}

type PlannedIndex = { skip: string } | { constraint: true } | { constraint: false; index: IndexPlan };

/** One SQLite index → a UNIQUE constraint, a PostgreSQL index, or a reason to skip it. */
function planIndex(t: SqliteTable, ix: SqliteIndex, columns: ColumnPlan[], ctx: ExprContext): PlannedIndex {
  const parsedKeys = ix.origin === 'c' ? parseIndexKeys(ix.sql) : null;
  const keys: string[] = [];
  const fallback: string[] = [];
  const notes: string[] = [];
  let plain = true;
  let folded = false;
  for (let i = 0; i < ix.columns.length; i++) {
    const col = ix.columns[i];
    const desc = ix.desc[i] ? ' DESC' : '';
    const coll = (ix.collations[i] ?? 'BINARY').toUpperCase();
    if (col === 'rowid') return { skip: 'it indexes the rowid, which does not exist in PostgreSQL' };
    if (col === null) {
      const expr = parsedKeys?.[i]?.expr;
      if (!expr) return { skip: 'its key expression could not be read' };
      const r = translateIndexKey(expr, ctx);
      if (!r.ok) return { skip: `key expression ${expr} is not portable (${r.reason})` };
      if (coll !== 'BINARY') return { skip: `key expression ${expr} uses COLLATE ${coll}` };
      keys.push(r.sql + desc);
      fallback.push(r.sql + desc);
      plain = false;
      continue;
    }
    const c = columns.find((x) => x.source === col) ?? columns.find((x) => x.source.toLowerCase() === col.toLowerCase());
    if (!c) return { skip: `column "${col}" is not migrated` };
    const q = quotePgIdent(c.target);
    const isText = pgTypeKind(c.pgType) === 'text';
    if (coll === 'NOCASE' && isText) {
      keys.push(`lower(${q})${desc}`);
      fallback.push(q + desc);
      notes.push(`"${col}" COLLATE NOCASE → lower(${q})`);
      plain = false;
      folded = true;
    } else if (coll === 'RTRIM' && isText) {
      keys.push(`rtrim(${q}, ' ')${desc}`);
      fallback.push(q + desc);
      notes.push(`"${col}" COLLATE RTRIM → rtrim(${q}, ' ')`);
      plain = false;
      folded = true;
    } else {
      if (!BUILTIN_COLLATIONS.has(coll)) notes.push(`"${col}" COLLATE ${ix.collations[i]} is application-defined: indexed in PostgreSQL's default order${ix.unique ? '; uniqueness is checked on the exact values' : ''}`);
      keys.push(q + desc);
      fallback.push(q + desc);
      if (desc) plain = false;
    }
  }
  let whereSql: string | null = null;
  if (ix.partial) {
    if (!ix.where) return { skip: 'its WHERE clause could not be read' };
    const r = translateExpr(ix.where, ctx, { condition: true });
    if (!r.ok) return { skip: `WHERE ${ix.where} is not portable (${r.reason})` };
    whereSql = r.sql;
    notes.push(...r.notes);
  }
  if (ix.origin === 'u' && plain && !ix.partial) return { constraint: true };
  if (folded && ix.unique) notes.push('unique on lower()/rtrim(): if PostgreSQL finds duplicates there (lower() folds non-ASCII letters, SQLite\'s NOCASE does not), a plain unique index is created instead, with a warning');
  return {
    constraint: false,
    index: {
      name: ix.name,
      targetName: ix.name,
      unique: ix.unique,
      columns: ix.columns.filter((c): c is string => c !== null),
      whereSql,
      sql: ix.sql,
      ...(plain ? {} : { keys }),
      ...(notes.length ? { notes } : {}),
      ...(folded && ix.unique ? { fallbackKeys: fallback } : {}),
    },
  };
}

/** The profile of a column with no values (an empty table, or a column not profiled). */
export function emptyProfile(rows: number): ColumnProfile {
  return {
    rows,
    nulls: rows,
    integers: 0,
    reals: 0,
    texts: 0,
    blobs: 0,
    minInteger: null,
    maxInteger: null,
    zeroOne: false,
    jsonTexts: 0,
    uuidTexts: 0,
    isoNaiveTexts: 0,
    isoZonedTexts: 0,
    dateTexts: 0,
    maxTextLength: 0,
    numericTexts: 0,
    wholeReals: 0,
    maxScale: 0,
    maxPrecision: 0,
  };
}

/**
 * A foreign key needs comparable types on both sides. When the referenced
 * column became uuid (its values are UUIDs) and the referencing column is
 * text only for lack of evidence (no values, or UUID-shaped ones), the child
 * follows the parent: otherwise PostgreSQL refuses the FK.
 */
function alignForeignKeyTypes(tables: TablePlan[], profiles: Record<string, Record<string, ColumnProfile>>): void {
  for (const t of tables) {
    for (const fk of t.foreignKeys) {
      const ref = tables.find((x) => x.source === fk.refTable) ?? tables.find((x) => x.source.toLowerCase() === fk.refTable.toLowerCase());
      if (!ref) continue;
      const refCols = fk.refColumns.every((c) => c === '') ? (ref.primaryKey ?? []) : fk.refColumns;
      fk.columns.forEach((colName, i) => {
        const child = t.columns.find((c) => c.source === colName);
        const parent = ref.columns.find((c) => c.source.toLowerCase() === (refCols[i] ?? '').toLowerCase());
        if (!child || !parent || parent.converter.kind !== 'uuid' || child.converter.kind === 'uuid') return;
        const p = profiles[t.source]?.[colName];
        const onlyUuids = !p || (p.integers === 0 && p.reals === 0 && p.blobs === 0 && p.uuidTexts === p.texts);
        if (child.converter.kind !== 'text' || !onlyUuids) return;
        child.pgType = parent.pgType;
        child.converter = { kind: 'uuid' };
        child.reason = `${child.reason}; uuid like the column it references (${ref.source}.${parent.source})`;
      });
    }
  }
}

/** The run's policies for NULs and invalid UTF-8, recorded on each text/jsonb column's converter. */
function applyTextPolicies(tables: TablePlan[], opts: PlanOptions): void {
  for (const t of tables) {
    for (const c of t.columns) {
      if (opts.onNul === 'strip' && (c.converter.kind === 'text' || c.converter.kind === 'jsonb')) {
        c.converter = { ...c.converter, onNul: 'strip' };
        c.warnings.push('NUL characters are removed (--on-nul strip)');
      }
      if (opts.onInvalidUtf8 === 'replace' && c.converter.kind === 'text') {
        c.converter = { ...c.converter, onInvalidUtf8: 'replace' };
      }
    }
  }
}
