// Turns what introspection found (and the value profiles) into a migration
// plan: target names, types, converters, keys, constraints. Pure.
import type { SqliteSchema, SqliteTable } from '../sqlite/introspect';
import type { ColumnProfile } from '../sqlite/types';
import type { CheckPlan, ColumnPlan, ForeignKeyPlan, IndexPlan, KeyPlan, MigrationPlan, SkippedObject, TablePlan } from '../types';
import { rowidName } from '../sqlite/reader';
import { assignIdentifiers, derivedName } from './identifiers';
import { mapColumn, translateDefault } from './typemap';

export interface PlanOptions {
  targetSchema: string;
  map: Record<string, string>;
  infer: boolean;
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
  const warnings: string[] = [];
  const tableNames = assignIdentifiers(
    schema.tables.map((t) => t.name),
    'table',
  );
  warnings.push(...tableNames.notes);

  const skipped: SkippedObject[] = [...schema.skipped];
  for (const v of schema.views) skipped.push({ kind: 'view', name: v.name, reason: 'views are not migrated yet: recreate it in PostgreSQL', sql: v.sql });
  for (const tr of schema.triggers)
    skipped.push({
      kind: 'trigger',
      name: tr.name,
      reason: `trigger on "${tr.table}" not migrated: SQLite trigger bodies are not PostgreSQL; rewrite it as a PL/pgSQL trigger`,
      sql: tr.sql,
    });

  const tables = schema.tables.map((t) => planTable(t, tableNames.names.get(t.name)!, profiles[t.name] ?? {}, opts, skipped));
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
  return { source, targetSchema: opts.targetSchema, tables, skipped, warnings };
}

function planTable(
  t: SqliteTable,
  target: string,
  profiles: Record<string, ColumnProfile>,
  opts: PlanOptions,
  skipped: SkippedObject[],
): TablePlan {
  const warnings: string[] = [];
  const copied = t.columns.filter((c) => c.hidden !== 1);
  const colNames = assignIdentifiers(
    copied.map((c) => c.name),
    `column of "${t.name}"`,
  );
  warnings.push(...colNames.notes);

  const columns: ColumnPlan[] = copied.map((c) => {
    const isRowidAlias = t.rowidAlias === c.name;
    const override = opts.map[`${t.name}.${c.name}`] ?? null;
    const profile = profiles[c.name] ?? emptyProfile(t.rowCount);
    const mapped = mapColumn({ table: t.name, column: c, profile, isRowidAlias, override, infer: opts.infer });
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

  const uniques: string[][] = [];
  const indexes: IndexPlan[] = [];
  for (const ix of t.indexes) {
    if (ix.origin === 'pk') continue;
    if (ix.columns.some((c) => c === null || c === 'rowid')) {
      skipped.push({ kind: 'index', name: ix.name, reason: `expression index on "${t.name}" is not translated yet: recreate it in PostgreSQL`, sql: ix.sql });
      continue;
    }
    const cols = ix.columns as string[];
    if (ix.origin === 'u' && !ix.partial) {
      uniques.push(cols);
      continue;
    }
    if (ix.partial && !ix.where) {
      skipped.push({ kind: 'index', name: ix.name, reason: 'partial index whose WHERE clause could not be read', sql: ix.sql });
      continue;
    }
    indexes.push({ name: ix.name, targetName: assignIdentifiers([ix.name], 'index').names.get(ix.name)!, unique: ix.unique, columns: cols, whereSql: ix.where, sql: ix.sql });
  }

  const foreignKeys: ForeignKeyPlan[] = t.foreignKeys.map((fk) => ({
    name: fk.name ?? derivedName(`${target}_${fk.columns.join('_')}`, 'fkey'),
    columns: fk.columns,
    refTable: fk.refTable,
    refColumns: fk.refColumns.map((c) => c ?? ''),
    onDelete: fk.onDelete,
    onUpdate: fk.onUpdate,
    deferrable: fk.deferrable,
  }));

  const checks: CheckPlan[] = t.checks.map((c, i) => ({
    name: c.name ?? derivedName(target, `check${i + 1}`),
    sourceSql: c.expr,
    pgSql: null,
  }));
  for (const c of checks) warnings.push(`CHECK (${c.sourceSql}) is not translated yet: not created in PostgreSQL`);

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

function emptyProfile(rows: number): ColumnProfile {
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
