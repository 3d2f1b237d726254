// Reads the target schema an application's own migrations made: tables, columns (type as
// format_type prints it, base type of domains, enum labels, array element types, NOT NULL,
// defaults, identity/serial), primary keys and foreign keys. Read-only.
import type pg from 'pg';

export interface TargetColumn {
  name: string;
  /** format_type(atttypid, atttypmod): `character varying(20)`, `timestamp without time zone`, `text[]`. */
  type: string;
  /** Base type name (pg_type.typname) after resolving domains: `int4`, `varchar`, `_text`, an enum's name. */
  typname: string;
  /** pg_type.typtype of the base type: b base, e enum, c composite, r range, m multirange. */
  typtype: string;
  /** pg_type.typcategory of the base type: A array, B boolean, D date/time, N numeric, S string, U user… */
  category: string;
  /** For arrays: the element's typname (base, domains resolved), typtype and category. */
  element: { typname: string; typtype: string; category: string; labels: string[] | null; typmod: number } | null;
  /** atttypmod of the column (varchar length + 4, numeric precision/scale, timestamp precision). */
  typmod: number;
  /** Enum labels in sort order, for enum columns. */
  labels: string[] | null;
  notNull: boolean;
  /** DEFAULT expression (pg_get_expr), or null. */
  defaultSql: string | null;
  /** '' none, 'a' GENERATED ALWAYS, 'd' BY DEFAULT. */
  identity: '' | 'a' | 'd';
  /** '' none, 's' stored generated column (cannot be written). */
  generated: '' | 's';
  /** The sequence behind serial/identity (pg_get_serial_sequence), qualified and quoted, or null. */
  sequence: string | null;
}

export interface TargetForeignKey {
  name: string;
  table: string;
  columns: string[];
  refSchema: string;
  refTable: string;
  refColumns: string[];
  /** pg_get_constraintdef: `FOREIGN KEY (a) REFERENCES t(id) ON DELETE CASCADE [NOT VALID]`. */
  definition: string;
  validated: boolean;
}

export interface TargetTable {
  name: string;
  columns: TargetColumn[];
  primaryKey: string[];
  /** Foreign keys declared on this table. */
  foreignKeys: TargetForeignKey[];
  /** CHECK constraints: name and pg_get_constraintdef. */
  checks?: { name: string; definition: string }[];
}

export interface TargetSchema {
  schema: string;
  exists: boolean;
  tables: TargetTable[];
  /** Foreign keys in other schemas/tables that reference a table of this schema. */
  inboundForeignKeys: TargetForeignKey[];
}

interface ColumnRow {
  table_name: string;
  name: string;
  type: string;
  typname: string;
  typtype: string;
  category: string;
  typmod: number;
  labels: string[] | null;
  elem_typname: string | null;
  elem_typtype: string | null;
  elem_category: string | null;
  elem_labels: string[] | null;
  not_null: boolean;
  default_sql: string | null;
  identity: '' | 'a' | 'd';
  generated: '' | 's';
  sequence: string | null;
}

const COLUMNS_SQL = `
WITH RECURSIVE cols AS (
  SELECT c.relname AS table_name, a.attname AS name, a.attnum, format_type(a.atttypid, a.atttypmod) AS type,
         a.atttypid AS typid, a.atttypmod AS typmod, a.attnotnull AS not_null,
         pg_get_expr(d.adbin, d.adrelid) AS default_sql, a.attidentity::text AS identity, a.attgenerated::text AS generated,
         pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) AS sequence
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
),
base AS (
  -- domains resolved to their base type (typmod of the domain wins when the column has none)
  SELECT t.oid AS start, t.oid AS cur, t.typtypmod AS dmod, 0 AS depth FROM pg_type t WHERE t.oid IN (SELECT typid FROM cols)
  UNION ALL
  SELECT b.start, t.typbasetype, CASE WHEN b.dmod >= 0 THEN b.dmod ELSE t.typtypmod END, b.depth + 1
    FROM base b JOIN pg_type t ON t.oid = b.cur WHERE t.typtype = 'd' AND b.depth < 10
),
resolved AS (
  SELECT DISTINCT ON (start) start, cur, dmod FROM base ORDER BY start, depth DESC
)
SELECT cols.table_name, cols.name, cols.type,
       bt.typname, bt.typtype::text AS typtype, bt.typcategory::text AS category,
       CASE WHEN cols.typmod >= 0 THEN cols.typmod ELSE r.dmod END AS typmod,
       (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = bt.oid) AS labels,
       et.typname AS elem_typname, et.typtype::text AS elem_typtype, et.typcategory::text AS elem_category,
       (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = et.oid) AS elem_labels,
       cols.not_null, cols.default_sql, cols.identity, cols.generated, cols.sequence
  FROM cols
  JOIN resolved r ON r.start = cols.typid
  JOIN pg_type bt ON bt.oid = r.cur
  LEFT JOIN pg_type et0 ON et0.oid = bt.typelem AND bt.typcategory = 'A'
  LEFT JOIN pg_type et ON et.oid = CASE WHEN et0.typtype = 'd' THEN et0.typbasetype ELSE et0.oid END
 ORDER BY cols.table_name, cols.attnum`;

const FKS_SQL = `
SELECT k.conname AS name, n.nspname AS schema, c.relname AS table,
       rn.nspname AS ref_schema, rc.relname AS ref_table,
       (SELECT array_agg(a.attname::text ORDER BY x.i) FROM unnest(k.conkey) WITH ORDINALITY AS x(n, i)
          JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.n) AS columns,
       (SELECT array_agg(a.attname::text ORDER BY x.i) FROM unnest(k.confkey) WITH ORDINALITY AS x(n, i)
          JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = x.n) AS ref_columns,
       pg_get_constraintdef(k.oid) AS definition, k.convalidated AS validated
  FROM pg_constraint k
  JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_class rc ON rc.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
 WHERE k.contype = 'f' AND (n.nspname = $1 OR rn.nspname = $1)
 ORDER BY c.relname, k.conname`;

const PK_SQL = `
SELECT c.relname AS table,
       (SELECT array_agg(a.attname::text ORDER BY x.i) FROM unnest(k.conkey) WITH ORDINALITY AS x(n, i)
          JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.n) AS columns
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE k.contype = 'p' AND n.nspname = $1`;

export async function introspectTarget(client: pg.ClientBase, schema: string): Promise<TargetSchema> {
  const exists = ((await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema])).rowCount ?? 0) > 0;
  if (!exists) return { schema, exists, tables: [], inboundForeignKeys: [] };
  const cols = (await client.query<ColumnRow>(COLUMNS_SQL, [schema])).rows;
  const fks = (
    await client.query<{
      name: string;
      schema: string;
      table: string;
      ref_schema: string;
      ref_table: string;
      columns: string[];
      ref_columns: string[];
      definition: string;
      validated: boolean;
    }>(FKS_SQL, [schema])
  ).rows;
  const pks = (await client.query<{ table: string; columns: string[] }>(PK_SQL, [schema])).rows;
  const checks = (
    await client.query<{ table: string; name: string; definition: string }>(
      `SELECT c.relname AS table, k.conname AS name, pg_get_constraintdef(k.oid) AS definition FROM pg_constraint k
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE k.contype = 'c' AND n.nspname = $1 ORDER BY 1, 2`,
      [schema],
    )
  ).rows;
  const tables = new Map<string, TargetTable>();
  for (const r of cols) {
    let t = tables.get(r.table_name);
    if (!t) tables.set(r.table_name, (t = { name: r.table_name, columns: [], primaryKey: [], foreignKeys: [] }));
    t.columns.push({
      name: r.name,
      type: r.type,
      typname: r.typname,
      typtype: r.typtype,
      category: r.category,
      typmod: r.typmod,
      labels: r.labels,
      element: r.elem_typname
        ? { typname: r.elem_typname, typtype: r.elem_typtype ?? 'b', category: r.elem_category ?? 'U', labels: r.elem_labels, typmod: r.typmod }
        : null,
      notNull: r.not_null,
      defaultSql: r.default_sql,
      identity: r.identity,
      generated: r.generated,
      sequence: r.sequence,
    });
  }
  for (const p of pks) {
    const t = tables.get(p.table);
    if (t) t.primaryKey = p.columns;
  }
  for (const k of checks) {
    const t = tables.get(k.table);
    if (t) (t.checks ??= []).push({ name: k.name, definition: k.definition });
  }
  const inbound: TargetForeignKey[] = [];
  for (const f of fks) {
    const fk: TargetForeignKey = {
      name: f.name,
      table: f.table,
      columns: f.columns,
      refSchema: f.ref_schema,
      refTable: f.ref_table,
      refColumns: f.ref_columns,
      definition: f.definition,
      validated: f.validated,
    };
    if (f.schema === schema) tables.get(f.table)?.foreignKeys.push(fk);
    else inbound.push(fk);
  }
  return { schema, exists, tables: [...tables.values()], inboundForeignKeys: inbound };
}
